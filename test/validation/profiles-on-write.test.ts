import { readFileSync } from 'node:fs';
import type { CarePlan, Goal, OperationOutcome } from 'fhir/r4';
import request from 'supertest';
import { BACKENDS, reportBackends } from '../support/backends.js';
import { openTestServer, type TestServer } from '../support/fhir-app.js';

reportBackends();

/**
 * Profile validation on the write path (server/validation/profiles.ts): a resource is checked against each profile
 * it claims that the server holds, and against those the configuration requires of it (the committed default:
 * the CCP CarePlan profile for every CarePlan of the CCP category); a failure is a 422 naming profile and element.
 */
const FHIR_JSON = 'application/fhir+json';
const CCP_PROFILE = 'http://ccp-exchange.org/fhir/StructureDefinition/ccp-careplan';
const GOAL_PROFILE = 'http://ccp-exchange.org/fhir/StructureDefinition/ccp-goal';
const example = <T>(name: string): T => JSON.parse(readFileSync(new URL(`../../conformance/profiles/examples/${name}`, import.meta.url), 'utf8')) as T;

/** The guide's CCP example for a patient of its own, without its profile claim: what the configuration catches. */
function ccp(patient: string): CarePlan {
  const { id: _id, meta: _meta, ...plan } = example<CarePlan>('CarePlan-ccp-careplan-example.json');
  return { ...plan, status: 'draft', subject: { reference: `Patient/${patient}` } };
}

const errors = (outcome: OperationOutcome) => outcome.issue.filter((issue) => issue.severity === 'error');

describe.each(BACKENDS)('profiles on write on $name', (backend) => {
  let server: TestServer;
  let patient = 0;
  beforeAll(async () => {
    // Referential integrity off: the fixtures are the guide's examples for patients that are not stored, naming its
    // other examples (CareTeam, Condition, Goal); what is tested is profile validation (test/integrity/ tests the check).
    server = await openTestServer(backend, { referentialIntegrity: false });
  });
  afterAll(async () => server?.close());

  const post = (type: string, body: object) => request(server.app).post(`/fhir/${type}`).set('Content-Type', FHIR_JSON).send(body);
  const count = async (type: string) => (await server.db.query<{ n: number }>('SELECT count(*)::int AS n FROM resource WHERE resource_type = $1 AND NOT deleted', [type]))[0].n;

  it('a CCP that conforms is created without claiming the profile', async () => {
    expect((await post('CarePlan', ccp(`p${++patient}`))).status).toBe(201);
  });

  it('a CCP that breaks the profile the configuration requires is refused with 422 and nothing is written', async () => {
    const before = await count('CarePlan');
    // A Group is a valid subject of an R4 CarePlan; a CCP's subject is Reference(Patient) and ccp-1 says so too.
    const plan = { ...ccp(`p${++patient}`), subject: { reference: 'Group/g1' } };
    const res = await post('CarePlan', plan);
    expect(res.status).toBe(422);
    expect(errors(res.body).map((issue) => [issue.code, issue.expression])).toEqual([
      ['structure', ['CarePlan.subject.reference']],
      ['invariant', ['CarePlan']],
    ]);
    expect(errors(res.body)[0].diagnostics).toContain(CCP_PROFILE);
    expect(await count('CarePlan')).toBe(before);
  });

  it('a CarePlan outside the CCP category is not held to the CCP profile', async () => {
    const plan: CarePlan = { resourceType: 'CarePlan', status: 'draft', intent: 'plan', subject: { reference: 'Group/g1' } };
    expect((await post('CarePlan', plan)).status).toBe(201);
  });

  it('a resource is held to a profile it claims: the CCP Goal describes itself in text', async () => {
    const goal = example<Goal>('Goal-ccp-goal-example.json');
    delete goal.id;
    goal.subject = { reference: `Patient/p${++patient}` };
    expect((await post('Goal', goal)).status).toBe(201);
    const coded = { ...goal, description: { coding: [{ system: 'http://snomed.info/sct', code: '228442003' }] } };
    const refused = await post('Goal', coded);
    expect(refused.status).toBe(422);
    expect(errors(refused.body).every((issue) => issue.diagnostics?.includes(GOAL_PROFILE))).toBe(true);
    // The same Goal claiming no profile is a valid R4 Goal.
    expect((await post('Goal', { ...coded, meta: undefined })).status).toBe(201);
  });

  it('a claimed profile the server does not hold is accepted on write and reported by $validate', async () => {
    const patientResource = { resourceType: 'Patient', meta: { profile: ['http://example.org/fhir/StructureDefinition/unknown-patient'] }, gender: 'other' };
    expect((await post('Patient', patientResource)).status).toBe(201);
    const report = await post('Patient/$validate', patientResource);
    expect(report.body.issue.filter((issue: { code: string }) => issue.code === 'not-supported')).toEqual([
      expect.objectContaining({ severity: 'warning', expression: ['Patient.meta.profile'] }),
    ]);
  });

  it('$validate with a profile reports against that profile; an update and a transaction are held to it too', async () => {
    const plan = { ...ccp(`p${++patient}`), status: 'unknown' };
    const report = await post(`CarePlan/$validate?profile=${encodeURIComponent(CCP_PROFILE)}`, plan);
    expect(report.status).toBe(200);
    expect(errors(report.body).map((issue) => issue.diagnostics?.slice(0, 6))).toEqual(['ccp-2:']);

    const created = (await post('CarePlan', ccp(`p${++patient}`))).body as CarePlan;
    const update = await request(server.app).put(`/fhir/CarePlan/${created.id}`).set('Content-Type', FHIR_JSON).send({ ...created, subject: { reference: 'Group/g1' } });
    expect(update.status).toBe(422);

    const bundle = { resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'POST', url: 'CarePlan' }, resource: { ...ccp(`p${++patient}`), subject: { reference: 'Group/g1' } } }] };
    const transaction = await post('', bundle);
    expect(transaction.status).toBe(422);
  });
});
