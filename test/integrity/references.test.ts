import type { Bundle, OperationOutcome, Resource } from 'fhir/r4';
import { type Caller, UNRESTRICTED } from '../../server/access/caller.js';
import { CAREPLAN_CATEGORY, CCP_CODE } from '../../server/conformance/consent-vocabulary.js';
import { handleFhirRequest } from '../../server/pipeline/fhir-request.js';
import type { FhirRequest, FhirResponse } from '../../server/rest/types.js';
import { BACKENDS, reportBackends } from '../support/backends.js';
import { testUser } from '../support/callers.js';
import { openTestServer, type TestServer } from '../support/fhir-app.js';
import { registrationConsent } from '../support/registration.js';
import { rejection } from '../support/thrown.js';

reportBackends();

const BASE = 'https://ccp.example.org/fhir';

/** A partner registered (modify) for p1's plan only: p3's plan is hidden from it. */
const ORG_A = testUser('ua', 'A');

const plan = (id: string, patient: string, extra: object = {}): Resource =>
  ({
    resourceType: 'CarePlan',
    id,
    status: 'active',
    intent: 'plan',
    category: [{ coding: [{ system: 'http://example.org/plan-kind', code: 'other' }] }],
    subject: { reference: `Patient/${patient}` },
    ...extra,
  }) as Resource;
const goal = (id: string, patient: string): Resource =>
  ({ resourceType: 'Goal', id, lifecycleStatus: 'active', description: { text: 'walk daily' }, subject: { reference: `Patient/${patient}` } }) as Resource;

/** Written in an order where every reference names something already there, as the server now requires. */
const WORLD: Resource[] = [
  ...['host', 'A'].map((id) => ({ resourceType: 'Organization', id, active: true }) as Resource),
  ...['p1', 'p3', 'lonely', 'audited'].map((id) => ({ resourceType: 'Patient', id, gender: 'female' }) as Resource),
  { resourceType: 'Practitioner', id: 'dr1', active: true } as Resource,
  goal('g1', 'p1'),
  goal('g3', 'p3'),
  goal('gdel', 'p1'),
  plan('cp1', 'p1', { goal: [{ reference: 'Goal/g1' }] }),
  plan('cp3', 'p3', { category: [{ coding: [{ system: CAREPLAN_CATEGORY, code: CCP_CODE }] }] }),
  { ...registrationConsent('p1', 'A', 'modify', 'active', { start: '2020-01-01' }), id: 'R1' },
];

function outcomeOf(error: { outcome: OperationOutcome }): { diagnostics: string[]; expression: string[] } {
  return { diagnostics: error.outcome.issue.map((i) => i.diagnostics ?? ''), expression: error.outcome.issue.flatMap((i) => i.expression ?? []) };
}

