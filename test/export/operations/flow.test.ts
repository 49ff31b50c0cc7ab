import type { AuditEvent, Bundle, Resource } from 'fhir/r4';
import request from 'supertest';
import { BACKENDS, reportBackends } from '../../support/backends.js';
import { type BackendKey, backendKey, backendToken, registerBackend } from '../../support/backend-tokens.js';
import { openTestServer, type TestServer } from '../../support/fhir-app.js';

reportBackends();

const BASE = 'https://ccp.test/fhir';
const TOKEN_URL = 'https://ccp.test/auth/token';
const FHIR_JSON = 'application/fhir+json';
const NDJSON = 'application/fhir+ndjson';
const DCM_EXPORT = 'http://dicom.nema.org/resources/ontology/DCM|110106';
const STEP_SYSTEM = 'http://ccp-exchange.org/fhir/CodeSystem/bulk-export-step';

/**
 * A whole export over HTTP with the real engine, driven by SMART Backend Services tokens: kick-off → status (202,
 * then 429 when polled too soon) → the engine works the job → manifest → downloads → cancel; another client and a
 * narrower token of the same client; each step's AuditEvent. The engine does not run by itself here: the test works
 * the job off (`runOnce`) where a server's runner would.
 */
describe.each(BACKENDS)('bulk export, kick-off to download, on $name', (backend) => {
  let server: TestServer;
  let key: BackendKey;
  let loader: string;
  let exporter: string;
  let patients: string[];
  let observations: string[];
  let group: string;

  const as = (token: string) => ({
    get: (path: string, headers: Record<string, string> = {}) => {
      let req = request(server.app).get(path.startsWith('http') ? path.slice(BASE.length - '/fhir'.length) : `/fhir/${path}`).set('Authorization', `Bearer ${token}`);
      for (const [name, value] of Object.entries(headers)) req = req.set(name, value);
      return req;
    },
    kickOff: (path: string) => request(server.app).get(`/fhir/${path}`).set('Authorization', `Bearer ${token}`).set('Accept', FHIR_JSON).set('Prefer', 'respond-async'),
    delete: (path: string) => request(server.app).delete(path.slice(BASE.length - '/fhir'.length)).set('Authorization', `Bearer ${token}`),
  });
  const write = (type: string, body: object) =>
    request(server.app).post(`/fhir/${type}`).set('Content-Type', FHIR_JSON).set('Authorization', `Bearer ${loader}`).send(body).expect(201);
  /** Works every job off, as a server's runner would. */
  const runJobs = async () => {
    while ((await server.bulk!.runOnce()) !== undefined);
  };
  const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  /** The NDJSON lines of a download, parsed. */
  const resourcesOf = (text: string): Resource[] => text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Resource);

  beforeAll(async () => {
    server = await openTestServer(backend, { baseUrl: BASE, auth: true, bulkExport: { minPollSeconds: 1 }, bulkExportPollSeconds: 1 });
    key = await backendKey();
    await registerBackend(server.auth!, 'loader', key, 'system/*.cruds');
    await registerBackend(server.auth!, 'exporter', key, 'system/*.rs');
    await registerBackend(server.auth!, 'other', key, 'system/*.rs');
    await registerBackend(server.auth!, 'auditor', key, 'system/AuditEvent.rs');
    loader = await backendToken(server.app, TOKEN_URL, 'loader', key, 'system/*.cruds');
    exporter = await backendToken(server.app, TOKEN_URL, 'exporter', key, 'system/*.rs');
    patients = [(await write('Patient', { resourceType: 'Patient' })).body.id, (await write('Patient', { resourceType: 'Patient' })).body.id];
    observations = [];
    for (const patient of patients) {
      const observation = { resourceType: 'Observation', status: 'final', code: { text: 'weight' }, subject: { reference: `Patient/${patient}` } };
      observations.push((await write('Observation', observation)).body.id);
    }
    group = (await write('Group', { resourceType: 'Group', type: 'person', actual: true, member: [{ entity: { reference: `Patient/${patients[0]}` } }] })).body.id;
  });
  afterAll(async () => {
    await server?.bulk?.stop();
    await server?.close();
  });

  it('kick-off 202 → status 202 (progress), 429 when too soon → manifest 200 → downloads, streamed NDJSON', async () => {
    const kickOff = await as(exporter).kickOff('$export?_type=Patient,Observation');
    expect(kickOff.status).toBe(202);
    const statusUrl = kickOff.headers['content-location'];
    expect(statusUrl).toMatch(new RegExp(`^${BASE.replace(/\./g, '\\.')}/\\$export-status/[0-9a-f-]{36}$`));
    expect(kickOff.body.resourceType).toBe('OperationOutcome');

    const running = await as(exporter).get(statusUrl);
    expect(running.status).toBe(202);
    expect(running.headers['x-progress']).toMatch(/^\d{1,3}% complete$/);
    expect(running.headers['retry-after']).toBe('1');
    const tooSoon = await as(exporter).get(statusUrl);
    expect(tooSoon.status).toBe(429);
    expect(Number(tooSoon.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(tooSoon.body.issue[0].code).toBe('throttled');

    await runJobs();
    await pause(1100);
    const done = await as(exporter).get(statusUrl);
    expect(done.status).toBe(200);
    expect(done.headers['content-type']).toMatch(/^application\/json/);
    expect(Date.parse(done.headers.expires)).toBeGreaterThan(Date.now());
    const manifest = done.body;
    expect(manifest).toEqual({
      transactionTime: expect.any(String),
      request: `${BASE}/$export?_type=Patient%2CObservation`,
      requiresAccessToken: true,
      output: [
        { type: 'Patient', url: expect.stringMatching(new RegExp(`^${BASE.replace(/\./g, '\\.')}/\\$export-file/`)), count: 2 },
        { type: 'Observation', url: expect.any(String), count: 2 },
      ],
      error: [],
    });
    // No `deleted` without _since.
    expect(manifest).not.toHaveProperty('deleted');

    const patientFile = await as(exporter).get(manifest.output[0].url, { Accept: NDJSON });
    expect(patientFile.status).toBe(200);
    expect(patientFile.headers['content-type']).toBe(NDJSON);
    expect(patientFile.headers['content-length']).toBeUndefined();
    expect(resourcesOf(patientFile.text).map((r) => r.id).sort()).toEqual([...patients].sort());
    const observationFile = await as(exporter).get(manifest.output[1].url);
    expect(resourcesOf(observationFile.text).map((r) => `${r.resourceType}/${r.id}`).sort()).toEqual(observations.map((id) => `Observation/${id}`).sort());
  });

  it('only the owner sees, downloads or cancels a job: another client gets 404 everywhere', async () => {
    const statusUrl = (await as(exporter).kickOff('$export?_type=Patient').expect(202)).headers['content-location'];
    await runJobs();
    const manifest = (await as(exporter).get(statusUrl).expect(200)).body;
    const other = await backendToken(server.app, TOKEN_URL, 'other', key, 'system/*.rs');
    expect((await as(other).get(statusUrl)).status).toBe(404);
    expect((await as(other).get(manifest.output[0].url)).status).toBe(404);
    expect((await as(other).delete(statusUrl)).status).toBe(404);
    // The owner's job is untouched by those attempts.
    expect((await as(exporter).get(manifest.output[0].url)).status).toBe(200);
  });

  it('a token of the owner lacking a type\'s scope: 403 on that type\'s file and on the status; the other file downloads', async () => {
    const statusUrl = (await as(exporter).kickOff('$export?_type=Patient,Observation').expect(202)).headers['content-location'];
    await runJobs();
    const manifest = (await as(exporter).get(statusUrl).expect(200)).body;
    const patientsOnly = await backendToken(server.app, TOKEN_URL, 'exporter', key, 'system/Patient.rs');
    const observationFile = await as(patientsOnly).get(manifest.output.find((o: { type: string }) => o.type === 'Observation').url);
    expect(observationFile.status).toBe(403);
    expect(observationFile.body.issue[0].diagnostics).toMatch(/Observation/);
    expect((await as(patientsOnly).get(manifest.output.find((o: { type: string }) => o.type === 'Patient').url)).status).toBe(200);
    await pause(1100);
    expect((await as(patientsOnly).get(statusUrl)).status).toBe(403);
  });

  it('cancel: 202, then the status and the files are 404', async () => {
    const statusUrl = (await as(exporter).kickOff('$export?_type=Patient').expect(202)).headers['content-location'];
    await runJobs();
    const manifest = (await as(exporter).get(statusUrl).expect(200)).body;
    const cancelled = await as(exporter).delete(statusUrl);
    expect(cancelled.status).toBe(202);
    expect(cancelled.body.resourceType).toBe('OperationOutcome');
    expect((await as(exporter).get(statusUrl)).status).toBe(404);
    expect((await as(exporter).get(manifest.output[0].url)).status).toBe(404);
    expect((await as(exporter).delete(statusUrl)).status).toBe(404);
  });

  it('group level: only the Group\'s members; _since lists the deletes after it in `deleted`', async () => {
    const groupStatus = (await as(exporter).kickOff(`Group/${group}/$export?_type=Observation`).expect(202)).headers['content-location'];
    await runJobs();
    const groupManifest = (await as(exporter).get(groupStatus).expect(200)).body;
    expect(groupManifest.output).toEqual([{ type: 'Observation', url: expect.any(String), count: 1 }]);
    expect(resourcesOf((await as(exporter).get(groupManifest.output[0].url)).text).map((r) => r.id)).toEqual([observations[0]]);

    const since = new Date(Date.now() - 1000).toISOString();
    await pause(10);
    await request(server.app).delete(`/fhir/Observation/${observations[1]}`).set('Authorization', `Bearer ${loader}`).expect(200);
    const sinceStatus = (await as(exporter).kickOff(`$export?_type=Observation&_since=${since}`).expect(202)).headers['content-location'];
    await runJobs();
    const sinceManifest = (await as(exporter).get(sinceStatus).expect(200)).body;
    expect(sinceManifest.output).toEqual([]);
    expect(sinceManifest.deleted).toEqual([{ type: 'Bundle', url: expect.any(String), count: 1 }]);
    const [deleted] = resourcesOf((await as(exporter).get(sinceManifest.deleted[0].url)).text) as Bundle[];
    expect(deleted.entry?.[0].request).toEqual({ method: 'DELETE', url: `Observation/${observations[1]}` });
  });

  it('a job that failed (its client deactivated while it waited): 500 with the job\'s OperationOutcome', async () => {
    await registerBackend(server.auth!, 'fleeting', key, 'system/*.rs');
    const fleeting = await backendToken(server.app, TOKEN_URL, 'fleeting', key, 'system/*.rs');
    const statusUrl = (await as(fleeting).kickOff('$export?_type=Patient').expect(202)).headers['content-location'];
    await registerBackend(server.auth!, 'fleeting', key, 'system/*.rs', { active: false });
    await runJobs();
    await registerBackend(server.auth!, 'fleeting', key, 'system/*.rs');
    const again = await backendToken(server.app, TOKEN_URL, 'fleeting', key, 'system/*.rs');
    const failed = await as(again).get(statusUrl);
    expect(failed.status).toBe(500);
    expect(failed.headers['content-type']).toMatch(/^application\/fhir\+json/);
    expect(failed.body.resourceType).toBe('OperationOutcome');
    expect(failed.body.issue[0]).toMatchObject({ severity: 'error', code: 'forbidden', diagnostics: expect.stringContaining('no longer active') });
  });

  it('the CapabilityStatement names the Bulk Data operations and instantiates its server statement', async () => {
    const res = await request(server.app).get('/fhir/metadata').expect(200);
    expect(res.body.instantiates).toContain('http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data');
    expect(res.body.rest[0].operation).toEqual([{ name: 'export', definition: 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export' }]);
    const on = (type: string) => res.body.rest[0].resource.find((r: { type: string }) => r.type === type).operation;
    expect(on('Patient')).toContainEqual({ name: 'export', definition: 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export' });
    expect(on('Group')).toContainEqual({ name: 'export', definition: 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export' });
    expect(on('Observation').map((op: { name: string }) => op.name)).not.toContain('export');
  });

  it('every kick-off, completing poll, download and cancel is an AuditEvent in BALP\'s export shape', async () => {
    const auditor = await backendToken(server.app, TOKEN_URL, 'auditor', key, 'system/AuditEvent.rs');
    const found = await as(auditor).get(`AuditEvent?type=${encodeURIComponent(DCM_EXPORT)}&_count=200`).expect(200);
    const events = ((found.body as Bundle).entry ?? []).map((e) => e.resource as AuditEvent);
    const step = (event: AuditEvent) => event.subtype?.find((c) => c.system === STEP_SYSTEM)?.code;
    const disclosed = (event: AuditEvent) => event.subtype?.some((c) => c.code === 'disclose') === true;
    const byStep = (name: string) => events.filter((event) => step(event) === name);
    // Kick-offs: seven in the tests above (each names its job and its request).
    const kickOffs = byStep('kick-off').filter((event) => event.outcome === '0');
    expect(kickOffs.length).toBe(7);
    for (const event of kickOffs) {
      expect(event.entity?.some((e) => e.role?.code === '20' && e.what?.identifier?.value)).toBe(true);
      expect(event.entity?.some((e) => e.role?.code === '24' && e.query)).toBe(true);
      expect(event.agent.some((a) => a.type?.coding?.[0].code === '110153')).toBe(true);
    }
    // The Group's kick-off names the Group it read.
    expect(kickOffs.some((event) => event.entity?.some((e) => e.what?.reference?.startsWith(`Group/${group}`)))).toBe(true);
    // Polls: the completing ones disclose, the running one does not, the 429 is a refused one.
    const polls = byStep('status');
    expect(polls.filter(disclosed).length).toBe(6);
    expect(polls.some((event) => event.outcome === '0' && !disclosed(event))).toBe(true);
    expect(polls.some((event) => event.outcomeDesc?.startsWith('429'))).toBe(true);
    // Downloads: each successful one discloses and names its file; the other client's and the narrow token's are failures.
    const downloads = byStep('download');
    const fine = downloads.filter((event) => event.outcome === '0');
    expect(fine.every((event) => disclosed(event) && event.entity?.some((e) => e.role?.code === '3' && e.detail?.some((d) => d.type === 'count')))).toBe(true);
    expect(downloads.some((event) => event.outcomeDesc?.startsWith('404'))).toBe(true);
    expect(downloads.some((event) => event.outcomeDesc?.startsWith('403'))).toBe(true);
    // Cancels: one done (action D), the later ones refused.
    const cancels = byStep('cancel');
    expect(cancels.filter((event) => event.outcome === '0').map((event) => event.action)).toEqual(['D']);
    expect(cancels.every((event) => event.entity?.some((e) => e.role?.code === '20'))).toBe(true);
  });
});
