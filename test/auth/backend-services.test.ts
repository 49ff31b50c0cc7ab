import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import request from 'supertest';
import type { Bundle, Observation } from 'fhir/r4';
import { BACKENDS, reportBackends } from '../support/backends.js';
import { backendClient } from '../support/backend-tokens.js';
import { openTestServer, type TestServer } from '../support/fhir-app.js';

reportBackends();

/** Links and the assertion audience are built from this base (SMART: aud is the token endpoint's URL). */
const BASE = 'https://ccp.test/fhir';
const TOKEN_URL = 'https://ccp.test/auth/token';
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const FHIR_JSON = 'application/fhir+json';

interface KeyPair {
  privateKey: CryptoKey;
  publicJwk: JWK;
  alg: 'RS384' | 'ES384';
}

async function keyPair(alg: 'RS384' | 'ES384'): Promise<KeyPair> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid: randomUUID(), alg }, alg };
}

/** A client assertion as SMART Backend Services describes it; `overrides` break one thing at a time. */
async function assertion(clientId: string, key: KeyPair, overrides: { aud?: string; exp?: number; jti?: string; kid?: string } = {}): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: key.alg, kid: overrides.kid ?? key.publicJwk.kid, typ: 'JWT' })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(overrides.aud ?? TOKEN_URL)
    .setExpirationTime(overrides.exp ?? Math.floor(Date.now() / 1000) + 240)
    .setJti(overrides.jti ?? randomUUID())
    .sign(key.privateKey);
}

