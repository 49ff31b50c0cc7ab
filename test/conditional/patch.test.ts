import request from 'supertest';
import { BACKENDS, reportBackends } from '../support/backends.js';
import { openTestServer, type TestServer } from '../support/fhir-app.js';

reportBackends();

const FHIR_JSON = 'application/fhir+json';
const JSON_PATCH = 'application/json-patch+json';
const HCN = 'https://health.gov.on.ca/hcn';

/** A FHIRPath Patch of one or more operations, each given as its parts. */
function fhirPathPatch(...operations: object[][]) {
  return { resourceType: 'Parameters', parameter: operations.map((part) => ({ name: 'operation', part })) };
}
const type = (code: string) => ({ name: 'type', valueCode: code });
const path = (expression: string) => ({ name: 'path', valueString: expression });

describe.each(BACKENDS)('PATCH on $name', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await openTestServer(backend);
  });
  afterAll(async () => server?.close());

  const create = async (body: object) => (await request(server.app).post(`/fhir/${(body as { resourceType: string }).resourceType}`).set('Content-Type', FHIR_JSON).send(body)).body;
  const patch = (url: string, body: unknown, contentType = JSON_PATCH) => request(server.app).patch(`/fhir/${url}`).set('Content-Type', contentType).send(JSON.stringify(body));
  const read = async (url: string) => (await request(server.app).get(`/fhir/${url}`)).body;
  const versions = async (type: string, id: string) =>
    (await server.db.query<{ n: number }>('SELECT count(*)::int AS n FROM resource_version WHERE resource_type = $1 AND id = $2', [type, id]))[0].n;

  it('JSON Patch: 200 with the new version, which reads back and is recorded as a PATCH in the history', async () => {
    const patient = await create({ resourceType: 'Patient', active: true, name: [{ family: 'Lee', given: ['Ann'] }] });
    const res = await patch(`Patient/${patient.id}`, [
      { op: 'replace', path: '/active', value: false },
      { op: 'add', path: '/name/0/given/-', value: 'Marie' },
      { op: 'add', path: '/birthDate', value: '1970-03-04' },
    ]);
    expect(res.status).toBe(200);
    expect(res.headers.etag).toBe('W/"2"');
    expect(res.body).toMatchObject({ id: patient.id, active: false, birthDate: '1970-03-04', name: [{ family: 'Lee', given: ['Ann', 'Marie'] }], meta: { versionId: '2' } });
    expect(await read(`Patient/${patient.id}`)).toEqual(res.body);
    const history = await read(`Patient/${patient.id}/_history`);
    expect(history.entry.map((e: { request: { method: string } }) => e.request.method)).toEqual(['PATCH', 'POST']);
  });

  it('the patched resource is searchable under its new values', async () => {
    const patient = await create({ resourceType: 'Patient', identifier: [{ system: HCN, value: 'P-SEARCH-1' }] });
    await patch(`Patient/${patient.id}`, [{ op: 'add', path: '/identifier/-', value: { system: HCN, value: 'P-SEARCH-2' } }]).expect(200);
    const found = await read(`Patient?identifier=${encodeURIComponent(`${HCN}|P-SEARCH-2`)}`);
    expect(found.entry.map((e: { resource: { id: string } }) => e.resource.id)).toEqual([patient.id]);
  });

  it('FHIRPath Patch (Parameters, sent as FHIR JSON): add, replace, insert, delete and move in one request', async () => {
    const subject = await create({ resourceType: 'Patient' });
    const plan = await create({
      resourceType: 'CarePlan',
      status: 'draft',
      intent: 'plan',
      subject: { reference: `Patient/${subject.id}` },
      note: [{ text: 'first' }, { text: 'second' }],
      category: [{ text: 'ccp' }],
    });
    const res = await patch(
      `CarePlan/${plan.id}`,
      fhirPathPatch(
        [type('replace'), path('CarePlan.status'), { name: 'value', valueCode: 'active' }],
        [type('add'), path('CarePlan'), { name: 'name', valueString: 'title' }, { name: 'value', valueString: 'Coordinated care plan' }],
        [type('insert'), path('CarePlan.note'), { name: 'index', valueInteger: 0 }, { name: 'value', valueAnnotation: { text: 'zeroth' } }],
        [type('delete'), path("CarePlan.category.where(text = 'ccp')")],
        [type('move'), path('CarePlan.note'), { name: 'source', valueInteger: 2 }, { name: 'destination', valueInteger: 0 }],
      ),
      FHIR_JSON,
    );
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('active');
    expect(res.body.title).toBe('Coordinated care plan');
    expect(res.body.note).toEqual([{ text: 'second' }, { text: 'zeroth' }, { text: 'first' }]);
    expect(res.body).not.toHaveProperty('category');
  });

  it('If-Match: the current version patches; a stale one is a 412 and writes nothing', async () => {
    const patient = await create({ resourceType: 'Patient', active: true });
    await patch(`Patient/${patient.id}`, [{ op: 'replace', path: '/active', value: false }]).set('If-Match', 'W/"1"').expect(200);
    const stale = await patch(`Patient/${patient.id}`, [{ op: 'replace', path: '/active', value: true }]).set('If-Match', 'W/"1"');
    expect(stale.status).toBe(412);
    expect(stale.body.resourceType).toBe('OperationOutcome');
    expect(await versions('Patient', patient.id)).toBe(2);
    expect((await read(`Patient/${patient.id}`)).active).toBe(false);
  });

  it('concurrent patches without If-Match are each applied: none is lost', async () => {
    const patient = await create({ resourceType: 'Patient', identifier: [{ system: HCN, value: 'C-0' }] });
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => patch(`Patient/${patient.id}`, [{ op: 'add', path: '/identifier/-', value: { system: HCN, value: `C-${i + 1}` } }])),
    );
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(200));
    const stored = await read(`Patient/${patient.id}`);
    expect(stored.meta.versionId).toBe('11');
    expect(stored.identifier.map((i: { value: string }) => i.value).sort()).toEqual(Array.from({ length: 11 }, (_, i) => `C-${i}`).sort());
  });

  it('a patch whose result is invalid is refused like an update, and nothing is written', async () => {
    const patient = await create({ resourceType: 'Patient' });
    const res = await patch(`Patient/${patient.id}`, [{ op: 'add', path: '/birthDate', value: 'yesterday' }]);
    expect(res.status).toBe(400);
    expect(res.body.issue[0].expression).toEqual(['Patient.birthDate']);
    const unknown = await patch(`Patient/${patient.id}`, [{ op: 'add', path: '/colour', value: 'blue' }]);
    expect(unknown.status).toBe(400);
    expect(await versions('Patient', patient.id)).toBe(1);
  });

  it('a patch may not change the id or the type', async () => {
    const patient = await create({ resourceType: 'Patient' });
    expect((await patch(`Patient/${patient.id}`, [{ op: 'replace', path: '/id', value: 'other' }])).status).toBe(422);
    expect((await patch(`Patient/${patient.id}`, [{ op: 'replace', path: '/resourceType', value: 'Group' }])).status).toBe(422);
    expect(await versions('Patient', patient.id)).toBe(1);
  });

  it('error paths: malformed patch 400, inapplicable 422, unknown 404, deleted 410, wrong media type 415', async () => {
    const patient = await create({ resourceType: 'Patient', active: true });
    const notArray = await patch(`Patient/${patient.id}`, { op: 'remove', path: '/active' });
    expect(notArray.status).toBe(400);
    const failedTest = await patch(`Patient/${patient.id}`, [{ op: 'test', path: '/active', value: false }, { op: 'remove', path: '/active' }]);
    expect(failedTest.status).toBe(422);
    expect(failedTest.body.issue[0].diagnostics).toMatch(/operation 0/);
    const missing = await patch(`Patient/${patient.id}`, [{ op: 'remove', path: '/gender' }]);
    expect(missing.status).toBe(422);
    const badFhirPath = await patch(`Patient/${patient.id}`, fhirPathPatch([type('delete'), path('Patient..active')]), FHIR_JSON);
    expect(badFhirPath.status).toBe(400);
    expect(badFhirPath.body.issue[0].expression).toEqual(['Parameters.parameter[0]']);
    const several = await patch(`Patient/${patient.id}`, fhirPathPatch([type('replace'), path('Patient.active | Patient.id'), { name: 'value', valueBoolean: false }]), FHIR_JSON);
    expect(several.status).toBe(422);
    const notParameters = await patch(`Patient/${patient.id}`, { resourceType: 'Patient' }, FHIR_JSON);
    expect(notParameters.status).toBe(400);
    expect((await patch(`Patient/${patient.id}`, [], 'text/plain')).status).toBe(415);
    expect(await versions('Patient', patient.id)).toBe(1);

    expect((await patch('Patient/nobody-here', [{ op: 'remove', path: '/active' }])).status).toBe(404);
    await request(server.app).delete(`/fhir/Patient/${patient.id}`).expect(200);
    expect((await patch(`Patient/${patient.id}`, [{ op: 'remove', path: '/active' }])).status).toBe(410);
  });

  it('conditional patch: one match is patched, none is a 404, several a 412', async () => {
    const patient = await create({ resourceType: 'Patient', identifier: [{ system: HCN, value: 'COND-1' }] });
    const criteria = `identifier=${encodeURIComponent(`${HCN}|COND-1`)}`;
    const one = await patch(`Patient?${criteria}`, [{ op: 'add', path: '/gender', value: 'female' }]);
    expect(one.status).toBe(200);
    expect(one.body.id).toBe(patient.id);
    expect(one.body.gender).toBe('female');
    expect((await patch(`Patient?identifier=${encodeURIComponent(`${HCN}|NOBODY`)}`, [{ op: 'add', path: '/gender', value: 'male' }])).status).toBe(404);
    await create({ resourceType: 'Patient', identifier: [{ system: HCN, value: 'COND-1' }] });
    expect((await patch(`Patient?${criteria}`, [{ op: 'replace', path: '/gender', value: 'male' }])).status).toBe(412);
    expect((await read(`Patient/${patient.id}`)).gender).toBe('female');
  });

  it('in a transaction: a Binary JSON Patch and a Parameters FHIRPath Patch apply with the rest; a failing patch rolls all back', async () => {
    const patient = await create({ resourceType: 'Patient', active: true });
    const plan = await create({ resourceType: 'CarePlan', status: 'draft', intent: 'plan', subject: { reference: `Patient/${patient.id}` } });
    const jsonPatch = (ops: object[]) => ({ resourceType: 'Binary', contentType: JSON_PATCH, data: Buffer.from(JSON.stringify(ops)).toString('base64') });
    const goal = 'urn:uuid:6f1d2c1e-8a7b-4c55-9a51-6a4f4f0c9b11';
    const bundle = (patientOps: object[]) => ({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: goal, resource: { resourceType: 'Goal', lifecycleStatus: 'active', description: { text: 'walk daily' }, subject: { reference: `Patient/${patient.id}` } }, request: { method: 'POST', url: 'Goal' } },
        { resource: jsonPatch(patientOps), request: { method: 'PATCH', url: `Patient/${patient.id}` } },
        {
          resource: fhirPathPatch([type('add'), path('CarePlan'), { name: 'name', valueString: 'goal' }, { name: 'value', valueReference: { reference: goal } }]),
          request: { method: 'PATCH', url: `CarePlan/${plan.id}` },
        },
      ],
    });
    const ok = await request(server.app).post('/fhir').set('Content-Type', FHIR_JSON).send(bundle([{ op: 'replace', path: '/active', value: false }]));
    expect(ok.status).toBe(200);
    expect(ok.body.entry.map((e: { response: { status: string } }) => e.response.status)).toEqual(['201 Created', '200 OK', '200 OK']);
    const goalId = ok.body.entry[0].resource.id;
    expect((await read(`CarePlan/${plan.id}`)).goal).toEqual([{ reference: `Goal/${goalId}` }]);
    expect((await read(`Patient/${patient.id}`)).active).toBe(false);

    const goalsBefore = (await read('Goal?_summary=count')).total;
    const failing = await request(server.app).post('/fhir').set('Content-Type', FHIR_JSON).send(bundle([{ op: 'remove', path: '/gender' }]));
    expect(failing.status).toBe(422);
    expect(failing.body.issue[0].diagnostics).toMatch(/Bundle\.entry\[1\]/);
    expect((await read('Goal?_summary=count')).total).toBe(goalsBefore);
    expect(await versions('CarePlan', plan.id)).toBe(2);

    const noBody = await request(server.app).post('/fhir').set('Content-Type', FHIR_JSON).send({ resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'PATCH', url: `Patient/${patient.id}` } }] });
    expect(noBody.status).toBe(400);
  });

  it('the CapabilityStatement declares patch and both patch formats', async () => {
    const metadata = await read('metadata');
    expect(metadata.patchFormat).toEqual(expect.arrayContaining([JSON_PATCH, FHIR_JSON]));
    const patientRest = metadata.rest[0].resource.find((r: { type: string }) => r.type === 'Patient');
    expect(patientRest.interaction.map((i: { code: string }) => i.code)).toContain('patch');
  });
});