describe.each(BACKENDS)('referential integrity on $name', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await openTestServer(backend, { hostingOrganization: 'host' });
    for (const resource of WORLD) await call(UNRESTRICTED, 'PUT', `${resource.resourceType}/${resource.id}`, resource);
    await call(UNRESTRICTED, 'DELETE', 'Goal/gdel');
  });
  afterAll(async () => server?.close());

  function call(caller: Caller, method: string, path: string, body?: unknown, init: Partial<FhirRequest> = {}): Promise<FhirResponse> {
    return handleFhirRequest({ method, path, query: {}, headers: {}, baseUrl: BASE, caller, body, ...init }, server.context);
  }
  async function exists(path: string): Promise<boolean> {
    const [type, id] = path.split('/');
    return (await server.context.store.read(type, id)).kind === 'found';
  }

  it('refuses a dangling reference with 422, naming the element with its index and the reference', async () => {
    const error = await rejection(call(UNRESTRICTED, 'POST', 'CarePlan', plan('x', 'p1', { goal: [{ reference: 'Goal/g1' }, { reference: 'Goal/nowhere' }] })));
    expect(error.status).toBe(422);
    expect(outcomeOf(error)).toEqual({ diagnostics: ['CarePlan.goal[1] refers to Goal/nowhere: Goal/nowhere is not known'], expression: ['CarePlan.goal[1]'] });
    expect(error.outcome.issue[0].code).toBe('not-found');
  });

  it('names every dangling reference of a write at once, inside contained resources and datatypes too', async () => {
    const error = await rejection(
      call(UNRESTRICTED, 'POST', 'CarePlan', plan('x', 'ghost', {
        contained: [{ resourceType: 'Goal', id: 'c', lifecycleStatus: 'active', description: { text: 'x' }, subject: { reference: 'Patient/p1' }, expressedBy: { reference: 'Practitioner/nobody' } }],
        note: [{ text: 'n', authorReference: { reference: 'Practitioner/dr1' } }, { text: 'm', authorReference: { reference: `${BASE}/Practitioner/gone` } }],
      })),
    );
    expect(error.status).toBe(422);
    expect(outcomeOf(error).expression).toEqual(['CarePlan.subject', 'CarePlan.contained[0].expressedBy', 'CarePlan.note[1].author']);
  });

  it('refuses a reference to a type its element does not allow, even when that resource exists', async () => {
    const error = await rejection(call(UNRESTRICTED, 'POST', 'CarePlan', plan('x', 'p1', { subject: { reference: 'Practitioner/dr1' } })));
    // The base-definition validation (every write) sees the wrong target type first: a 400, one issue.
    expect(error.status).toBe(400);
    expect(error.outcome.issue).toHaveLength(1);
    expect(outcomeOf(error).expression[0]).toMatch(/^CarePlan\.subject(\.reference)?$/);
    expect(outcomeOf(error).diagnostics[0]).toMatch(/Practitioner\/dr1.*Patient, Group only/);
  });

  it('refuses a reference to a deleted resource, saying so', async () => {
    const error = await rejection(call(UNRESTRICTED, 'POST', 'CarePlan', plan('x', 'p1', { goal: [{ reference: 'Goal/gdel/_history/1' }] })));
    expect(error.status).toBe(422);
    expect(outcomeOf(error).diagnostics).toEqual(['CarePlan.goal[0] refers to Goal/gdel/_history/1: Goal/gdel has been deleted']);
  });

  it('checks updates and patched results as creates; leaves alone what is not a local reference', async () => {
    const update = await rejection(call(UNRESTRICTED, 'PUT', 'CarePlan/cp1', plan('cp1', 'p1', { goal: [{ reference: 'Goal/nowhere' }] })));
    expect(update.status).toBe(422);
    const patched = await rejection(
      call(UNRESTRICTED, 'PATCH', 'CarePlan/cp1', [{ op: 'add', path: '/goal/-', value: { reference: 'Goal/nowhere' } }], { headers: { 'content-type': 'application/json-patch+json' } }),
    );
    expect(patched.status).toBe(422);
    expect(outcomeOf(patched).expression).toEqual(['CarePlan.goal[1]']);
    // Contained, other servers', logical and unresolved urn references are not this server's to check.
    const fine = await call(UNRESTRICTED, 'POST', 'Observation', {
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'weight' },
      contained: [{ resourceType: 'Practitioner', id: 'c1' }],
      subject: { reference: 'Patient/p1' },
      performer: [{ reference: '#c1' }, { reference: 'https://elsewhere.example.org/fhir/Practitioner/9' }, { identifier: { system: 'urn:x', value: '1' } }],
      focus: [{ reference: 'urn:uuid:3c7d9d8e-3b5a-4d7e-9d6c-2a1b0f4e5d6c' }],
    });
    expect(fine.status).toBe(201);
  });

  it('resolves through the caller\'s own visibility: a target hidden by consent reads exactly like a missing one', async () => {
    const observation = (focus: string) => ({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/p1' }, focus: [{ reference: focus }] });
    expect((await call(ORG_A, 'POST', 'Observation', observation('Goal/g1'))).status).toBe(201);
    const hidden = await rejection(call(ORG_A, 'POST', 'Observation', observation('Goal/g3')));
    const missing = await rejection(call(ORG_A, 'POST', 'Observation', observation('Goal/g4')));
    expect(hidden.status).toBe(missing.status);
    expect(JSON.stringify(hidden.outcome).replaceAll('g3', 'g4')).toBe(JSON.stringify(missing.outcome));
    // The same target, for a caller that may see it, is there.
    expect((await call(UNRESTRICTED, 'POST', 'Observation', observation('Goal/g3'))).status).toBe(201);
    // And the partner cannot learn that p3's plan refers to Patient/p3 by trying to delete it either.
    const refused = await rejection(call(UNRESTRICTED, 'DELETE', 'Patient/p3'));
    expect(refused.status).toBe(409);
  });

  it('resolves a transaction\'s references against its own entries: urn:uuid, and Type/id of entries created by PUT, in any order', async () => {
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: 'urn:uuid:0b1f1c57-8a7f-4a39-9d4b-5f0d8c7c1a01', resource: plan('x', 'ignored', { subject: { reference: 'urn:uuid:0b1f1c57-8a7f-4a39-9d4b-5f0d8c7c1a02' }, goal: [{ reference: 'Goal/bundle-goal' }] }), request: { method: 'POST', url: 'CarePlan' } },
        { fullUrl: 'urn:uuid:0b1f1c57-8a7f-4a39-9d4b-5f0d8c7c1a02', resource: { resourceType: 'Patient', gender: 'male' } as Resource, request: { method: 'POST', url: 'Patient' } },
        { resource: goal('bundle-goal', 'p1'), request: { method: 'PUT', url: 'Goal/bundle-goal' } },
      ],
    };
    const response = await call(UNRESTRICTED, 'POST', '', bundle);
    expect((response.body as Bundle).entry!.map((e) => e.response!.status)).toEqual(['201 Created', '201 Created', '201 Created']);
    const planId = (response.body as Bundle).entry![0].resource!.id!;
    expect(await exists(`CarePlan/${planId}`)).toBe(true);
  });

  it('fails a transaction as a whole on one dangling reference, naming the entry and element', async () => {
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { resource: { resourceType: 'Patient', id: 'never-stored', gender: 'male' } as Resource, request: { method: 'PUT', url: 'Patient/never-stored' } },
        { resource: plan('x', 'never-stored', { goal: [{ reference: 'Goal/nowhere' }] }), request: { method: 'POST', url: 'CarePlan' } },
      ],
    };
    const error = await rejection(call(UNRESTRICTED, 'POST', '', bundle));
    expect(error.status).toBe(422);
    expect(outcomeOf(error)).toEqual({
      diagnostics: ['Bundle.entry[1] (POST CarePlan): CarePlan.goal[0] refers to Goal/nowhere: Goal/nowhere is not known'],
      expression: ['Bundle.entry[1].resource.goal[0]'],
    });
    expect(await exists('Patient/never-stored')).toBe(false);
  });

  it('refuses to delete a resource others refer to (409 naming one referrer and its element), also conditionally', async () => {
    const error = await rejection(call(UNRESTRICTED, 'DELETE', 'Goal/g1'));
    expect(error.status).toBe(409);
    expect(outcomeOf(error).diagnostics).toEqual(['Goal/g1 cannot be deleted: CarePlan/cp1 (CarePlan.goal[0]) refers to it; remove the reference first']);
    const conditional = await rejection(call(UNRESTRICTED, 'DELETE', 'Goal', undefined, { query: { _id: ['g1'] } }));
    expect(conditional.status).toBe(409);
    expect(await exists('Goal/g1')).toBe(true);
  });

  it('lets a transaction delete a referrer and its target together, but not a target an entry still refers to', async () => {
    await call(UNRESTRICTED, 'PUT', 'Goal/pair-goal', goal('pair-goal', 'lonely'));
    await call(UNRESTRICTED, 'PUT', 'CarePlan/pair-plan', plan('pair-plan', 'lonely', { goal: [{ reference: 'Goal/pair-goal' }] }));
    const deleteTarget: Bundle = { resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'DELETE', url: 'Goal/pair-goal' } }] };
    expect((await rejection(call(UNRESTRICTED, 'POST', '', deleteTarget))).status).toBe(409);
    // A Bundle that deletes a resource another entry refers to: the reference finds a tombstone.
    const referToDeleted: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { request: { method: 'DELETE', url: 'Goal/pair-goal' } },
        { request: { method: 'DELETE', url: 'CarePlan/pair-plan' } },
        { resource: plan('x', 'lonely', { goal: [{ reference: 'Goal/pair-goal' }] }), request: { method: 'POST', url: 'CarePlan' } },
      ],
    };
    const refused = await rejection(call(UNRESTRICTED, 'POST', '', referToDeleted));
    expect(refused.status).toBe(422);
    expect(outcomeOf(refused).diagnostics).toEqual(['Bundle.entry[2] (POST CarePlan): CarePlan.goal[0] refers to Goal/pair-goal: Goal/pair-goal has been deleted']);
    const both: Bundle = { resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'DELETE', url: 'Goal/pair-goal' } }, { request: { method: 'DELETE', url: 'CarePlan/pair-plan' } }] };
    expect((await call(UNRESTRICTED, 'POST', '', both)).status).toBe(200);
    expect(await exists('Goal/pair-goal')).toBe(false);
  });

  it('never lets the audit trail or a Provenance hold a delete back, nor refuses an AuditEvent naming a deleted resource', async () => {
    // Reading the patient records an AuditEvent naming it; a Provenance names it as its target.
    expect((await call(UNRESTRICTED, 'GET', 'Patient/audited')).status).toBe(200);
    const provenance = { resourceType: 'Provenance', target: [{ reference: 'Patient/audited' }], recorded: '2024-01-01T00:00:00Z', agent: [{ who: { reference: 'Practitioner/dr1' } }] };
    expect((await call(UNRESTRICTED, 'POST', 'Provenance', provenance)).status).toBe(201);
    expect((await call(UNRESTRICTED, 'DELETE', 'Patient/audited')).status).toBe(200);
    const event = {
      resourceType: 'AuditEvent',
      type: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest' },
      recorded: '2024-01-01T00:00:00Z',
      agent: [{ requestor: true, who: { reference: 'Practitioner/dr1' } }],
      source: { observer: { reference: 'Practitioner/dr1' } },
      entity: [{ what: { reference: 'Patient/audited' } }],
    };
    expect((await call(UNRESTRICTED, 'POST', 'AuditEvent', event)).status).toBe(201);
  });

  it('a write naming a resource and that resource\'s delete, racing, never both commit', async () => {
    const outcomes: string[] = [];
    for (let i = 0; i < 12; i++) {
      const patient = (await call(UNRESTRICTED, 'POST', 'Patient', { resourceType: 'Patient' })).body!.id!;
      const observation = { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: `Patient/${patient}` } };
      const settle = (promise: Promise<FhirResponse>) => promise.then((r) => r.status, (e: { status?: number }) => e.status ?? 500);
      const [written, deleted] = await Promise.all([settle(call(UNRESTRICTED, 'POST', 'Observation', observation)), settle(call(UNRESTRICTED, 'DELETE', `Patient/${patient}`))]);
      outcomes.push(`${written}/${deleted}`);
      // Either the Observation went first (the delete is then refused) or the delete did (the write then is).
      expect([`201/409`, `422/200`]).toContain(`${written}/${deleted}`);
      expect(await exists(`Patient/${patient}`)).toBe(written === 201);
    }
    expect(outcomes).toHaveLength(12);
  });

  it('with DELETE_REFERENCED the delete goes through; with REFERENTIAL_INTEGRITY off nothing is checked', async () => {
    const lenient = await openTestServer(backend, { deleteReferenced: true }, { db: server.db, close: async () => undefined });
    const deleted = await handleFhirRequest({ method: 'DELETE', path: 'Goal/g1', query: {}, headers: {}, baseUrl: BASE, caller: UNRESTRICTED }, lenient.context);
    expect(deleted.status).toBe(200);
    // Writes are still checked.
    expect((await rejection(handleFhirRequest({ method: 'POST', path: 'Goal', query: {}, headers: {}, baseUrl: BASE, caller: UNRESTRICTED, body: goal('x', 'nobody') }, lenient.context))).status).toBe(422);
    const off = await openTestServer(backend, { referentialIntegrity: false }, { db: server.db, close: async () => undefined });
    const created = await handleFhirRequest({ method: 'POST', path: 'Goal', query: {}, headers: {}, baseUrl: BASE, caller: UNRESTRICTED, body: goal('x', 'nobody') }, off.context);
    expect(created.status).toBe(201);
  });
});