describe.each(BACKENDS)('SMART Backend Services on $name', (backend) => {
  let server: TestServer;
  let rsa: KeyPair;
  let ec: KeyPair;
  let admin: string;

  const tokenRequest = (form: Record<string, string>) => request(server.app).post('/auth/token').type('form').send(form);
  const tokenFor = async (clientId: string, key: KeyPair, scope: string): Promise<string> => {
    const res = await tokenRequest({ grant_type: 'client_credentials', scope, client_assertion_type: JWT_BEARER, client_assertion: await assertion(clientId, key) });
    expect(res.status).toBe(200);
    return res.body.access_token as string;
  };
  const fhir = (token: string | undefined) => ({
    get: (path: string) => {
      const req = request(server.app).get(`/fhir/${path}`);
      return token ? req.set('Authorization', `Bearer ${token}`) : req;
    },
    post: (path: string, body: object) => {
      const req = request(server.app).post(`/fhir/${path}`).set('Content-Type', FHIR_JSON).send(body);
      return token ? req.set('Authorization', `Bearer ${token}`) : req;
    },
  });

  beforeAll(async () => {
    server = await openTestServer(backend, { baseUrl: BASE, auth: true });
    rsa = await keyPair('RS384');
    ec = await keyPair('ES384');
    await server.auth!.clients.save(backendClient('emr-vendor', rsa, 'system/Patient.rs system/Observation.rs?category=laboratory system/CarePlan.cruds'));
    await server.auth!.clients.save(backendClient('viewer', ec, 'system/*.rs'));
    await server.auth!.clients.save(backendClient('loader', rsa, 'system/*.cruds'));
    admin = await tokenFor('loader', rsa, 'system/*.cruds');
  });
  afterAll(async () => server?.close());

  it('RS384 and ES384 assertions get five-minute bearer tokens for the scopes asked and registered', async () => {
    const res = await tokenRequest({
      grant_type: 'client_credentials',
      scope: 'system/Patient.rs system/Encounter.rs',
      client_assertion_type: JWT_BEARER,
      client_assertion: await assertion('emr-vendor', rsa),
    });
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    // Encounter is not registered for this client: left out, and the response says what was granted.
    expect(res.body).toEqual({ access_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), token_type: 'bearer', expires_in: 300, scope: 'system/Patient.rs' });

    const viewer = await tokenFor('viewer', ec, 'system/*.rs');
    expect((await fhir(viewer).get('Patient').expect(200)).body.resourceType).toBe('Bundle');
  });

  it('the FHIR API wants a token: none is a 401 with a Bearer challenge, a bad one a 401 invalid_token; metadata is public', async () => {
    const none = await fhir(undefined).get('Patient');
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(none.body.resourceType).toBe('OperationOutcome');
    // The hint names the discovery document, and following it finds one.
    const hinted = /see (\/\S+)/.exec(none.body.issue[0].diagnostics)?.[1];
    expect(hinted).toBe('/fhir/.well-known/smart-configuration');
    expect((await request(server.app).get(hinted!)).status).toBe(200);
    // An empty $TOKEN: the answer points at the token, not at the header's syntax.
    const empty = await request(server.app).get('/fhir/Patient').set('Authorization', 'Bearer ');
    expect(empty.status).toBe(400);
    expect(empty.body.issue[0].diagnostics).toMatch(/holds no token after Bearer .*getting the token may have failed/);
    const bad = await fhir('not-a-token').get('Patient');
    expect(bad.status).toBe(401);
    expect(bad.headers['www-authenticate']).toMatch(/error="invalid_token"/);
    expect((await fhir(undefined).get('metadata')).status).toBe(200);
    const smart = await request(server.app).get('/fhir/.well-known/smart-configuration').expect(200);
    expect(smart.body.token_endpoint).toBe(TOKEN_URL);
    expect(smart.body.token_endpoint_auth_signing_alg_values_supported).toEqual(['RS384', 'ES384']);
  });

  it('scopes are enforced per interaction: 403 with an OperationOutcome for what the token does not allow', async () => {
    const token = await tokenFor('emr-vendor', rsa, 'system/Patient.rs system/CarePlan.cruds');
    expect((await fhir(token).get('Patient')).status).toBe(200);
    const create = await fhir(token).post('Patient', { resourceType: 'Patient' });
    expect(create.status).toBe(403);
    expect(create.body.issue[0].code).toBe('forbidden');
    expect(create.body.issue[0].diagnostics).toMatch(/create Patient/);
    expect((await fhir(token).get('Encounter')).status).toBe(403);
    // The plans' patient, written with the administrator's token (this one may not create Patients).
    const x = (await fhir(admin).post('Patient', { resourceType: 'Patient' }).expect(201)).body.id as string;
    expect((await fhir(token).post('CarePlan', { resourceType: 'CarePlan', status: 'draft', intent: 'plan', subject: { reference: `Patient/${x}` } })).status).toBe(201);
    // Each entry of a transaction is checked: the Patient entry is refused, and nothing is written.
    const before = (await fhir(admin).get('CarePlan?_summary=count')).body.total;
    const transaction = await fhir(token).post('', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { resource: { resourceType: 'CarePlan', status: 'draft', intent: 'plan', subject: { reference: `Patient/${x}` } }, request: { method: 'POST', url: 'CarePlan' } },
        { resource: { resourceType: 'Patient' }, request: { method: 'POST', url: 'Patient' } },
      ],
    });
    expect(transaction.status).toBe(403);
    expect(transaction.body.issue[0].diagnostics).toMatch(/Bundle\.entry\[1\]/);
    expect((await fhir(admin).get('CarePlan?_summary=count')).body.total).toBe(before);
    // A search of every type keeps to the types the token allows.
    const all = await fhir(token).get('?_count=100');
    expect(all.status).toBe(200);
    expect(new Set((all.body as Bundle).entry?.map((e) => e.resource!.resourceType))).toEqual(new Set(['CarePlan', 'Patient']));
  });

  it('a scope with a query reaches only the rows it names: in totals, pages, reads and includes', async () => {
    const patient = await fhir(admin).post('Patient', { resourceType: 'Patient' }).expect(201);
    const observation = (category: string): Observation => ({
      resourceType: 'Observation',
      status: 'final',
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: category }] }],
      code: { text: category },
      subject: { reference: `Patient/${patient.body.id}` },
    });
    const lab = await fhir(admin).post('Observation', observation('laboratory')).expect(201);
    const vital = await fhir(admin).post('Observation', observation('vital-signs')).expect(201);

    const token = await tokenFor('emr-vendor', rsa, 'system/Patient.rs system/Observation.rs?category=laboratory');
    const found = await fhir(token).get(`Observation?subject=Patient/${patient.body.id}&_total=accurate`);
    expect(found.status).toBe(200);
    expect(found.body.total).toBe(1);
    expect(found.body.entry.map((e: { resource: { id: string } }) => e.resource.id)).toEqual([lab.body.id]);
    expect((await fhir(token).get(`Observation/${lab.body.id}`)).status).toBe(200);
    expect((await fhir(token).get(`Observation/${vital.body.id}`)).status).toBe(404);
    const included = await fhir(token).get(`Patient?_id=${patient.body.id}&_revinclude=Observation:subject`);
    expect(included.body.entry.map((e: { resource: { id: string } }) => e.resource.id).sort()).toEqual([patient.body.id, lab.body.id].sort());
    const unrestricted = await fhir(admin).get(`Observation?subject=Patient/${patient.body.id}&_total=accurate`);
    expect(unrestricted.body.total).toBe(2);
  });

  it.each([
    ['a replayed jti', async () => ({ jti: 'same-jti' })],
    ['an expired assertion', async () => ({ exp: Math.floor(Date.now() / 1000) - 120 })],
    ['the wrong audience', async () => ({ aud: 'https://elsewhere.test/token' })],
    ['an exp more than five minutes ahead', async () => ({ exp: Math.floor(Date.now() / 1000) + 3600 })],
    ['an unknown kid', async () => ({ kid: 'nobody' })],
  ])('refuses %s with invalid_client', async (label, overrides) => {
    const send = async () =>
      tokenRequest({ grant_type: 'client_credentials', scope: 'system/Patient.rs', client_assertion_type: JWT_BEARER, client_assertion: await assertion('emr-vendor', rsa, await overrides()) });
    if (label === 'a replayed jti') expect((await send()).status).toBe(200);
    const res = await send();
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
    expect(JSON.stringify(res.body)).not.toMatch(/at .+\.(js|ts):\d+/);
  });

  it('refuses a tampered signature, alg none, and HS256 signed with the public key', async () => {
    const good = await assertion('emr-vendor', rsa);
    const [header, payload, signature] = good.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const tamperedPayload = Buffer.from(JSON.stringify({ ...claims, sub: 'emr-vendor', extra: 1 })).toString('base64url');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${payload}.`;
    const hmac = await new SignJWT({ ...claims, jti: randomUUID() })
      .setProtectedHeader({ alg: 'HS256', kid: rsa.publicJwk.kid })
      .sign(new TextEncoder().encode(JSON.stringify(rsa.publicJwk)));
    for (const forged of [`${header}.${tamperedPayload}.${signature}`, none, hmac]) {
      const res = await tokenRequest({ grant_type: 'client_credentials', scope: 'system/Patient.rs', client_assertion_type: JWT_BEARER, client_assertion: forged });
      expect(res.status).toBe(401);
      expect(res.body.error).toBe('invalid_client');
    }
  });

  it('refuses scopes not registered, non-system scopes, and unknown grant types', async () => {
    const ask = async (form: Record<string, string>) => tokenRequest({ client_assertion_type: JWT_BEARER, client_assertion: await assertion('emr-vendor', rsa), ...form });
    expect((await ask({ grant_type: 'client_credentials', scope: 'system/Encounter.rs' })).body.error).toBe('invalid_scope');
    expect((await ask({ grant_type: 'client_credentials', scope: 'user/Patient.rs' })).body.error).toBe('invalid_scope');
    expect((await ask({ grant_type: 'client_credentials' })).body.error).toBe('invalid_scope');
    const unknown = await ask({ grant_type: 'password' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toBe('unsupported_grant_type');
  });

  it('deactivating a client or its organization stops its tokens at once', async () => {
    const organization = await fhir(admin).post('Organization', { resourceType: 'Organization', active: true, name: 'Viewer Org' }).expect(201);
    const key = await keyPair('ES384');
    const client = backendClient('provincial-viewer', key, 'system/*.rs', { organizationId: organization.body.id });
    await server.auth!.clients.save(client);
    const token = await tokenFor('provincial-viewer', key, 'system/Patient.rs');
    expect((await fhir(token).get('Patient')).status).toBe(200);

    await request(server.app)
      .put(`/fhir/Organization/${organization.body.id}`)
      .set('Authorization', `Bearer ${admin}`)
      .set('Content-Type', FHIR_JSON)
      .send({ resourceType: 'Organization', id: organization.body.id, active: false, name: 'Viewer Org' })
      .expect(200);
    expect((await fhir(token).get('Patient')).status).toBe(401);

    const other = await tokenFor('viewer', ec, 'system/Patient.rs');
    await server.auth!.clients.save({ ...backendClient('viewer', ec, 'system/*.rs'), active: false });
    expect((await fhir(other).get('Patient')).status).toBe(401);
    await server.auth!.clients.save(backendClient('viewer', ec, 'system/*.rs'));
  });
});
