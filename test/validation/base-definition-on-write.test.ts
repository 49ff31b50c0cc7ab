import type { Bundle, CarePlan, OperationOutcome, OperationOutcomeIssue } from 'fhir/r4';
import request from 'supertest';
import { BACKENDS, reportBackends } from '../support/backends.js';
import { openTestServer, type TestServer } from '../support/fhir-app.js';

reportBackends();

/**
 * Every write is checked against the base R4 StructureDefinition of its type (server/validation/validate-resource.ts):
 * cardinality (primitives included, given as the value or only as the `_x` twin), types and choice types, and
 * required bindings. A failure is a 400 naming each problem once, whichever of the JSON schema and the definition
 * saw it; a profile failure stays 422. The expectations are read off the R4 definitions: CarePlan.status,
 * CarePlan.intent and CarePlan.subject are 1..1, Observation.status and Observation.code 1..1, Observation.value[x]
 * 0..1, Observation.performer refers to Practitioner, PractitionerRole, Organization, CareTeam, Patient or
 * RelatedPerson, CarePlan.status is bound (required) to request-status, Attachment.contentType (required) to
 * BCP 13 MIME types, a code system this server does not hold.
 */
const FHIR_JSON = 'application/fhir+json';
const DATA_ABSENT = 'http://hl7.org/fhir/StructureDefinition/data-absent-reason';
const CCP_PROFILE = 'http://ccp-exchange.org/fhir/StructureDefinition/ccp-careplan';

const plan = (extra: Partial<CarePlan> = {}): CarePlan => ({ resourceType: 'CarePlan', status: 'draft', intent: 'plan', subject: { reference: 'Patient/p1' }, ...extra });
const without = <T extends object>(resource: T, ...keys: string[]): T =>
  Object.fromEntries(Object.entries(resource).filter(([key]) => !keys.includes(key))) as T;

/** Each error as `code @ expression`. */
const errorsOf = (outcome: OperationOutcome): string[] =>
  outcome.issue.filter((i: OperationOutcomeIssue) => i.severity === 'error').map((i) => `${i.code} @ ${i.expression?.join()}`);
const placesOf = (outcome: OperationOutcome): string[] =>
  outcome.issue.filter((i: OperationOutcomeIssue) => i.severity === 'error').map((i) => i.expression?.join() ?? '');

