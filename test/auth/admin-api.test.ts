import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { CarePlan, Organization, Patient, Practitioner, PractitionerRole } from 'fhir/r4';
import { generateKeyPair, exportJWK } from 'jose';
import request from 'supertest';
import { ROLE_SYSTEM } from '../../server/access/roles.js';
import { hashPassword } from '../../server/auth/secrets.js';
import { applyClientsFile } from '../../server/auth/static-config.js';
import { ConfigError } from '../../server/config/config.js';
import { BACKENDS, reportBackends } from '../support/backends.js';
import { openTestServer, type TestServer } from '../support/fhir-app.js';
import { authorizeThrough, Browser, exchangeCode, location, pageTitle, person, type Person, pkce, registerApp } from '../support/smart-flow.js';

reportBackends();

/**
 * The authorization server's admin API (JSON under /auth/admin, RFC 6750 bearer tokens with the `admin` scope,
 * `ehr-launch` for launch contexts) and the CLIENTS_FILE configuration. Client registrations are judged by
 * RFC 6749 §3.1.2 / RFC 8252 §7.3 (redirect URIs), RFC 7591 (registration metadata) and SMART App Launch 2.
 */

const BASE = 'https://ccp.test/fhir';
const OPS_SECRET = 'ops-secret-for-admin-tests';

/** A SMART app's registration as the admin API takes it. */
function appRegistration(clientId: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    client_id: clientId,
    client_name: `App ${clientId}`,
    kind: 'public',
    token_endpoint_auth_method: 'none',
    redirect_uris: [`https://${clientId}.example/callback`],
    scope: 'openid fhirUser launch launch/patient offline_access user/*.rs patient/*.rs',
    ...extra,
  };
}

/** The problems of a 400: each one names its field first. */
function problemsOf(res: request.Response): string[] {
  expect(res.status).toBe(400);
  expect(res.body.error).toBe('invalid_request');
  expect(Array.isArray(res.body.problems)).toBe(true);
  return res.body.problems as string[];
}

function expectProblem(problems: string[], field: string, mentions?: string): void {
  expect(problems.some((problem) => problem.startsWith(`${field}:`) && (mentions === undefined || problem.includes(mentions)))).toBe(true);
}

