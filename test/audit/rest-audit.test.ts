import type { AuditEvent, Bundle, Observation, Patient } from 'fhir/r4';
import request from 'supertest';
import { type Caller, UNRESTRICTED } from '../../server/access/caller.js';
import { FhirError } from '../../server/fhir/outcome.js';
import { handleFhirRequest } from '../../server/pipeline/fhir-request.js';
import type { FhirRequest, FhirResponse } from '../../server/rest/types.js';
import { BACKENDS, reportBackends } from '../support/backends.js';
import { openTestServer, schemaValidator, type TestServer } from '../support/fhir-app.js';
import { decodedQuery, eventsSince, storedEvents, subtypeOf, whats } from './audit-support.js';

reportBackends();

const BASE = 'https://fhir.example.org/fhir';

/** A user of a partner organization, through an app: the agents every event of theirs must name. */
const NURSE: Caller = {
  kind: 'user',
  userId: 'user-nurse-1',
  clientId: 'ehr-app',
  practitioner: 'pract-1',
  organization: 'org-home-care',
  scopes: [{ context: 'user', resourceType: '*', permissions: ['c', 'r', 'u', 'd', 's'], text: 'user/*.cruds' }],
};

describe.each(BACKENDS)('every FHIR interaction writes one AuditEvent, on $name', (backend) => {
  let server: TestServer;
  let patient: Patient;
  let observation: Observation;
  beforeAll(async () => {
    server = await openTestServer(backend);
  });
  afterAll(async () => server?.close());

  const call = (method: string, path: string, init: Partial<FhirRequest> = {}): Promise<FhirResponse> =>
    handleFhirRequest({ method, path, query: {}, headers: {}, baseUrl: BASE, caller: NURSE, ...init }, server.context);

  /** Runs `work` and returns the events it stored (exactly one is expected of every request below). */
  async function recorded(work: () => Promise<unknown>): Promise<AuditEvent[]> {
    const before = (await storedEvents(server.db)).length;
    await work().catch((error: unknown) => {
      if (!(error instanceof FhirError)) throw error;
    });
    return eventsSince(server.db, before);
  }

  it('create: subtype create, action C, success, the user, organization and app as agents, the patient and the version written', async () => {
    const [event] = await recorded(async () => {
      patient = (await call('POST', 'Patient', { body: { resourceType: 'Patient', active: true } })).body as Patient;
    });
    expect(event).toMatchObject({
      type: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest' },
      subtype: [{ system: 'http://hl7.org/fhir/restful-interaction', code: 'create' }],
      action: 'C',
      outcome: '0',
      source: { observer: { display: 'CCP Exchange' } },
    });
    expect(event.outcomeDesc).toBeUndefined();
    expect(event.agent).toEqual([
      {
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'AUT', display: 'author (originator)' }] },
        who: { reference: 'Practitioner/pract-1', identifier: { system: 'http://ccp-exchange.org/fhir/sid/user-id', value: 'user-nurse-1' } },
        altId: 'user-nurse-1',
        requestor: true,
      },
      {
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'RESP', display: 'responsible party' }] },
        who: { reference: 'Organization/org-home-care' },
        requestor: false,
      },
      {
        type: { coding: [{ system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110150', display: 'Application' }] },
        who: { identifier: { system: 'http://ccp-exchange.org/fhir/sid/client-id', value: 'ehr-app' } },
        requestor: false,
      },
    ]);
    expect(whats(event, '1')).toEqual([`Patient/${patient.id}`]);
    expect(whats(event, '4')).toEqual([`Patient/${patient.id}/_history/1`]);
    expect(Math.abs(Date.parse(event.recorded) - Date.now())).toBeLessThan(60_000);
  });

  it('create with Prefer return=minimal still names the patient the new resource is about', async () => {
    const events = await recorded(async () => {
      const response = await call('POST', 'Observation', {
        headers: { prefer: 'return=minimal' },
        body: { resourceType: 'Observation', status: 'final', code: { text: 'weight' }, subject: { reference: `Patient/${patient.id}` } },
      });
      const id = /Observation\/([^/]+)\//.exec(response.headers!.Location)![1];
      observation = (await server.context.store.read('Observation', id)).kind === 'found' ? ({ id } as Observation) : ({} as Observation);
    });
    expect(events).toHaveLength(1);
    expect(whats(events[0], '1')).toEqual([`Patient/${patient.id}`]);
    expect(whats(events[0], '4')).toEqual([`Observation/${observation.id}/_history/1`]);
  });

  it('read: subtype read, action R, the user as information recipient, the patient read about', async () => {
    const events = await recorded(() => call('GET', `Observation/${observation.id}`));
    expect(events).toHaveLength(1);
    expect(subtypeOf(events[0])).toBe('read');
    expect(events[0].action).toBe('R');
    expect(events[0].agent[0].type?.coding?.[0].code).toBe('IRCP');
    expect(whats(events[0], '1')).toEqual([`Patient/${patient.id}`]);
    expect(whats(events[0], '4')).toEqual([`Observation/${observation.id}/_history/1`]);
  });

  it('search: one event, subtype search-type, action E, the query base64-encoded, the patients of the matches', async () => {
    const other = (await call('POST', 'Patient', { body: { resourceType: 'Patient' } })).body as Patient;
    await call('POST', 'Observation', { body: { resourceType: 'Observation', status: 'final', code: { text: 'weight' }, subject: { reference: `Patient/${other.id}` } } });
    const events = await recorded(() => call('GET', 'Observation', { query: { status: ['final'], _count: ['5'] } }));
    expect(events).toHaveLength(1);
    expect(subtypeOf(events[0])).toBe('search-type');
    expect(events[0].action).toBe('E');
    expect(decodedQuery(events[0])).toBe('Observation?status=final&_count=5');
    expect(whats(events[0], '1')).toEqual([`Patient/${patient.id}`, `Patient/${other.id}`].sort());
    // A search names its patients, not each match.
    expect(whats(events[0], '4')).toEqual([]);
  });

  it('a failed write leaves nothing of itself but its failure event (a transaction whose second entry fails)', async () => {
    const countPatients = async () => (await server.db.query("SELECT count(*)::int AS n FROM resource WHERE resource_type = 'Patient'"))[0].n;
    const patientsBefore = await countPatients();
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: 'urn:uuid:7c3f0a8e-0a56-4a55-9d0e-1f7d7b1b2c01', resource: { resourceType: 'Patient' }, request: { method: 'POST', url: 'Patient' } },
        { request: { method: 'GET', url: 'Patient/does-not-exist' } },
      ],
    };
    const events = await recorded(() => call('POST', '', { body: bundle }));
    expect(await countPatients()).toBe(patientsBefore);
    expect(events).toHaveLength(1);
    expect(subtypeOf(events[0])).toBe('transaction');
    expect(events[0].outcome).toBe('4');
    expect(events[0].outcomeDesc).toBe('404 not-found');
    // Nothing of the rolled-back entry is named: it never existed.
    expect(whats(events[0], '4')).toEqual([]);
    expect(whats(events[0], '1')).toEqual([]);
  });

  it('a transaction Bundle is one event naming every resource written and their patients; its entries get none', async () => {
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: 'urn:uuid:0b7d1f52-6a7e-4c1e-8a8e-3f2f9a6c1d02', resource: { resourceType: 'Patient' }, request: { method: 'POST', url: 'Patient' } },
        {
          resource: { resourceType: 'Observation', status: 'final', code: { text: 'bp' }, subject: { reference: 'urn:uuid:0b7d1f52-6a7e-4c1e-8a8e-3f2f9a6c1d02' } } as Observation,
          request: { method: 'POST', url: 'Observation' },
        },
      ],
    };
    let result: Bundle | undefined;
    const events = await recorded(async () => {
      result = (await call('POST', '', { body: bundle, headers: { prefer: 'return=minimal' } })).body as Bundle;
    });
    const [patientLocation, observationLocation] = result!.entry!.map((entry) => entry.response!.location!);
    const newPatient = patientLocation.split('/')[1];
    expect(events).toHaveLength(1);
    expect(subtypeOf(events[0])).toBe('transaction');
    expect(events[0].outcome).toBe('0');
    expect(whats(events[0], '4')).toEqual([patientLocation, observationLocation].sort());
    expect(whats(events[0], '1')).toEqual([`Patient/${newPatient}`]);
  });

  it('a batch Bundle is one event, subtype batch, with what its entries read and wrote', async () => {
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'batch',
      entry: [
        { request: { method: 'GET', url: `Patient/${patient.id}` } },
        { request: { method: 'GET', url: 'Patient/not-there' } },
      ],
    };
    const events = await recorded(() => call('POST', '', { body: bundle }));
    expect(events).toHaveLength(1);
    expect(subtypeOf(events[0])).toBe('batch');
    expect(whats(events[0], '4')).toEqual([`Patient/${patient.id}/_history/1`]);
  });

  it("a batch entry that fails after writing leaves nothing (its savepoint), while the batch and its one event commit", async () => {
    const launched: Caller = {
      kind: 'user',
      userId: 'user-patient-app',
      clientId: 'patient-app',
      patient: patient.id,
      scopes: [{ context: 'patient', resourceType: 'Observation', permissions: ['c', 'r', 's'], text: 'patient/Observation.crs' }],
    };
    const stranger = (await call('POST', 'Patient', { body: { resourceType: 'Patient' } })).body as Patient;
    const observationOf = (id: string) => ({ resourceType: 'Observation', status: 'final', code: { text: 'batch-savepoint' }, subject: { reference: `Patient/${id}` } });
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'batch',
      entry: [
        { resource: observationOf(patient.id!) as Observation, request: { method: 'POST', url: 'Observation' } },
        // Written, then found outside the launch patient's compartment: refused (403) and undone.
        { resource: observationOf(stranger.id!) as Observation, request: { method: 'POST', url: 'Observation' } },
      ],
    };
    let reply: Bundle | undefined;
    const events = await recorded(async () => {
      reply = (await call('POST', '', { body: bundle, caller: launched })).body as Bundle;
    });
    expect(reply!.entry!.map((entry) => entry.response!.status)).toEqual(['201 Created', '403']);
    const subjects = await server.db.query<{ subject: string }>(
      "SELECT content->'subject'->>'reference' AS subject FROM resource WHERE resource_type = 'Observation' AND content->'code'->>'text' = 'batch-savepoint'",
    );
    expect(subjects.map((row) => row.subject)).toEqual([`Patient/${patient.id}`]);
    expect(events).toHaveLength(1);
    expect([subtypeOf(events[0]), events[0].outcome]).toEqual(['batch', '0']);
    expect(whats(events[0], '4')).toEqual([reply!.entry![0].response!.location!]);
    expect(whats(events[0], '1')).toEqual([`Patient/${patient.id}`]);
  });

  it('a savepoint undoes only its own writes, and the transaction goes on', async () => {
    const marker = `savepoint-${Date.now()}`;
    await server.context.store.transaction(async (tx) => {
      await tx
        .savepoint(async (inner) => {
          await inner.create({ resourceType: 'Patient', identifier: [{ system: 'urn:test', value: `${marker}-undone` }] } as Patient);
          throw new Error('undo this');
        })
        .catch(() => undefined);
      await tx.create({ resourceType: 'Patient', identifier: [{ system: 'urn:test', value: `${marker}-kept` }] } as Patient);
    });
    const kept = await server.db.query<{ value: string }>(
      "SELECT content->'identifier'->0->>'value' AS value FROM resource WHERE resource_type = 'Patient' AND content->'identifier'->0->>'value' LIKE $1",
      [`${marker}%`],
    );
    expect(kept.map((row) => row.value)).toEqual([`${marker}-kept`]);
  });

  it('update and delete: subtypes update (U) and delete (D); the delete names the version it wrote and the patient it ended', async () => {
    const current = (await call('GET', `Observation/${observation.id}`)).body as Observation;
    const [updated] = await recorded(() => call('PUT', `Observation/${observation.id}`, { body: { ...current, status: 'amended' } }));
    expect([subtypeOf(updated), updated.action]).toEqual(['update', 'U']);
    expect(whats(updated, '4')).toEqual([`Observation/${observation.id}/_history/2`]);
    const [deleted] = await recorded(() => call('DELETE', `Observation/${observation.id}`));
    expect([subtypeOf(deleted), deleted.action, deleted.outcome]).toEqual(['delete', 'D', '0']);
    expect(whats(deleted, '4')).toEqual([`Observation/${observation.id}/_history/3`]);
    expect(whats(deleted, '1')).toEqual([`Patient/${patient.id}`]);
  });

  it('history and vread: subtypes history-instance and vread, action R', async () => {
    const [history] = await recorded(() => call('GET', `Observation/${observation.id}/_history`));
    expect([subtypeOf(history), history.action]).toEqual(['history-instance', 'R']);
    expect(whats(history, '1')).toEqual([`Patient/${patient.id}`]);
    const [vread] = await recorded(() => call('GET', `Observation/${observation.id}/_history/1`));
    expect([subtypeOf(vread), vread.action]).toEqual(['vread', 'R']);
  });

  it('a failed read is recorded with a minor-failure outcome naming what was asked for', async () => {
    const events = await recorded(() => call('GET', 'Patient/no-such-patient'));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ action: 'R', outcome: '4', outcomeDesc: '404 not-found' });
    expect(whats(events[0], '4')).toEqual(['Patient/no-such-patient']);
  });

  it('AuditEvents are append-only: update, patch and delete are 405 (and the attempt is recorded); create joins the trail', async () => {
    const created = (await call('POST', 'AuditEvent', { body: { resourceType: 'AuditEvent', type: { code: 'x' }, recorded: '2026-01-01T00:00:00Z', agent: [{ requestor: true }], source: { observer: { display: 'a client' } } } })).body as AuditEvent;
    for (const [method, body] of [['PUT', created], ['PATCH', [{ op: 'replace', path: '/outcome', value: '0' }]], ['DELETE', undefined]] as const) {
      let status = 0;
      const events = await recorded(() =>
        call(method, `AuditEvent/${created.id}`, { body, headers: method === 'PATCH' ? { 'content-type': 'application/json-patch+json' } : {} }).catch((error: FhirError) => {
          status = error.status;
          throw error;
        }),
      );
      expect(status).toBe(405);
      expect(events).toHaveLength(1);
      expect(events[0].outcome).toBe('4');
    }
    expect((await server.context.store.read('AuditEvent', created.id!)).kind).toBe('found');
  });

  it('the server itself (import command, AUTH_DISABLED) is the requestor of its requests', async () => {
    const [event] = await recorded(() => call('GET', `Patient/${patient.id}`, { caller: UNRESTRICTED }));
    expect(event.agent).toEqual([
      expect.objectContaining({ who: { display: expect.stringContaining('CCP Exchange') }, requestor: true }),
    ]);
  });

  it('every event recorded so far is a valid R4 AuditEvent (official JSON schema)', async () => {
    const events = await storedEvents(server.db);
    expect(events.length).toBeGreaterThan(15);
    for (const event of events) expect({ id: event.id, issues: schemaValidator().validate(event as never, 'AuditEvent') }).toEqual({ id: event.id, issues: [] });
  });

  it('the CapabilityStatement is public and not audited', async () => {
    expect(await recorded(() => call('GET', 'metadata'))).toHaveLength(0);
  });

  it('a read whose AuditEvent cannot be stored is a 500 with no data', async () => {
    const app = request(server.app);
    await server.db.exec('ALTER TABLE audit_chain ADD CONSTRAINT test_refuse_all CHECK (seq < 0) NOT VALID');
    try {
      const response = await app.get(`/fhir/Patient/${patient.id}`);
      expect(response.status).toBe(500);
      expect(response.body.resourceType).toBe('OperationOutcome');
      expect(response.text).not.toContain(patient.id);
    } finally {
      await server.db.exec('ALTER TABLE audit_chain DROP CONSTRAINT test_refuse_all');
    }
    expect((await request(server.app).get(`/fhir/Patient/${patient.id}`)).status).toBe(200);
  });
});