describe.each(BACKENDS)('base definitions on write on $name', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await openTestServer(backend);
    // The plans below name Patient/p1: referential integrity (on by default) needs it stored.
    const patient = await request(server.app).put('/fhir/Patient/p1').set('Content-Type', FHIR_JSON).send({ resourceType: 'Patient', id: 'p1' });
    expect(patient.status).toBe(201);
  });
  afterAll(async () => server?.close());

  const post = (path: string, body: object) => request(server.app).post(`/fhir/${path}`).set('Content-Type', FHIR_JSON).send(body);
  const put = (path: string, body: object) => request(server.app).put(`/fhir/${path}`).set('Content-Type', FHIR_JSON).send(body);
  const count = async (type: string) =>
    (await server.db.query<{ n: number }>('SELECT count(*)::int AS n FROM resource WHERE resource_type = $1 AND NOT deleted', [type]))[0].n;

  it('an Observation with only a code is refused with 400 naming the missing status; nothing is stored', async () => {
    const before = await count('Observation');
    const res = await post('Observation', { resourceType: 'Observation', code: { text: 'x' } });
    expect(res.status).toBe(400);
    expect(errorsOf(res.body)).toEqual(['required @ Observation.status']);
    expect(await count('Observation')).toBe(before);
  });

  it('a CarePlan missing status and subject is refused naming both, each once', async () => {
    const res = await post('CarePlan', without(plan(), 'status', 'subject'));
    expect(res.status).toBe(400);
    expect(placesOf(res.body).sort()).toEqual(['CarePlan.status', 'CarePlan.subject']);
  });

  it('a required primitive given only as its _x twin with an extension is present', async () => {
    const res = await post('CarePlan', { ...without(plan(), 'status'), _status: { extension: [{ url: DATA_ABSENT, valueCode: 'unknown' }] } });
    expect(res.status).toBe(201);
    expect(res.body._status.extension[0].valueCode).toBe('unknown');
  });

  it('a code outside a required binding is refused; a code of a system not held here is not', async () => {
    const bad = await post('CarePlan', plan({ status: 'bogus' as CarePlan['status'] }));
    expect(bad.status).toBe(400);
    expect(placesOf(bad.body)).toEqual(['CarePlan.status']);
    expect(bad.body.issue[0].code).toBe('code-invalid');
    const photo = await post('Patient', { resourceType: 'Patient', photo: [{ contentType: 'image/png', data: 'iVBORw0K' }] });
    expect(photo.status).toBe(201);
  });

  it('types and choice types: a problem both the schema and the definition see is reported once', async () => {
    const wrongType = await post('Observation', { resourceType: 'Observation', status: 'final', code: { text: 'x' }, valueQuantity: { value: 'seven' } });
    expect(wrongType.status).toBe(400);
    expect(placesOf(wrongType.body)).toEqual(['Observation.valueQuantity.value']);
    const unknown = await post('Observation', { resourceType: 'Observation', status: 'final', code: { text: 'x' }, colour: 'blue' });
    expect(placesOf(unknown.body)).toEqual(['Observation.colour']);
    const twoValues = await post('Observation', { resourceType: 'Observation', status: 'final', code: { text: 'x' }, valueString: 'a', valueBoolean: true });
    expect(twoValues.status).toBe(400);
    expect(placesOf(twoValues.body)).toEqual(['Observation.value']);
    const target = await post('Observation', { resourceType: 'Observation', status: 'final', code: { text: 'x' }, performer: [{ reference: 'Encounter/e1' }] });
    expect(target.status).toBe(400);
    expect(errorsOf(target.body)).toEqual(['structure @ Observation.performer[0].reference']);
  });

  it('the schema and the definition are reported together: an unknown element and a missing status in one answer', async () => {
    const res = await post('CarePlan', { ...without(plan(), 'status'), colour: 'blue' });
    expect(res.status).toBe(400);
    expect(placesOf(res.body).sort()).toEqual(['CarePlan.colour', 'CarePlan.status']);
  });

  it('contained resources are held to their own base definitions', async () => {
    const res = await post('CarePlan', plan({ contained: [{ resourceType: 'Observation', id: 'o', code: { text: 'x' } } as never] }));
    expect(res.status).toBe(400);
    expect(placesOf(res.body)).toEqual(['CarePlan.contained[0].ofType(Observation).status']);
  });

  it('an update, a conditional update and the result of a PATCH are checked the same way', async () => {
    const created = (await post('CarePlan', plan({ identifier: [{ system: 'http://example.org/plans', value: 'b1' }] }))).body as CarePlan;
    const update = await put(`CarePlan/${created.id}`, without(created, 'status'));
    expect(update.status).toBe(400);
    expect(placesOf(update.body)).toEqual(['CarePlan.status']);

    const conditional = await put('CarePlan?identifier=http://example.org/plans|b1', without(created, 'status', 'id'));
    expect(conditional.status).toBe(400);
    expect(placesOf(conditional.body)).toEqual(['CarePlan.status']);

    const patch = await request(server.app)
      .patch(`/fhir/CarePlan/${created.id}`)
      .set('Content-Type', 'application/json-patch+json')
      .send([{ op: 'remove', path: '/intent' }]);
    expect(patch.status).toBe(400);
    expect(placesOf(patch.body)).toEqual(['CarePlan.intent']);
    const read = await request(server.app).get(`/fhir/CarePlan/${created.id}`);
    expect([read.body.meta.versionId, read.body.status, read.body.intent]).toEqual(['1', 'draft', 'plan']);
  });

  it('a transaction with one entry breaking its base definition is refused whole; a batch refuses that entry only', async () => {
    const before = await count('CarePlan');
    const entries = [
      { request: { method: 'POST', url: 'CarePlan' }, resource: plan() },
      { request: { method: 'POST', url: 'CarePlan' }, resource: without(plan(), 'intent') },
    ];
    const transaction = await post('', { resourceType: 'Bundle', type: 'transaction', entry: entries });
    expect(transaction.status).toBe(400);
    expect(transaction.body.issue.some((i: OperationOutcomeIssue) => i.diagnostics?.includes('intent'))).toBe(true);
    expect(await count('CarePlan')).toBe(before);

    const batch = await post('', { resourceType: 'Bundle', type: 'batch', entry: entries });
    expect(batch.status).toBe(200);
    expect((batch.body as Bundle).entry!.map((e) => e.response!.status.slice(0, 3))).toEqual(['201', '400']);
    expect(await count('CarePlan')).toBe(before + 1);
  });

  it('core invariants other than ele-1, ext-1 and dom-2/4/5 are left to $validate: a write stores what only breaks pat-1', async () => {
    // pat-1: a contact needs a name, telecom, address or organization; this one has only a relationship.
    const patient = { resourceType: 'Patient', contact: [{ relationship: [{ text: 'neighbour' }] }] };
    expect((await post('Patient', patient)).status).toBe(201);
    const report = await post('Patient/$validate', patient);
    expect(report.body.issue.filter((i: OperationOutcomeIssue) => i.severity === 'error').map((i: OperationOutcomeIssue) => i.diagnostics?.slice(0, 6))).toEqual(['pat-1:']);
  });

  it('a base failure is 400 and carries the claimed profile failures too; a profile failure alone stays 422', async () => {
    const claimed = { meta: { profile: [CCP_PROFILE] } };
    const profileOnly = await post('CarePlan', { ...plan(), ...claimed });
    expect(profileOnly.status).toBe(422);
    const both = await post('CarePlan', { ...without(plan(), 'status'), ...claimed });
    expect(both.status).toBe(400);
    const places = placesOf(both.body);
    expect(places).toContain('CarePlan.status');
    expect(both.body.issue.some((i: OperationOutcomeIssue) => i.diagnostics?.includes(CCP_PROFILE))).toBe(true);
    // The status the base definition misses is not reported a second time by the profile.
    expect(places.filter((p) => p === 'CarePlan.status')).toHaveLength(1);
  });

  it('$validate names everything in one answer: a CarePlan missing subject and status names both', async () => {
    const res = await post('CarePlan/$validate', { ...without(plan(), 'status', 'subject'), colour: 'blue' });
    expect(res.status).toBe(200);
    expect(placesOf(res.body).sort()).toEqual(['CarePlan.colour', 'CarePlan.status', 'CarePlan.subject']);
  });
});