describe.each(BACKENDS)('admin API on $name', (backend) => {
  let server: TestServer;
  let opsToken: string;
  let launchOnlyToken: string;
  let readerToken: string;
  let patient: Patient;
  let plan: CarePlan;
  let casey: Person;

  const api = (token: string | undefined) => {
    const auth = (req: request.Test): request.Test => (token ? req.set('Authorization', `Bearer ${token}`) : req);
    return {
      get: (path: string) => auth(request(server.app).get(`/auth/admin${path}`)),
      post: (path: string, body: unknown) => auth(request(server.app).post(`/auth/admin${path}`).set('Content-Type', 'application/json').send(JSON.stringify(body))),
      put: (path: string, body: unknown) => auth(request(server.app).put(`/auth/admin${path}`).set('Content-Type', 'application/json').send(JSON.stringify(body))),
      patch: (path: string, body: unknown) => auth(request(server.app).patch(`/auth/admin${path}`).set('Content-Type', 'application/json').send(JSON.stringify(body))),
    };
  };
  const fhirGet = (token: string, path: string) => request(server.app).get(`/fhir/${path}`).set('Authorization', `Bearer ${token}`);
  const clientCredentials = (clientId: string, secret: string, scope: string) =>
    request(server.app).post('/auth/token').auth(clientId, secret).type('form').send({ grant_type: 'client_credentials', scope });

  async function backendClient(clientId: string, secret: string, scope: string): Promise<string> {
    await server.auth!.clients.save({
      clientId, name: clientId, kind: 'backend', authMethod: 'client_secret_basic', secretHash: await hashPassword(secret), redirectUris: [], scope, active: true, source: 'api',
    });
    const res = await clientCredentials(clientId, secret, scope);
    expect(res.status).toBe(200);
    return res.body.access_token as string;
  }

  /** A PractitionerRole (with its Organization and Practitioner) of `roles`, as stored FHIR resources. */
  async function practitionerRole(roles: string[]): Promise<string> {
    const store = server.context.store;
    const organization = await store.create({ resourceType: 'Organization', active: true, name: 'Clinic' } as Organization);
    const practitioner = await store.create({ resourceType: 'Practitioner', active: true, name: [{ family: 'New' }] } as Practitioner);
    const role = await store.create({
      resourceType: 'PractitionerRole', active: true,
      practitioner: { reference: `Practitioner/${practitioner.id}` }, organization: { reference: `Organization/${organization.id}` },
      code: [{ coding: roles.map((code) => ({ system: ROLE_SYSTEM, code })) }],
    } as PractitionerRole);
    return role.id!;
  }

  /** A user's access token for `clientId` with `scope`, through the authorization code flow. */
  async function userToken(user: { username: string; password: string }, clientId: string, scope: string, redirectUri = 'https://app.test/callback') {
    const { verifier, challenge } = pkce();
    const back = await authorizeThrough(new Browser(server), { client_id: clientId, scope, aud: BASE, state: 'st-admin', code_challenge: challenge, redirect_uri: redirectUri }, user);
    const code = back.searchParams.get('code');
    expect(code).toBeTruthy();
    return exchangeCode(server, { code: code!, code_verifier: verifier, redirect_uri: redirectUri, client_id: clientId });
  }

  beforeAll(async () => {
    server = await openTestServer(backend, { baseUrl: BASE, auth: true });
    opsToken = await backendClient('ops', OPS_SECRET, 'admin ehr-launch system/*.cruds');
    launchOnlyToken = await backendClient('ehr', 'ehr-secret-for-admin-tests', 'ehr-launch');
    readerToken = await backendClient('reader', 'reader-secret-for-admin-tests', 'system/*.rs');
    patient = (await server.context.store.create({ resourceType: 'Patient', name: [{ family: 'Rivera' }] } as Patient)) as Patient;
    plan = (await server.context.store.create({ resourceType: 'CarePlan', status: 'active', intent: 'plan', subject: { reference: `Patient/${patient.id}` } } as CarePlan)) as CarePlan;
    casey = await person(server, 'casey', ['contributor']);
    await registerApp(server, { clientId: 'app' });
  });
  afterAll(async () => server?.close());

  describe('who may call it (RFC 6750)', () => {
    it('no token is a 401 with a Bearer challenge; an unknown token a 401 invalid_token', async () => {
      const none = await api(undefined).get('/clients');
      expect(none.status).toBe(401);
      expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
      expect(Array.isArray(none.body)).toBe(false);
      const bad = await api('not-a-token-anyone-issued').get('/clients');
      expect(bad.status).toBe(401);
      expect(bad.headers['www-authenticate']).toMatch(/error="invalid_token"/);
      expect((await api(undefined).post('/clients', appRegistration('sneaky'))).status).toBe(401);
      expect(await server.auth!.clients.find('sneaky')).toBeUndefined();
    });

    it('a token without the admin scope is a 403 insufficient_scope, and changes nothing', async () => {
      const res = await api(readerToken).get('/clients');
      expect(res.status).toBe(403);
      expect(res.body.error).toBe('insufficient_scope');
      expect((await api(readerToken).post('/clients', appRegistration('sneaky'))).status).toBe(403);
      expect((await api(readerToken).post('/launch', { patient: patient.id })).status).toBe(403);
      expect(await server.auth!.clients.find('sneaky')).toBeUndefined();
    });

    it('a 403 for insufficient scope carries a Bearer error="insufficient_scope" challenge (RFC 6750 §3)', async () => {
      const res = await api(readerToken).get('/clients');
      expect(res.status).toBe(403);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer\b.*error="insufficient_scope"/);
    });

    it('a token with only ehr-launch may create launches but not manage clients or accounts', async () => {
      const launch = await api(launchOnlyToken).post('/launch', { patient: patient.id });
      expect(launch.status).toBe(201);
      expect((await api(launchOnlyToken).post('/clients', appRegistration('by-ehr'))).status).toBe(403);
      expect((await api(launchOnlyToken).get('/clients')).status).toBe(403);
      expect((await api(launchOnlyToken).get('/users')).status).toBe(403);
      expect(await server.auth!.clients.find('by-ehr')).toBeUndefined();
    });

    it("a user's token: an administrator with the admin scope may use it; others, or without the scope, may not", async () => {
      await registerApp(server, { clientId: 'console', scope: 'openid fhirUser admin user/*.rs' });
      const ada = await person(server, 'ada', ['administrator']);
      const adminToken = await userToken(ada, 'console', 'openid fhirUser admin');
      expect(adminToken.status).toBe(200);
      const listed = await api(adminToken.body.access_token).get('/clients');
      expect(listed.status).toBe(200);
      expect(listed.body.map((client: { client_id: string }) => client.client_id)).toContain('console');

      // The contributor is granted the scope by the app's registration, but their role is not administrator.
      const notAdmin = await userToken(casey, 'console', 'openid fhirUser admin');
      expect(notAdmin.status).toBe(200);
      expect((await api(notAdmin.body.access_token).get('/clients')).status).toBe(403);
      expect((await api(notAdmin.body.access_token).post('/clients', appRegistration('by-contributor'))).status).toBe(403);
      expect(await server.auth!.clients.find('by-contributor')).toBeUndefined();

      const withoutScope = await userToken(ada, 'console', 'openid fhirUser user/Patient.rs');
      expect(withoutScope.status).toBe(200);
      expect((await api(withoutScope.body.access_token).get('/clients')).status).toBe(403);
    });
  });

  describe('clients', () => {
    it('registers a public app (201, no secret); it can start an authorization at once', async () => {
      const res = await api(opsToken).post('/clients', appRegistration('pub-app'));
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ client_id: 'pub-app', kind: 'public', token_endpoint_auth_method: 'none', redirect_uris: ['https://pub-app.example/callback'], active: true });
      expect(res.body.client_secret).toBeUndefined();
      const { challenge } = pkce();
      const started = await new Browser(server).get(`/auth/authorize?${new URLSearchParams({
        response_type: 'code', client_id: 'pub-app', redirect_uri: 'https://pub-app.example/callback', scope: 'openid fhirUser', aud: BASE, state: 's', code_challenge: challenge, code_challenge_method: 'S256',
      })}`);
      expect(location(started)).toMatch(/^\/auth\/interaction\//);
    });

    it('registers a confidential app: the secret is shown once, works at the token endpoint, and is never shown again', async () => {
      const res = await api(opsToken).post('/clients', appRegistration('conf-app', {
        kind: 'confidential', token_endpoint_auth_method: 'client_secret_basic', scope: 'openid fhirUser offline_access user/*.rs',
      }));
      expect(res.status).toBe(201);
      const secret = res.body.client_secret as string;
      expect(typeof secret).toBe('string');
      expect(secret.length).toBeGreaterThanOrEqual(32);

      // The secret authenticates the app at /auth/token; a wrong one does not, and leaves the code usable.
      const { verifier, challenge } = pkce();
      const back = await authorizeThrough(new Browser(server), {
        client_id: 'conf-app', scope: 'openid fhirUser user/Patient.rs', aud: BASE, state: 'st-conf', code_challenge: challenge, redirect_uri: 'https://conf-app.example/callback',
      }, casey);
      const code = back.searchParams.get('code')!;
      const wrong = await exchangeCode(server, { code, code_verifier: verifier, redirect_uri: 'https://conf-app.example/callback' }, ['conf-app', `${secret}x`]);
      expect(wrong.status).toBe(401);
      expect(wrong.body.error).toBe('invalid_client');
      const token = await exchangeCode(server, { code, code_verifier: verifier, redirect_uri: 'https://conf-app.example/callback' }, ['conf-app', secret]);
      expect(token.status).toBe(200);
      expect((await fhirGet(token.body.access_token, 'Patient')).status).toBe(200);

      const one = await api(opsToken).get('/clients/conf-app');
      const all = await api(opsToken).get('/clients');
      expect(one.status).toBe(200);
      expect(one.body.client_id).toBe('conf-app');
      for (const text of [one.text, all.text]) {
        expect(text).not.toContain(secret);
        expect(text).not.toMatch(/scrypt\$/);
        expect(text).not.toMatch(/"client_secret"|secret_?hash/i);
      }
    });

    it('an invalid registration is a 400 listing every problem, each by field, and registers nothing', async () => {
      const many = problemsOf(await api(opsToken).post('/clients', appRegistration('bad-app', {
        redirect_uris: ['http://app.example/callback', 'https://app.example/callback#fragment'],
        scope: 'openid system/Patient.rs',
      })));
      expectProblem(many, 'redirect_uris', 'http://app.example/callback');
      expectProblem(many, 'redirect_uris', '#fragment');
      expectProblem(many, 'scope', 'system/Patient.rs');
      expect(many.length).toBeGreaterThanOrEqual(3);

      const { redirect_uris: _omitted, ...withoutRedirects } = appRegistration('bad-app');
      expectProblem(problemsOf(await api(opsToken).post('/clients', withoutRedirects)), 'redirect_uris');

      const backend = { client_id: 'bad-backend', client_name: 'Bad backend', kind: 'backend', token_endpoint_auth_method: 'private_key_jwt', scope: 'system/Patient.rs' };
      expectProblem(problemsOf(await api(opsToken).post('/clients', backend)), 'jwks');
      const { privateKey } = await generateKeyPair('ES384', { extractable: true });
      const privateJwk = { ...(await exportJWK(privateKey)), kid: 'k1', alg: 'ES384' };
      expect(privateJwk.d).toBeDefined();
      expectProblem(problemsOf(await api(opsToken).post('/clients', { ...backend, jwks: { keys: [privateJwk] } })), 'jwks');

      expect(await server.auth!.clients.find('bad-app')).toBeUndefined();
      expect(await server.auth!.clients.find('bad-backend')).toBeUndefined();
      expect((await api(opsToken).get('/clients/bad-app')).status).toBe(404);

      // Loopback http is allowed (RFC 8252 §7.3), with any port.
      expect((await api(opsToken).post('/clients', appRegistration('native-app', { redirect_uris: ['http://127.0.0.1:51004/callback'] }))).status).toBe(201);
    });

    it('a backend client acts for a current Organization: one that does not exist (or was deleted) is a 400 naming organization', async () => {
      const registration = { client_id: 'org-job', client_name: 'Org job', kind: 'backend', token_endpoint_auth_method: 'client_secret_basic', scope: 'system/Patient.rs' };
      const missing = problemsOf(await api(opsToken).post('/clients', { ...registration, organization: 'Organization/no-such-org' }));
      expectProblem(missing, 'organization', 'Organization/no-such-org does not exist');
      expect(missing.join(' ')).toMatch(/create the Organization first/);
      expect(await server.auth!.clients.find('org-job')).toBeUndefined();

      const store = server.context.store;
      const gone = await store.create({ resourceType: 'Organization', active: true, name: 'Closed clinic' } as Organization);
      await store.delete('Organization', gone.id!);
      expectProblem(problemsOf(await api(opsToken).post('/clients', { ...registration, organization: `Organization/${gone.id}` })), 'organization', 'does not exist');

      const clinic = await store.create({ resourceType: 'Organization', active: true, name: 'Open clinic' } as Organization);
      const created = await api(opsToken).post('/clients', { ...registration, organization: `Organization/${clinic.id}` });
      expect(created.status).toBe(201);
      expect(created.body.organization).toBe(`Organization/${clinic.id}`);
      // A change to a missing organization is refused the same way, and leaves the client as it was.
      expectProblem(problemsOf(await api(opsToken).put('/clients/org-job', { ...registration, organization: 'Organization/no-such-org' })), 'organization', 'does not exist');
      expect((await server.auth!.clients.find('org-job'))?.organizationId).toBe(clinic.id);
    });

    it('a taken client_id is a 409, and the registered client is unchanged', async () => {
      expect((await api(opsToken).post('/clients', appRegistration('twice'))).status).toBe(201);
      const again = await api(opsToken).post('/clients', appRegistration('twice', { client_name: 'Impostor', redirect_uris: ['https://impostor.example/cb'] }));
      expect(again.status).toBe(409);
      const stored = await api(opsToken).get('/clients/twice');
      expect(stored.body.client_name).toBe('App twice');
      expect(stored.body.redirect_uris).toEqual(['https://twice.example/callback']);
    });

    it('PUT deactivating a client stops its tokens at once and it gets no new ones', async () => {
      const registration = { client_id: 'batch-job', client_name: 'Batch job', kind: 'backend', token_endpoint_auth_method: 'client_secret_basic', scope: 'system/Patient.rs' };
      const created = await api(opsToken).post('/clients', registration);
      expect(created.status).toBe(201);
      const token = await clientCredentials('batch-job', created.body.client_secret, 'system/Patient.rs');
      expect(token.status).toBe(200);
      expect((await fhirGet(token.body.access_token, 'Patient')).status).toBe(200);

      const put = await api(opsToken).put('/clients/batch-job', { ...registration, active: false });
      expect(put.status).toBe(200);
      expect(put.body.active).toBe(false);
      expect((await fhirGet(token.body.access_token, 'Patient')).status).toBe(401);
      const refused = await clientCredentials('batch-job', created.body.client_secret, 'system/Patient.rs');
      expect(refused.status).toBe(401);
      expect(refused.body.error).toBe('invalid_client');
      expect(refused.body.access_token).toBeUndefined();
    });
  });

  describe('accounts', () => {
    it('creates an account for a PractitionerRole, who can then sign in; bad accounts are 400s by field', async () => {
      const role = await practitionerRole(['contributor']);
      const tooShort = problemsOf(await api(opsToken).post('/users', { username: 'newbie', password: 'eleven-char', practitioner_role: `PractitionerRole/${role}` }));
      // One problem, the real one: the password was given, it is too short.
      expect(tooShort.filter((problem) => problem.startsWith('password:'))).toEqual(['password: at least 12 characters']);
      expect(problemsOf(await api(opsToken).post('/users', { username: 'newbie', practitioner_role: `PractitionerRole/${role}` }))).toContain('password: required with a username');
      expectProblem(problemsOf(await api(opsToken).post('/users', { username: 'newbie', password: 'long enough password', practitioner_role: 'PractitionerRole/does-not-exist' })), 'practitioner_role');
      expectProblem(problemsOf(await api(opsToken).post('/users', { username: casey.username, password: 'long enough password', practitioner_role: `PractitionerRole/${role}` })), 'username');
      expect((await server.db.query("SELECT 1 FROM auth_user WHERE username = 'newbie'"))).toHaveLength(0);

      const password = 'twelve-chars'; // exactly the minimum length
      expect(password).toHaveLength(12);
      const created = await api(opsToken).post('/users', { username: 'newbie', password, practitioner_role: `PractitionerRole/${role}` });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ id: expect.any(String), username: 'newbie', practitioner_role: `PractitionerRole/${role}`, active: true });
      expect(created.text).not.toContain(password);
      expect(created.text).not.toMatch(/scrypt\$|password/i);

      const listed = await api(opsToken).get('/users');
      expect(listed.status).toBe(200);
      expect(listed.body.map((user: { username?: string }) => user.username)).toContain('newbie');
      expect(listed.text).not.toMatch(/scrypt\$|password/i);

      const token = await userToken({ username: 'newbie', password }, 'app', 'openid fhirUser user/CarePlan.rs');
      expect(token.status).toBe(200);
      expect((await fhirGet(token.body.access_token, 'CarePlan')).status).toBe(200);
    });

    it('PATCH active:false stops the account’s tokens and its sign-in; an unknown account is a 404', async () => {
      const role = await practitionerRole(['contributor']);
      const created = await api(opsToken).post('/users', { username: 'leaver', password: 'a long password', practitioner_role: `PractitionerRole/${role}` });
      expect(created.status).toBe(201);
      const token = await userToken({ username: 'leaver', password: 'a long password' }, 'app', 'offline_access user/CarePlan.rs');
      expect((await fhirGet(token.body.access_token, 'CarePlan')).status).toBe(200);

      const patched = await api(opsToken).patch(`/users/${created.body.id}`, { active: false });
      expect(patched.status).toBe(200);
      expect(patched.body.active).toBe(false);
      expect((await fhirGet(token.body.access_token, 'CarePlan')).status).toBe(401);
      const refreshed = await request(server.app).post('/auth/token').type('form').send({ grant_type: 'refresh_token', refresh_token: token.body.refresh_token, client_id: 'app' });
      expect(refreshed.status).toBe(400);
      expect(refreshed.body.error).toBe('invalid_grant');

      const browser = new Browser(server);
      const { challenge } = pkce();
      const interaction = location(await browser.get(`/auth/authorize?${new URLSearchParams({
        response_type: 'code', client_id: 'app', redirect_uri: 'https://app.test/callback', scope: 'user/CarePlan.rs', aud: BASE, state: 's', code_challenge: challenge, code_challenge_method: 'S256',
      })}`));
      const signIn = await browser.post(`${interaction}/sign-in`, { username: 'leaver', password: 'a long password' });
      expect(signIn.status).toBe(400);
      expect(pageTitle(signIn)).toBe('Sign in');
      expect(browser.cookies.has('ccp_session')).toBe(false);

      expect((await api(opsToken).patch('/users/no-such-account', { active: false })).status).toBe(404);
      expectProblem(problemsOf(await api(opsToken).patch(`/users/${created.body.id}`, { password: 'short' })), 'password');
    });

    /** A new account of a new contributor role, signed in through the code flow with a refresh token (offline_access, which outlives sessions). */
    async function signedInAccount(username: string, password: string) {
      const role = await practitionerRole(['contributor']);
      const created = await api(opsToken).post('/users', { username, password, practitioner_role: `PractitionerRole/${role}` });
      expect(created.status).toBe(201);
      const token = await userToken({ username, password }, 'app', 'offline_access user/CarePlan.rs');
      expect(token.status).toBe(200);
      expect(token.body.refresh_token).toEqual(expect.any(String));
      expect((await fhirGet(token.body.access_token, 'CarePlan')).status).toBe(200);
      return { id: created.body.id as string, role, access: token.body.access_token as string, refresh: token.body.refresh_token as string };
    }
    const refresh = (refreshToken: string) =>
      request(server.app).post('/auth/token').type('form').send({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: 'app' });

    it('PATCH password ends the account’s tokens at once, refresh tokens too; the new password signs in, the old one not', async () => {
      const before = await signedInAccount('rotated', 'the old long password');
      const patched = await api(opsToken).patch(`/users/${before.id}`, { password: 'the new long password' });
      expect(patched.status).toBe(200);

      const refused = await fhirGet(before.access, 'CarePlan');
      expect(refused.status).toBe(401);
      expect(refused.headers['www-authenticate']).toMatch(/error="invalid_token"/);
      const refreshed = await refresh(before.refresh);
      expect(refreshed.status).toBe(400);
      expect(refreshed.body.error).toBe('invalid_grant');

      expect((await userToken({ username: 'rotated', password: 'the new long password' }, 'app', 'user/CarePlan.rs')).status).toBe(200);
      const browser = new Browser(server);
      const { challenge } = pkce();
      const interaction = location(await browser.get(`/auth/authorize?${new URLSearchParams({
        response_type: 'code', client_id: 'app', redirect_uri: 'https://app.test/callback', scope: 'user/CarePlan.rs', aud: BASE, state: 's', code_challenge: challenge, code_challenge_method: 'S256',
      })}`));
      expect((await browser.post(`${interaction}/sign-in`, { username: 'rotated', password: 'the old long password' })).status).toBe(400);
    });

    it('PATCH practitioner_role to another role ends the account’s tokens at once; the same role, or active:true, keeps them', async () => {
      const account = await signedInAccount('moved', 'a long enough password');
      // Not a change: the role it already has, and active as it already is.
      expect((await api(opsToken).patch(`/users/${account.id}`, { practitioner_role: `PractitionerRole/${account.role}`, active: true })).status).toBe(200);
      expect((await fhirGet(account.access, 'CarePlan')).status).toBe(200);
      const kept = await refresh(account.refresh);
      expect(kept.status).toBe(200);

      const otherRole = await practitionerRole(['contributor']);
      const patched = await api(opsToken).patch(`/users/${account.id}`, { practitioner_role: `PractitionerRole/${otherRole}` });
      expect(patched.status).toBe(200);
      expect(patched.body.practitioner_role).toBe(`PractitionerRole/${otherRole}`);
      expect((await fhirGet(account.access, 'CarePlan')).status).toBe(401);
      expect((await fhirGet(kept.body.access_token, 'CarePlan')).status).toBe(401);
      const refreshed = await refresh(kept.body.refresh_token);
      expect(refreshed.status).toBe(400);
      expect(refreshed.body.error).toBe('invalid_grant');
      // Signing in again gives a token that works, in the new role.
      expect((await userToken({ username: 'moved', password: 'a long enough password' }, 'app', 'user/CarePlan.rs')).status).toBe(200);
    });

    it('a deactivated and reactivated account gets none of its old tokens back', async () => {
      const account = await signedInAccount('returner', 'a long enough password');
      expect((await api(opsToken).patch(`/users/${account.id}`, { active: false })).status).toBe(200);
      expect((await api(opsToken).patch(`/users/${account.id}`, { active: true })).status).toBe(200);
      expect((await fhirGet(account.access, 'CarePlan')).status).toBe(401);
      expect((await refresh(account.refresh)).status).toBe(400);
    });
  });

  describe('EHR launch contexts', () => {
    it('a launch of existing resources is 201 with an opaque launch value the app can use; a missing patient is a 400', async () => {
      const res = await api(opsToken).post('/launch', { patient: patient.id, fhirContext: [{ reference: `CarePlan/${plan.id}` }] });
      expect(res.status).toBe(201);
      expect(res.body.launch).toEqual(expect.any(String));
      expect(res.body.launch).not.toContain(patient.id);
      expect(res.body.expires_in).toBeGreaterThan(0);

      const authorize = (launch: string) => {
        const { challenge } = pkce();
        return new Browser(server).get(`/auth/authorize?${new URLSearchParams({
          response_type: 'code', client_id: 'app', redirect_uri: 'https://app.test/callback', scope: 'launch patient/CarePlan.rs', aud: BASE, state: 'st-l', launch, code_challenge: challenge, code_challenge_method: 'S256',
        })}`);
      };
      expect(location(await authorize(res.body.launch))).toMatch(/^\/auth\/interaction\//);
      const unknown = new URL(location(await authorize('not-a-launch-anyone-made')));
      expect(unknown.searchParams.get('error')).toBe('invalid_request');

      const missing = problemsOf(await api(opsToken).post('/launch', { patient: 'no-such-patient' }));
      expectProblem(missing, 'patient');
      const missingContext = problemsOf(await api(opsToken).post('/launch', { patient: patient.id, fhirContext: [{ reference: 'CarePlan/no-such-plan' }] }));
      expectProblem(missingContext, 'fhirContext[0]');
      expect(problemsOf(await api(opsToken).post('/launch', {})).length).toBeGreaterThan(0);
    });
  });

  describe('CLIENTS_FILE (applyClientsFile)', () => {
    let folder: string;
    beforeAll(() => {
      folder = mkdtempSync(path.join(tmpdir(), 'ccp-clients-'));
    });
    afterAll(() => rmSync(folder, { recursive: true, force: true }));

    const file = (name: string, entries: unknown[]) => {
      const at = path.join(folder, `${name}-${backend.name}.json`);
      writeFileSync(at, JSON.stringify(entries));
      return at;
    };
    const cfgApp = appRegistration('cfg-app');
    const cfgBackend = { client_id: 'cfg-backend', client_name: 'Config backend', kind: 'backend', token_endpoint_auth_method: 'client_secret_basic', scope: 'system/Patient.rs', clientSecretEnv: 'CFG_BACKEND_SECRET' };
    const env = { CFG_BACKEND_SECRET: 'config-backend-secret-value' };

    it('registers the file’s clients with source config; a secret from clientSecretEnv works', async () => {
      expect(await applyClientsFile(server.auth!, file('both', [cfgApp, cfgBackend]), env)).toBe(2);
      const app = await server.auth!.clients.find('cfg-app');
      const service = await server.auth!.clients.find('cfg-backend');
      expect(app).toMatchObject({ source: 'config', active: true, kind: 'public', redirectUris: ['https://cfg-app.example/callback'] });
      expect(service).toMatchObject({ source: 'config', active: true, kind: 'backend', authMethod: 'client_secret_basic' });
      const token = await clientCredentials('cfg-backend', env.CFG_BACKEND_SECRET, 'system/Patient.rs');
      expect(token.status).toBe(200);
      expect((await fhirGet(token.body.access_token, 'Patient')).status).toBe(200);
      expect((await clientCredentials('cfg-backend', 'not-the-secret', 'system/Patient.rs')).status).toBe(401);
    });

    it('an invalid entry throws a ConfigError naming the entry and the field, and applies nothing', async () => {
      const bad = appRegistration('cfg-bad', { redirect_uris: ['http://cfg-bad.example/callback'] });
      const newcomer = appRegistration('cfg-newcomer');
      const error = await applyClientsFile(server.auth!, file('invalid', [newcomer, bad]), env).then(() => undefined, (thrown: unknown) => thrown);
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems.some((problem) => /client \[1\]/.test(problem) && /redirect_uris/.test(problem))).toBe(true);
      expect(await server.auth!.clients.find('cfg-newcomer')).toBeUndefined();
      expect(await server.auth!.clients.find('cfg-bad')).toBeUndefined();

      const noSecret = await applyClientsFile(server.auth!, file('no-secret', [cfgBackend]), {}).then(() => undefined, (thrown: unknown) => thrown);
      expect(noSecret).toBeInstanceOf(ConfigError);
      expect((noSecret as ConfigError).problems.some((problem) => /client \[0\]/.test(problem) && /CFG_BACKEND_SECRET/.test(problem))).toBe(true);
      // The clients of the last good file are still as they were.
      expect((await server.auth!.clients.find('cfg-app'))?.active).toBe(true);
    });

    it('an entry naming an Organization that does not exist is a ConfigError naming the entry and organization', async () => {
      const orphan = { ...cfgBackend, client_id: 'cfg-orphan', organization: 'Organization/cfg-no-such-org' };
      const error = await applyClientsFile(server.auth!, file('orphan', [orphan]), env).then(() => undefined, (thrown: unknown) => thrown);
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems).toEqual([expect.stringMatching(/^CLIENTS_FILE: client \[0\]: organization: Organization\/cfg-no-such-org does not exist/)]);
      expect(await server.auth!.clients.find('cfg-orphan')).toBeUndefined();
    });

    it('an entry taking the client_id of an API client is refused; that client and the rest of the file are left alone', async () => {
      const takeover = { client_id: 'ops', client_name: 'Takeover', kind: 'backend', token_endpoint_auth_method: 'client_secret_basic', scope: 'admin system/*.cruds', clientSecretEnv: 'CFG_BACKEND_SECRET' };
      const error = await applyClientsFile(server.auth!, file('takeover', [appRegistration('cfg-early'), takeover]), env).then(() => undefined, (thrown: unknown) => thrown);
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems.join('\n')).toContain('ops');
      expect(await server.auth!.clients.find('ops')).toMatchObject({ source: 'api', active: true, name: 'ops' });
      expect((await clientCredentials('ops', OPS_SECRET, 'admin')).status).toBe(200);
      expect((await clientCredentials('ops', env.CFG_BACKEND_SECRET, 'admin')).status).toBe(401);
      // A refused file changes nothing: the entry before the refused one is not registered either.
      expect(await server.auth!.clients.find('cfg-early')).toBeUndefined();
    });

    it('a client removed from the file is deactivated at the next apply, and its tokens stop; API clients are untouched', async () => {
      await applyClientsFile(server.auth!, file('both-again', [cfgApp, cfgBackend]), env);
      const token = await clientCredentials('cfg-backend', env.CFG_BACKEND_SECRET, 'system/Patient.rs');
      expect(token.status).toBe(200);

      expect(await applyClientsFile(server.auth!, file('app-only', [cfgApp]), env)).toBe(1);
      expect((await server.auth!.clients.find('cfg-backend'))?.active).toBe(false);
      expect((await server.auth!.clients.find('cfg-app'))?.active).toBe(true);
      expect((await fhirGet(token.body.access_token, 'Patient')).status).toBe(401);
      expect((await clientCredentials('cfg-backend', env.CFG_BACKEND_SECRET, 'system/Patient.rs')).status).toBe(401);
      expect((await server.auth!.clients.find('ops'))?.active).toBe(true);
      expect((await server.auth!.clients.find('pub-app'))?.active).toBe(true);
    });
  });
});
