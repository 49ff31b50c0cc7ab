import type { Resource } from 'fhir/r4';
import { UNRESTRICTED } from '../../../server/access/caller.js';
import { clientCaller } from '../../../server/access/callers.js';
import { ClientStore } from '../../../server/auth/clients.js';
import { type BulkExportEngine, createBulkExports } from '../../../server/export/engine/engine.js';
import { handleFhirRequest } from '../../../server/pipeline/fhir-request.js';
import { R4_REGISTRY } from '../../../server/search/registry.js';
import { BACKENDS, reportBackends } from '../../support/backends.js';
import {
  buildWorld,
  compartmentsOf,
  type ConsentSpec,
  key,
  type PatientSpec,
  visible,
  type World,
  WORLD_TAG_SYSTEM,
  worldTransaction,
} from '../../support/consent-world.js';
import { openTestServer, type TestServer } from '../../support/fhir-app.js';
import { finish, SERVER, spec, step } from './support.js';

reportBackends();

const patient: PatientSpec = {
  gender: 'female',
  org1: null,
  carePlans: [{ status: 'active', performer: null, goalOf: null }],
  goals: 1,
  conditions: [{ asserter: null }],
  careTeams: [{ participant: null }],
  tasks: 1,
  provenance: [{ plan: true, patient: false }],
  documents: [{ author: null }],
  observations: 1,
};

const registration = (p: number): ConsentSpec => ({ kind: 'registration', patient: p, status: 'active', org: 1, actions: ['access'], period: 'current', task: false });

/**
 * org0 hosts; org1 is registered (approved, current) for pat0 and pat1, but pat1 withholds the plan from org1 by a
 * directive; pat2 has no registration. Each patient has a plan, goal, condition, team, task, provenance, document,
 * observation (test/support/consent-world.ts).
 */
const WORLD: World = buildWorld(
  {
    organizations: 3,
    practitioners: [1, 2],
    patients: [patient, patient, patient],
    noPatientRows: ['Task', 'DocumentReference'],
    consents: [
      registration(0),
      registration(1),
      { kind: 'deny', patient: 1, status: 'active', actors: [{ org: 1 }], exceptions: [], period: 'open', scope: 'patient-privacy' },
    ],
    callers: [{ kind: 'system', org: 1 }],
    partner: 1,
    planNotice: false,
  },
  'bx',
  Date.now(),
);

const TYPES = [...new Set(WORLD.resources.map((r) => r.resourceType))];
/** Every type narrowed to this world's rows, by the tag each carries. */
const ONLY_WORLD = Object.fromEntries(TYPES.map((type) => [type, [{ _tag: [`${WORLD_TAG_SYSTEM}|${WORLD.prefix}`] }]]));

describe.each(BACKENDS)('Bulk Data export of a consent-restricted caller on $name', (backend) => {
  let server: TestServer;
  let engine: BulkExportEngine;
  const partner = { kind: 'system' as const, clientId: 'bulk-partner', scopes: ['system/*.rs'] };

  beforeAll(async () => {
    server = await openTestServer(backend, { hostingOrganization: WORLD.hostingOrganization });
    const written = await handleFhirRequest({ method: 'POST', path: '', query: {}, body: worldTransaction(WORLD), headers: {}, baseUrl: 'https://x/fhir', caller: UNRESTRICTED }, server.context);
    expect(written.status).toBe(200);
    await new ClientStore(server.db).save({
      clientId: partner.clientId,
      name: 'partner',
      kind: 'backend',
      authMethod: 'private_key_jwt',
      redirectUris: [],
      scope: 'system/*.rs',
      organizationId: WORLD.organizations[1],
      active: true,
      source: 'api',
    });
    engine = createBulkExports(server.db, { registry: R4_REGISTRY, options: { hostingOrganization: WORLD.hostingOrganization } }, { chunkRows: 3 });
  }, 120_000);
  afterAll(async () => {
    await engine.stop();
    await server.close();
  });

  it('exports what the independent model of consent lets the partner see, and records its patients', async () => {
    const caller = clientCaller({ clientId: partner.clientId, scope: 'system/*.rs', organizationId: WORLD.organizations[1] });
    const expected = WORLD.resources.filter((r) => visible(WORLD, caller, r));
    const job = await engine.start(partner, spec(TYPES, { typeFilters: ONLY_WORLD }), 'r', []);
    const exported = await finish(engine, partner, job.id);
    expect(exported.job.state).toBe('complete');
    expect([...exported.output.keys()].sort()).toEqual(expected.map(key).sort());
    // Spelled out: pat0's plan, not the plan of pat1 (deny) nor of pat2 (no registration).
    expect(exported.output.has('CarePlan/bx-pat0-plan0')).toBe(true);
    expect(exported.output.has('CarePlan/bx-pat1-plan0')).toBe(false);
    expect(exported.output.has('CarePlan/bx-pat2-plan0')).toBe(false);
    const patients = new Set(expected.flatMap((r) => compartmentsOf(r)));
    expect(exported.job.patients?.map((p) => p.reference).sort()).toEqual([...patients].map((id) => `Patient/${id}`).sort());
  });

  it('a client switched off: its export fails with an issue, nothing more written', async () => {
    const job = await engine.start(partner, spec(TYPES, { typeFilters: ONLY_WORLD }), 'r', []);
    expect(await step(engine, job.id)).toBe('chunk');
    await server.db.query(`UPDATE auth_client SET active = false WHERE client_id = $1`, [partner.clientId]);
    try {
      expect(await step(engine, job.id)).toBe('failed');
      const failed = (await engine.job(partner, job.id))!;
      expect(failed.state).toBe('failed');
      expect(failed.issues).toEqual([expect.objectContaining({ severity: 'error', code: 'forbidden' })]);
      expect(failed.files).toEqual([]);
    } finally {
      await server.db.query(`UPDATE auth_client SET active = true WHERE client_id = $1`, [partner.clientId]);
    }
  });

  it('group level: the compartments of the listed patients only', async () => {
    const types = ['Patient', 'CarePlan', 'Condition', 'Goal', 'Observation'];
    const patients = ['bx-pat0', 'bx-pat2'];
    const job = await engine.start(SERVER, spec(types, { level: 'group', group: 'g', patients, typeFilters: ONLY_WORLD }), 'r', []);
    const exported = await finish(engine, SERVER, job.id);
    const expected = WORLD.resources.filter((r: Resource) => types.includes(r.resourceType) && compartmentsOf(r).some((id) => patients.includes(id)));
    expect(expected.length).toBeGreaterThanOrEqual(10);
    expect([...exported.output.keys()].sort()).toEqual(expected.map(key).sort());
  });
});
