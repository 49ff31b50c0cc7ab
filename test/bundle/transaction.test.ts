import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import path from 'node:path';
import type { Bundle as AnyBundle, CarePlan, FhirResource } from 'fhir/r4';

type Bundle = AnyBundle<FhirResource>;
import request from 'supertest';
import { BACKENDS, reportBackends } from '../support/backends.js';
import { openTestServer, type TestServer } from '../support/fhir-app.js';
import { PROJECT_ROOT } from '../support/server-process.js';

reportBackends();

const FHIR_JSON = 'application/fhir+json';
const HCN = 'https://health.gov.on.ca/hcn';

const ccpTransaction = (hcn: string, extra: Bundle['entry'] = []): Bundle => ({
  resourceType: 'Bundle',
  type: 'transaction',
  entry: [
    {
      fullUrl: 'urn:uuid:8d7f1e3a-0000-4000-8000-000000000001',
      resource: { resourceType: 'CarePlan', status: 'active', intent: 'plan', subject: { reference: 'urn:uuid:8d7f1e3a-0000-4000-8000-000000000002' }, goal: [{ reference: 'urn:uuid:8d7f1e3a-0000-4000-8000-000000000003' }] },
      request: { method: 'POST', url: 'CarePlan' },
    },
    {
      fullUrl: 'urn:uuid:8d7f1e3a-0000-4000-8000-000000000002',
      resource: { resourceType: 'Patient', identifier: [{ system: HCN, value: hcn }] },
      request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${HCN}|${hcn}` },
    },
    {
      fullUrl: 'urn:uuid:8d7f1e3a-0000-4000-8000-000000000003',
      resource: { resourceType: 'Goal', lifecycleStatus: 'active', description: { text: 'Walk daily' }, subject: { reference: 'urn:uuid:8d7f1e3a-0000-4000-8000-000000000002' } },
      request: { method: 'POST', url: 'Goal' },
    },
    ...extra,
  ],
});

describe.each(BACKENDS)('transactions and batches on $name', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await openTestServer(backend, { bodyLimitBytes: 32 * 1024 * 1024 });
  });
  afterAll(async () => server?.close());

  const post = (bundle: object) => request(server.app).post('/fhir').set('Content-Type', FHIR_JSON).send(bundle);
  /**
   * Counts, and every resource's current version and content, as one comparable value. The audit trail's own
   * AuditEvents (one per request, failures included: server/audit) are not the data these tests compare.
   */
  const state = async () =>
    (
      await server.db.query<{ n: number; v: number; current: string }>(
        `SELECT (SELECT count(*)::int FROM resource WHERE resource_type <> 'AuditEvent') AS n,
                (SELECT count(*)::int FROM resource_version WHERE resource_type <> 'AuditEvent') AS v,
                (SELECT md5(string_agg(resource_type || '/' || id || '/' || version_id || '/' || deleted || '/' || coalesce(content::text, ''), ',' ORDER BY resource_type, id))
                 FROM resource WHERE resource_type <> 'AuditEvent') AS current`,
      )
    )[0];

  it('writes every entry, resolving urn:uuid references to the ids it assigned, and answers each entry', async () => {
    const res = await post(ccpTransaction('9000'));
    expect(res.status).toBe(200);
    const reply = res.body as Bundle;
    expect(reply.type).toBe('transaction-response');
    expect(reply.entry!.map((e) => e.response!.status)).toEqual(['201 Created', '201 Created', '201 Created']);
    const [plan, patient, goal] = reply.entry!.map((e) => e.resource!);
    expect((plan as CarePlan).subject.reference).toBe(`Patient/${patient.id}`);
    expect((plan as CarePlan).goal![0].reference).toBe(`Goal/${goal.id}`);
    expect(reply.entry![0].response!.location).toBe(`CarePlan/${plan.id}/_history/1`);
    expect(reply.entry![0].response!.etag).toBe('W/"1"');
    const stored = await request(server.app).get(`/fhir/CarePlan/${plan.id}`);
    expect(stored.body.subject.reference).toBe(`Patient/${patient.id}`);
  });

  it('ifNoneExist finds the existing Patient, and references point to it', async () => {
    const first = (await post(ccpTransaction('9100'))).body as Bundle;
    const second = (await post(ccpTransaction('9100'))).body as Bundle;
    expect(second.entry![1].response!.status).toBe('200 OK');
    expect(second.entry![1].resource!.id).toBe(first.entry![1].resource!.id);
    expect((second.entry![0].resource as CarePlan).subject.reference).toBe(`Patient/${first.entry![1].resource!.id}`);
  });

  it('conditional references resolve to exactly one match', async () => {
    await post(ccpTransaction('9200'));
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [{ resource: { resourceType: 'Goal', lifecycleStatus: 'active', description: { text: 'x' }, subject: { reference: `Patient?identifier=${HCN}|9200` } }, request: { method: 'POST', url: 'Goal' } }],
    };
    const res = await post(bundle);
    expect(res.status).toBe(200);
    expect(res.body.entry[0].resource.subject.reference).toMatch(/^Patient\/[0-9a-f-]{36}$/);
  });

  it.each([
    ['a schema error', { resourceType: 'Goal', lifecycleStatus: 'active', description: { text: 'x' }, subject: { reference: 'Patient/x' }, startDate: 'tomorrow' }, 'POST', 'Goal', 400],
    ['an unresolved conditional reference', { resourceType: 'Goal', lifecycleStatus: 'active', description: { text: 'x' }, subject: { reference: `Patient?identifier=${HCN}|nobody` } }, 'POST', 'Goal', 404],
  ])('one bad entry (%s) leaves the database exactly as it was, and the outcome names the entry', async (_label, resource, method, url, status) => {
    const before = await state();
    const res = await post(ccpTransaction('9300', [{ resource: resource as never, request: { method: method as 'POST', url } }]));
    expect(res.status).toBe(status);
    expect(res.body.issue[0].diagnostics).toMatch(/Bundle\.entry\[3\]/);
    expect(await state()).toEqual(before);
  });

  it('a version conflict inside a transaction rolls back all of it', async () => {
    const created = await request(server.app).post('/fhir/Patient').set('Content-Type', FHIR_JSON).send({ resourceType: 'Patient' });
    await request(server.app).put(`/fhir/Patient/${created.body.id}`).set('Content-Type', FHIR_JSON).send({ resourceType: 'Patient', id: created.body.id, active: true });
    const before = await state();
    const res = await post(ccpTransaction('9400', [{ resource: { resourceType: 'Patient', id: created.body.id }, request: { method: 'PUT', url: `Patient/${created.body.id}`, ifMatch: 'W/"1"' } }]));
    expect(res.status).toBe(412);
    expect(await state()).toEqual(before);
  });

  it('duplicate fullUrls, a reference to a missing urn:uuid, and a Bundle of the wrong type are 400s', async () => {
    const duplicate = ccpTransaction('9500');
    duplicate.entry![2].fullUrl = duplicate.entry![1].fullUrl;
    expect((await post(duplicate)).body.issue[0].diagnostics).toMatch(/appears more than once/);
    const dangling = ccpTransaction('9501');
    (dangling.entry![2].resource as { subject: { reference: string } }).subject.reference = 'urn:uuid:00000000-0000-4000-8000-00000000dead';
    const res = await post(dangling);
    expect(res.status).toBe(400);
    expect(res.body.issue[0].diagnostics).toMatch(/names no entry/);
    const wrong = await post({ resourceType: 'Bundle', type: 'collection', entry: [] });
    expect(wrong.status).toBe(400);
    expect(wrong.body.issue[0].expression).toEqual(['Bundle.type']);
  });

  it('a conditional update entry with no match creates, even where update-as-create is off', async () => {
    const strict = await openTestServer(backend, { allowUpdateCreate: false }, server);
    const criteria = `Patient?identifier=${encodeURIComponent(`${HCN}|9600`)}`;
    const entry = { resource: { resourceType: 'Patient', identifier: [{ system: HCN, value: '9600' }] }, request: { method: 'PUT', url: criteria } };
    const first = await request(strict.app).post('/fhir').set('Content-Type', FHIR_JSON).send({ resourceType: 'Bundle', type: 'transaction', entry: [entry] });
    expect(first.body.entry[0].response.status).toBe('201 Created');
    const second = await request(strict.app).post('/fhir').set('Content-Type', FHIR_JSON).send({ resourceType: 'Bundle', type: 'transaction', entry: [entry] });
    expect(second.body.entry[0].response.status).toBe('200 OK');
    expect(second.body.entry[0].resource.id).toBe(first.body.entry[0].resource.id);
  });

  it('a Bundle with more entries than BUNDLE_MAX_ENTRIES is a 413, and nothing is written', async () => {
    const small = await openTestServer(backend, { maxBundleEntries: 2 }, server);
    const before = await state();
    const res = await request(small.app).post('/fhir').set('Content-Type', FHIR_JSON).send(ccpTransaction('9700'));
    expect(res.status).toBe(413);
    expect(res.body.issue[0].diagnostics).toMatch(/3 entries; this server takes at most 2/);
    expect(await state()).toEqual(before);
  });

  it('transactions with the same conditions in opposite orders all succeed (locks are taken in one order)', async () => {
    const conditional = (hcn: string) => ({
      resource: { resourceType: 'Patient', identifier: [{ system: HCN, value: hcn }] },
      request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${HCN}|${hcn}` },
    });
    const rounds = Array.from({ length: 8 }, (_, i) => [`LOCK-A-${i}`, `LOCK-B-${i}`]);
    const results = await Promise.all(
      rounds.flatMap(([a, b]) => [
        post({ resourceType: 'Bundle', type: 'transaction', entry: [conditional(a), conditional(b)] }),
        post({ resourceType: 'Bundle', type: 'transaction', entry: [conditional(b), conditional(a)] }),
      ]),
    );
    expect(results.map((r) => r.status)).toEqual(Array(results.length).fill(200));
    for (const [a] of rounds) {
      const found = await request(server.app).get(`/fhir/Patient?identifier=${encodeURIComponent(`${HCN}|${a}`)}&_summary=count`);
      expect(found.body.total).toBe(1);
    }
  });

  it('transactions deleting the same criteria in opposite orders all succeed', async () => {
    const rounds = Array.from({ length: 6 }, (_, i) => [`DEL-A-${i}`, `DEL-B-${i}`]);
    for (const hcn of rounds.flat()) {
      const created = await request(server.app).post('/fhir/Patient').set('Content-Type', FHIR_JSON).send({ resourceType: 'Patient', identifier: [{ system: HCN, value: hcn }] });
      expect(created.status).toBe(201);
    }
    const deletion = (hcn: string) => ({ request: { method: 'DELETE', url: `Patient?identifier=${encodeURIComponent(`${HCN}|${hcn}`)}` } });
    const results = await Promise.all(
      rounds.flatMap(([a, b]) => [
        post({ resourceType: 'Bundle', type: 'transaction', entry: [deletion(a), deletion(b)] }),
        post({ resourceType: 'Bundle', type: 'transaction', entry: [deletion(b), deletion(a)] }),
      ]),
    );
    expect(results.map((r) => r.status)).toEqual(Array(results.length).fill(200));
    for (const hcn of rounds.flat()) {
      const found = await request(server.app).get(`/fhir/Patient?identifier=${encodeURIComponent(`${HCN}|${hcn}`)}&_summary=count`);
      expect(found.body.total).toBe(0);
    }
  });

  it('a bad ifNoneExist is a 400 naming the entry', async () => {
    const bundle = ccpTransaction('9800');
    bundle.entry![1].request!.ifNoneExist = 'birthdate=not-a-date';
    const res = await post(bundle);
    expect(res.status).toBe(400);
    expect(res.body.issue[0].diagnostics).toMatch(/^Bundle\.entry\[1\]/);
  });

  it('Prefer: return=minimal answers each entry with status, location and etag only', async () => {
    const res = await post(ccpTransaction('9900')).set('Prefer', 'return=minimal');
    expect(res.status).toBe(200);
    for (const entry of res.body.entry) {
      expect(entry).not.toHaveProperty('resource');
      expect(entry.response.location).toMatch(/^(CarePlan|Patient|Goal)\/[^/]+\/_history\/1$/);
      expect(entry.response.etag).toBe('W/"1"');
    }
  });

  it('a Bundle just under the body limit is taken; one just over it is a 413 and writes nothing', async () => {
    const limit = 256 * 1024;
    const small = await openTestServer(backend, { bodyLimitBytes: limit }, server);
    const sized = (bytes: number) => {
      const bundle = ccpTransaction(`SIZE-${bytes}`);
      const text = JSON.stringify(bundle);
      // Pad the Goal's description to the exact size wanted.
      (bundle.entry![2].resource as { description: { text: string } }).description.text += 'x'.repeat(bytes - Buffer.byteLength(text));
      return JSON.stringify(bundle);
    };
    const under = sized(limit - 1);
    expect(Buffer.byteLength(under)).toBe(limit - 1);
    const before = await state();
    const over = await request(small.app).post('/fhir').set('Content-Type', FHIR_JSON).send(sized(limit + 1));
    expect(over.status).toBe(413);
    expect(over.body.resourceType).toBe('OperationOutcome');
    expect(await state()).toEqual(before);
    const ok = await request(small.app).post('/fhir').set('Content-Type', FHIR_JSON).send(under);
    expect(ok.status).toBe(200);
  });

  it('a batch answers each entry on its own: the good ones are written, the bad one gets its outcome', async () => {
    const res = await post({
      resourceType: 'Bundle',
      type: 'batch',
      entry: [
        { resource: { resourceType: 'Patient', gender: 'female' }, request: { method: 'POST', url: 'Patient' } },
        { resource: { resourceType: 'Patient', gender: 'not-a-gender' }, request: { method: 'POST', url: 'Patient' } },
        { request: { method: 'GET', url: 'Patient/does-not-exist' } },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.type).toBe('batch-response');
    expect(res.body.entry.map((e: { response: { status: string } }) => e.response.status)).toEqual(['201 Created', '400 Bad Request', '404 Not Found']);
    expect(res.body.entry[1].response.outcome.resourceType).toBe('OperationOutcome');
  });

  it('a Synthea patient bundle loads as one transaction, every reference resolved', async () => {
    const dir = path.join(PROJECT_ROOT, '..', 'shared', 'data', 'synthea-r4');
    const file = 'Abram_Lemke_6c5d9ca9-54d7-42f5-bfae-a7c19cd217f2.json.gz';
    const synthea = JSON.parse(gunzipSync(readFileSync(path.join(dir, file))).toString('utf8')) as Bundle;
    const expected = synthea.entry!.filter((e) => e.resource!.resourceType === 'CarePlan').length;
    const res = await post(synthea);
    expect(res.status).toBe(200);
    expect(res.body.entry).toHaveLength(synthea.entry!.length);
    const plans = await request(server.app).get('/fhir/CarePlan?_summary=count&subject.family=Lemke');
    expect(plans.body.total).toBe(expected);
    const dangling = await server.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM search_reference i WHERE i.url LIKE 'urn:uuid:%'`,
    );
    expect(dangling[0].n).toBe(0);
  }, 120_000);
});
