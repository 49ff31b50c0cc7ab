import request from 'supertest';
import { BACKENDS, reportBackends } from '../support/backends.js';
import { openTestServer, type TestServer } from '../support/fhir-app.js';

reportBackends();

const FHIR_JSON = 'application/fhir+json';
const HCN = 'https://health.gov.on.ca/hcn';

describe.each(BACKENDS)('conditional create and conditional read on $name', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await openTestServer(backend);
  });
  afterAll(async () => server?.close());

  const patient = (value: string) => ({ resourceType: 'Patient', identifier: [{ system: HCN, value }] });
  const createIfNone = (value: string, criteria = `identifier=${encodeURIComponent(`${HCN}|${value}`)}`) =>
    request(server.app).post('/fhir/Patient').set('Content-Type', FHIR_JSON).set('If-None-Exist', criteria).send(patient(value));
  const count = async (value: string) =>
    (await request(server.app).get(`/fhir/Patient?identifier=${encodeURIComponent(`${HCN}|${value}`)}&_summary=count`)).body.total as number;

  it('If-None-Exist: no match creates (201), one match answers 200 with the existing resource and writes nothing', async () => {
    const first = await createIfNone('1111');
    expect(first.status).toBe(201);
    const again = await createIfNone('1111');
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    expect(again.body.meta.versionId).toBe('1');
    // supertest listens on a new port per request: compare the path.
    expect(new URL(again.headers.location).pathname).toBe(new URL(first.headers.location).pathname);
    expect(await count('1111')).toBe(1);
  });

  it('several matches are a 412; criteria the server cannot apply are a 400', async () => {
    for (let i = 0; i < 2; i++) await request(server.app).post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient('2222'));
    const several = await createIfNone('2222');
    expect(several.status).toBe(412);
    expect(several.body.resourceType).toBe('OperationOutcome');
    expect(await count('2222')).toBe(2);
    const unknown = await createIfNone('3333', 'shoe-size=42');
    expect(unknown.status).toBe(400);
    expect(unknown.body.issue[0].expression).toEqual(['shoe-size']);
    expect(await count('3333')).toBe(0);
  });

  it('parallel conditional creates with the same criteria make exactly one resource', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => createIfNone('4444')));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 200)).toHaveLength(19);
    expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
    expect(await count('4444')).toBe(1);
  });

  it('If-None-Match with the current version, or If-Modified-Since not before the last update, is a 304', async () => {
    const created = await request(server.app).post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient('5555'));
    const url = `/fhir/Patient/${created.body.id}`;
    const notModified = await request(server.app).get(url).set('If-None-Match', 'W/"1"');
    expect(notModified.status).toBe(304);
    expect(notModified.text).toBe('');
    expect(notModified.headers.etag).toBe('W/"1"');
    expect((await request(server.app).get(url).set('If-None-Match', 'W/"9", W/"1"')).status).toBe(304);
    expect((await request(server.app).get(url).set('If-None-Match', 'W/"2"')).status).toBe(200);
    const lastModified = created.headers['last-modified'];
    expect((await request(server.app).get(url).set('If-Modified-Since', lastModified)).status).toBe(304);
    const earlier = new Date(Date.parse(lastModified) - 60_000).toUTCString();
    expect((await request(server.app).get(url).set('If-Modified-Since', earlier)).status).toBe(200);
  });
});
