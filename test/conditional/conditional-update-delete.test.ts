import request from 'supertest';
import { BACKENDS, reportBackends } from '../support/backends.js';
import { openTestServer, type TestServer } from '../support/fhir-app.js';

reportBackends();

const FHIR_JSON = 'application/fhir+json';
const HCN = 'https://health.gov.on.ca/hcn';
const byHcn = (value: string) => `identifier=${encodeURIComponent(`${HCN}|${value}`)}`;

describe.each(BACKENDS)('conditional update and delete on $name', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await openTestServer(backend);
  });
  afterAll(async () => server?.close());

  const patient = (value: string, extra: Record<string, unknown> = {}) => ({ resourceType: 'Patient', identifier: [{ system: HCN, value }], ...extra });
  const put = (criteria: string, body: object) => request(server.app).put(`/fhir/Patient?${criteria}`).set('Content-Type', FHIR_JSON).send(body);
  const count = async (criteria: string) => (await request(server.app).get(`/fhir/Patient?${criteria}&_summary=count`)).body.total as number;

  it('PUT [type]?criteria: none → created, one → that resource updated, several → 412', async () => {
    const created = await put(byHcn('A1'), patient('A1', { gender: 'female' }));
    expect(created.status).toBe(201);
    const updated = await put(byHcn('A1'), patient('A1', { gender: 'other' }));
    expect(updated.status).toBe(200);
    expect(updated.body.id).toBe(created.body.id);
    expect(updated.body.meta.versionId).toBe('2');
    expect(updated.body.gender).toBe('other');

    await request(server.app).post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient('A1'));
    const several = await put(byHcn('A1'), patient('A1', { gender: 'male' }));
    expect(several.status).toBe(412);
    expect(await count(`${byHcn('A1')}&gender=male`)).toBe(0);
  });

  it('a body id must be the match\u2019s; with no match a body id creates that id', async () => {
    const first = await put(byHcn('B1'), patient('B1'));
    const wrong = await put(byHcn('B1'), patient('B1', { id: 'someone-else' }));
    expect(wrong.status).toBe(400);
    const right = await put(byHcn('B1'), patient('B1', { id: first.body.id, active: true }));
    expect(right.status).toBe(200);
    const chosen = await put(byHcn('B2'), patient('B2', { id: 'chosen-b2' }));
    expect(chosen.status).toBe(201);
    expect(chosen.body.id).toBe('chosen-b2');
  });

  it('DELETE [type]?criteria: one match deleted; none is fine; several → 412 unless allowed', async () => {
    await put(byHcn('C1'), patient('C1'));
    const one = await request(server.app).delete(`/fhir/Patient?${byHcn('C1')}`);
    expect(one.status).toBe(200);
    expect(await count(byHcn('C1'))).toBe(0);
    expect((await request(server.app).delete(`/fhir/Patient?${byHcn('C1')}`)).status).toBe(200);

    for (let i = 0; i < 3; i++) await request(server.app).post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient('C2'));
    expect((await request(server.app).delete(`/fhir/Patient?${byHcn('C2')}`)).status).toBe(412);
    expect(await count(byHcn('C2'))).toBe(3);

    const lenient = await openTestServer(backend, { allowMultipleDelete: true }, server);
    const all = await request(lenient.app).delete(`/fhir/Patient?${byHcn('C2')}`);
    expect(all.status).toBe(200);
    expect(all.body.issue[0].diagnostics).toMatch(/Deleted 3 Patient/);
    expect(await count(byHcn('C2'))).toBe(0);
  });

  it('conditional interactions without criteria, or with criteria the server cannot apply, are 400s', async () => {
    expect((await request(server.app).delete('/fhir/Patient')).status).toBe(400);
    expect((await put('', patient('D1'))).status).toBe(400);
    const unknown = await put('shoe-size=42', patient('D1'));
    expect(unknown.status).toBe(400);
    expect(unknown.body.issue[0].expression).toEqual(['shoe-size']);
  });
});
