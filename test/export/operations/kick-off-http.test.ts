import request from 'supertest';
import { BACKENDS, reportBackends } from '../../support/backends.js';
import { backendKey, backendToken, registerBackend } from '../../support/backend-tokens.js';
import { openTestServer, type TestServer } from '../../support/fhir-app.js';

reportBackends();

const BASE = 'https://ccp.test/fhir';
const TOKEN_URL = 'https://ccp.test/auth/token';
const FHIR_JSON = 'application/fhir+json';

/**
 * The export operations over HTTP, with SMART Backend Services tokens, on a server composed without the jobs'
 * engine: every refusal a kick-off can get comes before the engine is asked, so each is answered as it would be
 * with one; a kick-off that passes every check is then a 501, as are status, cancel and download.
 */
describe.each(BACKENDS)('bulk export operations without an engine, on $name', (backend) => {
  let server: TestServer;
  let exporter: string;
  let narrow: string;
  let group: string;
  let patient: string;

  const get = (path: string, token: string | undefined, prefer: string | undefined = 'respond-async') => {
    let req = request(server.app).get(`/fhir/${path}`).set('Accept', FHIR_JSON);
    if (prefer) req = req.set('Prefer', prefer);
    return token ? req.set('Authorization', `Bearer ${token}`) : req;
  };
  const post = (path: string, token: string, body: object, prefer = 'respond-async') =>
    request(server.app).post(`/fhir/${path}`).set('Content-Type', FHIR_JSON).set('Prefer', prefer).set('Authorization', `Bearer ${token}`).send(body);

  beforeAll(async () => {
    server = await openTestServer(backend, { baseUrl: BASE, auth: true });
    const key = await backendKey();
    await registerBackend(server.auth!, 'loader', key, 'system/*.cruds');
    await registerBackend(server.auth!, 'exporter', key, 'system/*.rs');
    await registerBackend(server.auth!, 'narrow', key, 'system/Patient.rs system/Group.rs');
    const loader = await backendToken(server.app, TOKEN_URL, 'loader', key, 'system/*.cruds');
    exporter = await backendToken(server.app, TOKEN_URL, 'exporter', key, 'system/*.rs');
    narrow = await backendToken(server.app, TOKEN_URL, 'narrow', key, 'system/Patient.rs system/Group.rs');
    const write = (type: string, body: object) =>
      request(server.app).post(`/fhir/${type}`).set('Content-Type', FHIR_JSON).set('Authorization', `Bearer ${loader}`).send(body).expect(201);
    patient = (await write('Patient', { resourceType: 'Patient' })).body.id;
    group = (await write('Group', { resourceType: 'Group', type: 'person', actual: true, member: [{ entity: { reference: `Patient/${patient}` } }] })).body.id;
  });
  afterAll(async () => server?.close());

  it('without a token: 401 with a Bearer challenge, at every level and on status, cancel and download', async () => {
    for (const path of ['$export', 'Patient/$export', `Group/${group}/$export`, '$export-status/abc', '$export-file/abc/1']) {
      const res = await get(path, undefined);
      expect([path, res.status]).toEqual([path, 401]);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
      expect(res.body.resourceType).toBe('OperationOutcome');
    }
    expect((await request(server.app).delete('/fhir/$export-status/abc')).status).toBe(401);
  });

  it('Prefer: respond-async is required: 400 without it', async () => {
    const res = await get('$export', exporter, '');
    expect(res.status).toBe(400);
    expect(res.body.issue[0].diagnostics).toMatch(/Prefer: respond-async/);
  });

  it('an _outputFormat other than NDJSON: 400 naming it', async () => {
    const res = await get('$export?_outputFormat=text/csv', exporter);
    expect(res.status).toBe(400);
    expect(res.body.issue[0].expression).toEqual(['_outputFormat']);
  });

  it('strict (the default) refuses what it does not support; lenient lets the kick-off through', async () => {
    const strict = await get('$export?_type=Patient,Bogus', exporter);
    expect(strict.status).toBe(400);
    expect(strict.body.issue[0]).toMatchObject({ code: 'not-supported', expression: ['_type'] });
    expect((await get('$export?_type=Patient,Bogus', exporter, 'respond-async, handling=strict')).status).toBe(400);
    // Lenient: nothing left to refuse, so it is the missing engine that answers.
    expect((await get('$export?_type=Patient,Bogus', exporter, 'respond-async, handling=lenient')).status).toBe(501);
    expect((await get('$export?_typeFilter=Patient%3Fflavour%3Dsweet', exporter)).status).toBe(400);
    expect((await get('$export?_typeFilter=Patient%3Fflavour%3Dsweet', exporter, 'respond-async, handling=lenient')).status).toBe(501);
  });

  it('a _type the token does not cover: 403 naming it, never a narrowed job', async () => {
    const res = await get('$export?_type=Patient,Observation', narrow);
    expect(res.status).toBe(403);
    expect(res.body.issue[0]).toMatchObject({ code: 'forbidden', expression: ['_type'], diagnostics: expect.stringContaining('Observation') });
    expect(res.headers['www-authenticate']).toMatch(/insufficient_scope/);
    // A POST kick-off alike.
    const posted = await post('Patient/$export', narrow, { resourceType: 'Parameters', parameter: [{ name: '_type', valueString: 'Observation' }] });
    expect(posted.status).toBe(403);
  });

  it('patient in the URL of a GET: 400; in a POST to the system level: 400', async () => {
    const res = await get(`Patient/$export?patient=Patient/${patient}`, exporter);
    expect(res.status).toBe(400);
    expect(res.body.issue[0].expression).toEqual(['patient']);
    const system = await post('$export', exporter, { resourceType: 'Parameters', parameter: [{ name: 'patient', valueReference: { reference: `Patient/${patient}` } }] });
    expect(system.status).toBe(400);
    expect(system.body.issue[0].expression).toEqual(['patient']);
  });

  it('patient level: patients not known here are a 400 naming them; known ones pass', async () => {
    const patientParameter = (id: string) => ({ name: 'patient', valueReference: { reference: `Patient/${id}` } });
    const unknown = await post('Patient/$export', exporter, { resourceType: 'Parameters', parameter: [patientParameter(patient), patientParameter('nobody')] });
    expect(unknown.status).toBe(400);
    expect(unknown.body.issue[0]).toMatchObject({ expression: ['patient'], diagnostics: expect.stringContaining('Patient/nobody') });
    expect(unknown.body.issue[0].diagnostics).not.toContain(`Patient/${patient}`);
    expect((await post('Patient/$export', exporter, { resourceType: 'Parameters', parameter: [patientParameter(patient)] })).status).toBe(501);
  });

  it('the Group is read as the caller: unknown 404, not readable 403; patients outside it 400', async () => {
    const unknown = await get('Group/no-such-group/$export', exporter);
    expect(unknown.status).toBe(404);
    expect(unknown.body.resourceType).toBe('OperationOutcome');
    const key = await registeredAgain('no-group', 'system/Patient.rs');
    const noGroupScope = await backendToken(server.app, TOKEN_URL, 'no-group', key, 'system/Patient.rs');
    expect((await get(`Group/${group}/$export`, noGroupScope)).status).toBe(403);
    const outside = await post(`Group/${group}/$export`, exporter, { resourceType: 'Parameters', parameter: [{ name: 'patient', valueReference: { reference: 'Patient/not-a-member' } }] });
    expect(outside.status).toBe(400);
    expect(outside.body.issue[0]).toMatchObject({ expression: ['patient'], diagnostics: expect.stringContaining('not a member') });
  });

  it('a kick-off that passes every check: 501 without an engine, at every level, GET and POST', async () => {
    for (const path of ['$export', 'Patient/$export', `Group/${group}/$export`]) {
      const res = await get(`${path}?_type=Patient`, exporter);
      expect([path, res.status, res.body.issue?.[0]?.code]).toEqual([path, 501, 'not-supported']);
      expect((await post(path, exporter, { resourceType: 'Parameters', parameter: [{ name: '_type', valueString: 'Patient' }] })).status).toBe(501);
    }
  });

  it('status, cancel and download: 501 without an engine; a file may be asked for as NDJSON (no 406)', async () => {
    expect((await get('$export-status/0b7c6d2e-6b7d-4c47-9d1a-2f3e4a5b6c7d', exporter)).status).toBe(501);
    expect((await request(server.app).delete('/fhir/$export-status/0b7c6d2e-6b7d-4c47-9d1a-2f3e4a5b6c7d').set('Authorization', `Bearer ${exporter}`)).status).toBe(501);
    const file = await request(server.app).get('/fhir/$export-file/0b7c6d2e-6b7d-4c47-9d1a-2f3e4a5b6c7d/1').set('Accept', 'application/fhir+ndjson').set('Authorization', `Bearer ${exporter}`);
    expect(file.status).toBe(501);
    expect(file.headers['content-type']).toMatch(/^application\/fhir\+json/);
    // A file number that is no number is no file.
    expect((await get('$export-file/0b7c6d2e-6b7d-4c47-9d1a-2f3e4a5b6c7d/one', exporter)).status).toBe(404);
  });

  it('the CapabilityStatement claims no export without an engine', async () => {
    const res = await request(server.app).get('/fhir/metadata').expect(200);
    expect(res.body.instantiates ?? []).not.toContain('http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data');
    expect(res.body.rest[0].operation ?? []).toEqual([]);
    const patientOps = res.body.rest[0].resource.find((r: { type: string }) => r.type === 'Patient').operation.map((op: { name: string }) => op.name);
    expect(patientOps).not.toContain('export');
  });

  /** Another backend client with its own key, allowed `scope`. */
  async function registeredAgain(clientId: string, scope: string) {
    const key = await backendKey();
    await registerBackend(server.auth!, clientId, key, scope);
    return key;
  }
});
