import type { Organization, Patient } from 'fhir/r4';
import request from 'supertest';
import { accessChanged } from '../../server/auth/auth-changes.js';
import { secretHash } from '../../server/auth/secrets.js';
import { publishTerms } from '../../server/auth/terms.js';
import { BACKENDS, reportBackends } from '../support/backends.js';
import { openTestServer, type TestServer } from '../support/fhir-app.js';
import { authorizeThrough, Browser, exchangeCode, location, pageTitle, person, type Person, pkce, registerApp } from '../support/smart-flow.js';

reportBackends();

/**
 * What the authorization server must refuse, and that a refusal hands out nothing: RFC 6749 (codes, refresh,
 * redirect URI rules), RFC 7636 (PKCE), RFC 7009 (revocation), RFC 7662 (introspection), RFC 6750 (bearer
 * challenges) and SMART App Launch 2 (state, aud, S256 only).
 */

const BASE = 'https://ccp.test/fhir';
const CALLBACK = 'https://app.test/callback';
const CONFIDENTIAL_SECRET = 'conf-app-secret-value';

interface TokenBody {
  access_token: string;
  refresh_token?: string;
  scope: string;
  expires_in: number;
  patient?: string;
}

/** A scope string as a set (RFC 6749 §3.3: the order of scopes does not matter). */
const scopeSet = (scope: string | undefined) => (scope ?? '').split(' ').filter(Boolean).sort();

/** The response gives nothing away: no token of any kind. */
function expectNoTokens(res: request.Response): void {
  expect(res.body.access_token).toBeUndefined();
  expect(res.body.refresh_token).toBeUndefined();
  expect(res.body.id_token).toBeUndefined();
}

/** RFC 6749 §5.2: a JSON error body with the error code, and no token. */
function expectTokenError(res: request.Response, status: number, error: string): void {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(res.body.error).toBe(error);
  expectNoTokens(res);
}

/** The browser received no session cookie. */
function expectNoSessionCookie(res: request.Response): void {
  const cookies = (res.headers['set-cookie'] as unknown as string[] | undefined) ?? [];
  expect(cookies.filter((line) => line.startsWith('ccp_session=') && !/^ccp_session=;/.test(line))).toEqual([]);
}

/** The alert of a page (the sign-in error message). */
function alertOf(res: request.Response): string | undefined {
  return /<p class="alert" role="alert">([^<]*)<\/p>/.exec(res.text)?.[1];
}

/** An authorization request URL; `undefined` removes a parameter. */
function authorizeWith(overrides: Record<string, string | undefined>): string {
  const params: Record<string, string | undefined> = {
    response_type: 'code',
    client_id: 'app',
    redirect_uri: CALLBACK,
    scope: 'openid fhirUser user/CarePlan.rs',
    aud: BASE,
    state: 'st-negative',
    code_challenge: pkce().challenge,
    code_challenge_method: 'S256',
    ...overrides,
  };
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined) query.set(name, value);
  return `/auth/authorize?${query}`;
}

/** Follows the server's own redirects (its /auth pages) until the browser is sent elsewhere: the app. */
async function followToApp(browser: Browser, path: string): Promise<{ res: request.Response; url: URL }> {
  let res = await browser.get(path);
  for (let step = 0; step < 5; step++) {
    const target = location(res);
    if (!target.startsWith('/auth/')) return { res, url: new URL(target) };
    res = await browser.get(target);
  }
  throw new Error('no redirect to the app');
}

describe.each(BACKENDS)('authorization negatives on $name', (backend) => {
  let server: TestServer;
  let casey: Person;
  let caseyBrowser: Browser;
  let patient: Patient;

  const fhirGet = (token: string, path: string) => request(server.app).get(`/fhir/${path}`).set('Authorization', `Bearer ${token}`);
  const tokenRequest = (form: Record<string, string>, basic?: [string, string]) => {
    const req = request(server.app).post('/auth/token').type('form').send(form);
    return basic ? req.auth(basic[0], basic[1]) : req;
  };
  const refresh = (refreshToken: string, extra: Record<string, string> = {}, clientId = 'app') =>
    tokenRequest({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId, ...extra });
  const endpoint = (path: '/auth/revoke' | '/auth/introspect', form: Record<string, string>, basic?: [string, string]) => {
    const req = request(server.app).post(path).type('form').send(form);
    return basic ? req.auth(basic[0], basic[1]) : req;
  };

  /** An authorization code for `user` (signed in already in `browser`, or signing in), with its PKCE verifier. */
  async function codeFor(browser: Browser, user: Person, scope: string, options: { clientId?: string; patient?: string } = {}) {
    const { verifier, challenge } = pkce();
    const state = `st-${Math.random().toString(36).slice(2)}`;
    const back = await authorizeThrough(browser, { client_id: options.clientId ?? 'app', scope, aud: BASE, state, code_challenge: challenge }, user, { patient: options.patient });
    expect(back.origin + back.pathname).toBe(CALLBACK);
    expect(back.searchParams.get('state')).toBe(state);
    const code = back.searchParams.get('code');
    expect(code).toBeTruthy();
    return { code: code!, verifier };
  }

  async function tokensFor(browser: Browser, user: Person, scope: string, options: { patient?: string } = {}): Promise<TokenBody> {
    const { code, verifier } = await codeFor(browser, user, scope, options);
    const res = await exchangeCode(server, { code, code_verifier: verifier, client_id: 'app' });
    expect(res.status).toBe(200);
    return res.body as TokenBody;
  }

  beforeAll(async () => {
    server = await openTestServer(backend, { baseUrl: BASE, auth: true });
    casey = await person(server, 'casey', ['contributor']);
    patient = (await server.context.store.create({ resourceType: 'Patient', name: [{ family: 'Rivera', given: ['Ana'] }] } as Patient)) as Patient;
    await server.context.store.create({ resourceType: 'CarePlan', status: 'active', intent: 'plan', subject: { reference: `Patient/${patient.id}` } } as never);
    await registerApp(server, { clientId: 'app' });
    await registerApp(server, { clientId: 'other-app' });
    await registerApp(server, { clientId: 'conf-app' }, CONFIDENTIAL_SECRET);
    caseyBrowser = new Browser(server);
  });
  afterAll(async () => server?.close());

  describe('authorization codes (RFC 6749 §4.1.3, RFC 7636 §4.6)', () => {
    it('a wrong code_verifier is invalid_grant, and the code is used up: the right verifier afterwards fails too', async () => {
      const { code, verifier } = await codeFor(caseyBrowser, casey, 'openid fhirUser user/CarePlan.rs');
      const wrong = await exchangeCode(server, { code, code_verifier: pkce().verifier, client_id: 'app' });
      expectTokenError(wrong, 400, 'invalid_grant');
      const right = await exchangeCode(server, { code, code_verifier: verifier, client_id: 'app' });
      expectTokenError(right, 400, 'invalid_grant');
    });

    it('a code used twice: the second exchange is invalid_grant and the tokens of the first stop working', async () => {
      const { code, verifier } = await codeFor(caseyBrowser, casey, 'offline_access user/CarePlan.rs');
      const first = await exchangeCode(server, { code, code_verifier: verifier, client_id: 'app' });
      expect(first.status).toBe(200);
      expect(first.body.refresh_token).toEqual(expect.any(String));
      expect((await fhirGet(first.body.access_token, 'CarePlan')).status).toBe(200);

      const second = await exchangeCode(server, { code, code_verifier: verifier, client_id: 'app' });
      expectTokenError(second, 400, 'invalid_grant');
      const api = await fhirGet(first.body.access_token, 'CarePlan');
      expect(api.status).toBe(401);
      expect(api.headers['www-authenticate']).toMatch(/^Bearer .*error="invalid_token"/);
      expectTokenError(await refresh(first.body.refresh_token), 400, 'invalid_grant');
    });

    it('an expired code is invalid_grant', async () => {
      const { code, verifier } = await codeFor(caseyBrowser, casey, 'openid fhirUser user/CarePlan.rs');
      await server.db.query("UPDATE auth_code SET expires_at = now() - interval '1 minute' WHERE code_hash = $1", [secretHash(code)]);
      expectTokenError(await exchangeCode(server, { code, code_verifier: verifier, client_id: 'app' }), 400, 'invalid_grant');
    });

    it('a code presented by another client, or with another redirect_uri, is invalid_grant', async () => {
      const stolen = await codeFor(caseyBrowser, casey, 'user/CarePlan.rs');
      expectTokenError(await exchangeCode(server, { code: stolen.code, code_verifier: stolen.verifier, client_id: 'other-app' }), 400, 'invalid_grant');

      const redirected = await codeFor(caseyBrowser, casey, 'user/CarePlan.rs');
      const res = await exchangeCode(server, { code: redirected.code, code_verifier: redirected.verifier, client_id: 'app', redirect_uri: 'https://app.test/elsewhere' });
      expectTokenError(res, 400, 'invalid_grant');
    });
  });

  it('a confidential client must authenticate to redeem its code: client_id alone or a wrong secret is invalid_client', async () => {
    const { code, verifier } = await codeFor(caseyBrowser, casey, 'user/CarePlan.rs', { clientId: 'conf-app' });
    expectTokenError(await exchangeCode(server, { code, code_verifier: verifier, client_id: 'conf-app' }), 401, 'invalid_client');
    const wrongSecret = await exchangeCode(server, { code, code_verifier: verifier }, ['conf-app', 'not-the-secret']);
    expectTokenError(wrongSecret, 401, 'invalid_client');
    // RFC 6749 §5.2: a client that tried the Authorization header is told which scheme to use.
    expect(wrongSecret.headers['www-authenticate']).toMatch(/^Basic/);
    const authenticated = await exchangeCode(server, { code, code_verifier: verifier }, ['conf-app', CONFIDENTIAL_SECRET]);
    expect(authenticated.status).toBe(200);
    expect((await fhirGet(authenticated.body.access_token, 'CarePlan')).status).toBe(200);
  });

  describe('the authorization endpoint (RFC 6749 §4.1.2.1, SMART App Launch 2)', () => {
    it.each([
      ['an unregistered redirect_uri', { redirect_uri: 'https://attacker.test/callback' }],
      ['an unknown client_id', { client_id: 'nobody-registered-this' }],
    ])('%s: a 400 page for the user, never a redirect', async (_label, overrides) => {
      const browser = new Browser(server);
      const res = await browser.get(authorizeWith(overrides));
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.headers.location).toBeUndefined();
      expect(res.text).not.toContain('attacker.test');
      expect(res.text).not.toMatch(/[?&]code=/);
      expectNoSessionCookie(res);
    });

    it.each([
      ['no code_challenge', { code_challenge: undefined }, 'invalid_request', 'st-negative'],
      ['code_challenge_method=plain', { code_challenge_method: 'plain' }, 'invalid_request', 'st-negative'],
      ['no state', { state: undefined }, 'invalid_request', null],
      ['the wrong aud', { aud: 'https://other-server.test/fhir' }, 'invalid_request', 'st-negative'],
      ['response_type=token', { response_type: 'token' }, 'unsupported_response_type', 'st-negative'],
    ])('%s: the error goes to the registered redirect URI with the state, and no code', async (_label, overrides, error, state) => {
      const browser = new Browser(server);
      const { res, url } = await followToApp(browser, authorizeWith(overrides));
      expect(url.origin + url.pathname).toBe(CALLBACK);
      expect(url.searchParams.get('error')).toBe(error);
      expect(url.searchParams.get('state')).toBe(state);
      expect(url.searchParams.get('code')).toBeNull();
      expect(url.hash).toBe('');
      expect(url.searchParams.get('access_token')).toBeNull();
      expectNoSessionCookie(res);
    });

    it('prompt=none without a session is login_required at the redirect URI, with the state and no code', async () => {
      const browser = new Browser(server);
      const { url } = await followToApp(browser, authorizeWith({ prompt: 'none', state: 'st-silent' }));
      expect(url.origin + url.pathname).toBe(CALLBACK);
      expect(url.searchParams.get('error')).toBe('login_required');
      expect(url.searchParams.get('state')).toBe('st-silent');
      expect(url.searchParams.get('code')).toBeNull();
      expect(browser.cookies.has('ccp_session')).toBe(false);
    });

    it('prompt=none with a session, when approval is still needed, is consent_required with no code', async () => {
      await codeFor(caseyBrowser, casey, 'user/CarePlan.rs');
      const { url } = await followToApp(caseyBrowser, authorizeWith({ prompt: 'none', state: 'st-silent-2' }));
      expect(url.origin + url.pathname).toBe(CALLBACK);
      expect(['consent_required', 'interaction_required']).toContain(url.searchParams.get('error'));
      expect(url.searchParams.get('state')).toBe('st-silent-2');
      expect(url.searchParams.get('code')).toBeNull();
    });
  });

  describe('access tokens (RFC 6750 §3.1)', () => {
    it('an expired access token is a 401 with a Bearer invalid_token challenge', async () => {
      const tokens = await tokensFor(caseyBrowser, casey, 'user/CarePlan.rs');
      expect((await fhirGet(tokens.access_token, 'CarePlan')).status).toBe(200);
      // Expiry brought forward by hand, in the one transaction with the announcement every change of access makes
      // (server/auth/auth-changes.ts), which returns once the process has forgotten the cached caller: a real
      // expiry needs none, the cache keeps no caller past its token's expiry.
      await server.db.transaction(async (tx) => {
        await tx.query("UPDATE auth_token SET expires_at = now() - interval '1 second' WHERE token_hash = $1", [secretHash(tokens.access_token)]);
        await accessChanged(tx);
      });
      const res = await fhirGet(tokens.access_token, 'CarePlan');
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer\b/);
      expect(res.headers['www-authenticate']).toMatch(/error="invalid_token"/);
      expect(JSON.stringify(res.body)).not.toContain('"entry"');
    });
  });

  describe('refresh tokens (RFC 6749 §6, RFC 9700 §4.14.2)', () => {
    const ORIGINAL = 'offline_access user/CarePlan.rs user/Patient.rs';

    it('asking for a scope not originally granted is invalid_scope, and the refresh token still works (not rotated)', async () => {
      const tokens = await tokensFor(caseyBrowser, casey, 'offline_access user/CarePlan.rs');
      // user/Patient.rs is registered for the app, but the user never granted it.
      const escalated = await refresh(tokens.refresh_token!, { scope: 'offline_access user/CarePlan.rs user/Patient.rs' });
      expectTokenError(escalated, 400, 'invalid_scope');
      const again = await refresh(tokens.refresh_token!);
      expect(again.status).toBe(200);
      expect(scopeSet(again.body.scope)).toEqual(scopeSet('offline_access user/CarePlan.rs'));
    });

    it('an expired refresh token is invalid_grant', async () => {
      const tokens = await tokensFor(caseyBrowser, casey, 'offline_access user/CarePlan.rs');
      await server.db.query("UPDATE auth_token SET expires_at = now() - interval '1 second' WHERE token_hash = $1", [secretHash(tokens.refresh_token!)]);
      expectTokenError(await refresh(tokens.refresh_token!), 400, 'invalid_grant');
    });

    it('another client cannot use the refresh token, and the owner still can afterwards', async () => {
      const tokens = await tokensFor(caseyBrowser, casey, 'offline_access user/CarePlan.rs');
      expectTokenError(await refresh(tokens.refresh_token!, {}, 'other-app'), 400, 'invalid_grant');
      expect((await refresh(tokens.refresh_token!)).status).toBe(200);
    });

    it('a narrower scope is granted as asked; the next refresh without scope gets the original scope back', async () => {
      const tokens = await tokensFor(caseyBrowser, casey, ORIGINAL);
      expect(scopeSet(tokens.scope)).toEqual(scopeSet(ORIGINAL));
      const narrow = await refresh(tokens.refresh_token!, { scope: 'offline_access user/CarePlan.rs' });
      expect(narrow.status).toBe(200);
      expect(scopeSet(narrow.body.scope)).toEqual(scopeSet('offline_access user/CarePlan.rs'));
      expect((await fhirGet(narrow.body.access_token, 'CarePlan')).status).toBe(200);
      expect((await fhirGet(narrow.body.access_token, 'Patient')).status).toBe(403);

      // RFC 6749 §6: an omitted scope is the scope originally granted by the resource owner.
      const wide = await refresh(narrow.body.refresh_token);
      expect(wide.status).toBe(200);
      expect(scopeSet(wide.body.scope)).toEqual(scopeSet(ORIGINAL));
      expect((await fhirGet(wide.body.access_token, 'Patient')).status).toBe(200);
    });

    it('presenting a rotated refresh token again is invalid_grant and revokes every token of the grant', async () => {
      const first = await tokensFor(caseyBrowser, casey, ORIGINAL);
      const second = await refresh(first.refresh_token!);
      expect(second.status).toBe(200);
      expect(second.body.refresh_token).not.toBe(first.refresh_token);
      expect((await fhirGet(second.body.access_token, 'CarePlan')).status).toBe(200);

      expectTokenError(await refresh(first.refresh_token!), 400, 'invalid_grant');
      expect((await fhirGet(second.body.access_token, 'CarePlan')).status).toBe(401);
      expect((await fhirGet(first.access_token, 'CarePlan')).status).toBe(401);
      expectTokenError(await refresh(second.body.refresh_token), 400, 'invalid_grant');
    });
  });

  describe('deactivation stops tokens at once', () => {
    it('a deactivated user: the existing access token is refused, a refresh fails, an unredeemed code fails, the session is gone', async () => {
      const dana = await person(server, 'dana', ['contributor']);
      const browser = new Browser(server);
      const tokens = await tokensFor(browser, dana, 'offline_access user/CarePlan.rs');
      expect((await fhirGet(tokens.access_token, 'CarePlan')).status).toBe(200);
      const pendingCode = await codeFor(browser, dana, 'user/CarePlan.rs');

      await server.auth!.users.update(dana.userId, { active: false });
      const res = await fhirGet(tokens.access_token, 'CarePlan');
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/error="invalid_token"/);
      expectTokenError(await refresh(tokens.refresh_token!), 400, 'invalid_grant');
      expectTokenError(await exchangeCode(server, { code: pendingCode.code, code_verifier: pendingCode.verifier, client_id: 'app' }), 400, 'invalid_grant');
      expect((await endpoint('/auth/introspect', { token: tokens.access_token }, ['conf-app', CONFIDENTIAL_SECRET])).body).toEqual({ active: false });

      // The browser's session no longer signs anyone in, and the password no longer works.
      const interaction = location(await browser.get(authorizeWith({})));
      const page = await browser.get(interaction);
      expect(pageTitle(page)).toBe('Sign in');
      const signIn = await browser.post(`${interaction}/sign-in`, { username: dana.username, password: dana.password });
      expect(signIn.status).toBe(400);
      expectNoSessionCookie(signIn);
    });

    it("deactivating the user's Organization stops the token and its refresh", async () => {
      const erin = await person(server, 'erin', ['contributor']);
      const tokens = await tokensFor(new Browser(server), erin, 'offline_access user/CarePlan.rs');
      expect((await fhirGet(tokens.access_token, 'CarePlan')).status).toBe(200);

      const organization: Organization & { id: string } = { resourceType: 'Organization', id: erin.organizationId, active: false, name: "erin's organization" };
      const updated = await server.context.store.update(organization, { allowCreate: false });
      expect(updated.kind).toBe('updated');
      expect((await fhirGet(tokens.access_token, 'CarePlan')).status).toBe(401);
      expectTokenError(await refresh(tokens.refresh_token!), 400, 'invalid_grant');
    });
  });

  describe('Terms of Use', () => {
    it('declining is access_denied without a code; approving before accepting produces no code', async () => {
      const fay = await person(server, 'fay', ['contributor']);
      await publishTerms(server.db, 'Negative-test terms: be careful with patient data.');
      try {
        const browser = new Browser(server);
        let res = await browser.get(authorizeWith({ state: 'st-terms' }));
        const interaction = location(res);
        expect(interaction).toMatch(/^\/auth\/interaction\//);
        res = await browser.post(`${interaction}/sign-in`, { username: fay.username, password: fay.password });
        expect(res.status).toBe(303);
        res = await browser.get(interaction);
        expect(pageTitle(res)).toBe('Terms of Use');

        // Skipping the terms: the approval answer leads back to the terms, and no code reaches the app.
        res = await browser.post(`${interaction}/approve`, { answer: 'approve' });
        expect(res.headers.location ?? '').not.toMatch(/[?&]code=/);
        expect(res.headers.location ?? '').not.toMatch(/^https:\/\/app\.test/);
        res = await browser.get(interaction);
        expect(res.status).toBe(200);
        expect(pageTitle(res)).toBe('Terms of Use');
        expect(await server.db.query('SELECT 1 FROM auth_code WHERE user_id = $1', [fay.userId])).toHaveLength(0);

        const version = /name="version" value="(\d+)"/.exec(res.text)![1];
        res = await browser.post(`${interaction}/terms`, { version, answer: 'decline' });
        const back = new URL(location(res));
        expect(back.origin + back.pathname).toBe(CALLBACK);
        expect(back.searchParams.get('error')).toBe('access_denied');
        expect(back.searchParams.get('state')).toBe('st-terms');
        expect(back.searchParams.get('code')).toBeNull();
        expect(await server.db.query('SELECT 1 FROM auth_code WHERE user_id = $1', [fay.userId])).toHaveLength(0);
        // The request is finished: going back to it issues nothing either.
        res = await browser.get(interaction);
        expect(res.headers.location).toBeUndefined();
        expect(res.status).toBe(400);
      } finally {
        await server.db.query('DELETE FROM auth_terms_acceptance');
        await server.db.query('DELETE FROM auth_terms');
      }
    });
  });

  describe('password sign-in', () => {
    it('locks after five wrong passwords, says nothing about which usernames exist, and unlocks when the lock ends', async () => {
      const gus = await person(server, 'gus', ['contributor']);
      const browser = new Browser(server);
      const interaction = location(await browser.get(authorizeWith({})));
      const messages: string[] = [];
      let wrongPasswordPage = '';
      for (let attempt = 0; attempt < 5; attempt++) {
        const res = await browser.post(`${interaction}/sign-in`, { username: gus.username, password: `wrong password ${attempt}` });
        expect(res.status).toBe(400);
        expect(pageTitle(res)).toBe('Sign in');
        expectNoSessionCookie(res);
        messages.push(alertOf(res)!);
        wrongPasswordPage = res.text;
      }
      const locked = await browser.post(`${interaction}/sign-in`, { username: gus.username, password: gus.password });
      expect(locked.status).toBe(400);
      expect(locked.headers.location).toBeUndefined();
      expectNoSessionCookie(locked);
      expect(browser.cookies.has('ccp_session')).toBe(false);

      const unknown = await browser.post(`${interaction}/sign-in`, { username: 'no-such-user', password: 'wrong password 0' });
      expect(unknown.status).toBe(400);
      expectNoSessionCookie(unknown);
      expect(alertOf(unknown)).toBeTruthy();
      // One message for a wrong password, a locked account and an unknown username; the pages differ only in
      // the username typed back into the form.
      expect(new Set([...messages, alertOf(locked), alertOf(unknown)])).toEqual(new Set([alertOf(unknown)]));
      expect(unknown.text.replace('value="no-such-user"', 'value="USERNAME"')).toBe(wrongPasswordPage.replace(`value="${gus.username}"`, 'value="USERNAME"'));
      expect(locked.text).toBe(wrongPasswordPage);

      await server.db.query("UPDATE auth_user SET locked_until = now() - interval '1 second' WHERE id = $1", [gus.userId]);
      const unlocked = await browser.post(`${interaction}/sign-in`, { username: gus.username, password: gus.password });
      expect(unlocked.status).toBe(303);
      expect(location(unlocked)).toBe(interaction);
      expect(browser.cookies.has('ccp_session')).toBe(true);
    });
  });

  describe('revocation (RFC 7009)', () => {
    it('revoking a refresh token revokes its grant: the access token stops too', async () => {
      const tokens = await tokensFor(caseyBrowser, casey, 'offline_access user/CarePlan.rs');
      const res = await endpoint('/auth/revoke', { token: tokens.refresh_token!, token_type_hint: 'refresh_token', client_id: 'app' });
      expect(res.status).toBe(200);
      expectNoTokens(res);
      expect((await fhirGet(tokens.access_token, 'CarePlan')).status).toBe(401);
      expectTokenError(await refresh(tokens.refresh_token!), 400, 'invalid_grant');
    });

    it('an unknown token is answered 200', async () => {
      const res = await endpoint('/auth/revoke', { token: 'this-token-was-never-issued', client_id: 'app' });
      expect(res.status).toBe(200);
    });

    it("another client cannot revoke a client's token; a confidential client must authenticate", async () => {
      const tokens = await tokensFor(caseyBrowser, casey, 'offline_access user/CarePlan.rs');
      expect((await endpoint('/auth/revoke', { token: tokens.access_token, client_id: 'other-app' })).status).toBe(200);
      expect((await endpoint('/auth/revoke', { token: tokens.refresh_token!, client_id: 'other-app' })).status).toBe(200);
      expect((await fhirGet(tokens.access_token, 'CarePlan')).status).toBe(200);

      // RFC 7009 §2.1: the server first validates the client credentials of a confidential client.
      const unauthenticated = await endpoint('/auth/revoke', { token: tokens.access_token }, ['conf-app', 'not-the-secret']);
      expect(unauthenticated.status).toBe(401);
      expect(unauthenticated.body.error).toBe('invalid_client');
      expect((await fhirGet(tokens.access_token, 'CarePlan')).status).toBe(200);
      expect((await refresh(tokens.refresh_token!)).status).toBe(200);
    });

    it('revoking an access token with the public client form stops that token', async () => {
      const tokens = await tokensFor(caseyBrowser, casey, 'user/CarePlan.rs');
      expect((await endpoint('/auth/revoke', { token: tokens.access_token, token_type_hint: 'access_token', client_id: 'app' })).status).toBe(200);
      expect((await fhirGet(tokens.access_token, 'CarePlan')).status).toBe(401);
    });
  });

  describe('introspection (RFC 7662)', () => {
    const asConfidential = (token: string) => endpoint('/auth/introspect', { token }, ['conf-app', CONFIDENTIAL_SECRET]);

    it('a live token: active with scope, client_id, sub, exp and the patient', async () => {
      const tokens = await tokensFor(caseyBrowser, casey, 'launch/patient patient/CarePlan.rs offline_access', { patient: patient.id });
      expect(tokens.patient).toBe(patient.id);
      const before = Math.floor(Date.now() / 1000);
      const res = await asConfidential(tokens.access_token);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ active: true, client_id: 'app', sub: casey.userId, patient: patient.id });
      expect(scopeSet(res.body.scope)).toEqual(scopeSet('launch/patient patient/CarePlan.rs offline_access'));
      // exp: seconds since the epoch, in the future, no later than the expires_in the client was told.
      expect(Number.isInteger(res.body.exp)).toBe(true);
      expect(res.body.exp).toBeGreaterThan(before);
      expect(res.body.exp).toBeLessThanOrEqual(before + tokens.expires_in + 5);
    });

    it('revoked, expired and unknown tokens are {active: false} and nothing else', async () => {
      const revoked = await tokensFor(caseyBrowser, casey, 'user/CarePlan.rs');
      expect((await asConfidential(revoked.access_token)).body.active).toBe(true);
      await endpoint('/auth/revoke', { token: revoked.access_token, client_id: 'app' }).expect(200);
      const expired = await tokensFor(caseyBrowser, casey, 'user/CarePlan.rs');
      await server.db.query("UPDATE auth_token SET expires_at = now() - interval '1 second' WHERE token_hash = $1", [secretHash(expired.access_token)]);

      for (const token of [revoked.access_token, expired.access_token, 'never-issued-token']) {
        const res = await asConfidential(token);
        expect(res.status).toBe(200);
        expect(res.body).toEqual({ active: false });
      }
    });

    it('a public client, or no client authentication at all, is refused with invalid_client', async () => {
      const tokens = await tokensFor(caseyBrowser, casey, 'user/CarePlan.rs');
      for (const res of [await endpoint('/auth/introspect', { token: tokens.access_token, client_id: 'app' }), await endpoint('/auth/introspect', { token: tokens.access_token })]) {
        expect(res.status).toBe(401);
        expect(res.body.error).toBe('invalid_client');
        expect(res.body.active).toBeUndefined();
        expect(res.body.scope).toBeUndefined();
      }
    });
  });

  describe('CORS and the pages’ security headers', () => {
    it.each([
      ['/fhir/Patient', 'GET'],
      ['/auth/token', 'POST'],
    ])('a preflight to %s from another origin is allowed (Access-Control-Allow-Origin *)', async (path, method) => {
      const res = await request(server.app)
        .options(path)
        .set('Origin', 'https://app.example')
        .set('Access-Control-Request-Method', method)
        .set('Access-Control-Request-Headers', 'authorization, content-type');
      expect(res.status).toBeGreaterThanOrEqual(200);
      expect(res.status).toBeLessThan(300);
      expect(res.headers['access-control-allow-origin']).toBe('*');
      expect(res.headers['access-control-allow-methods']).toContain(method);
      expect(res.headers['access-control-allow-headers']?.toLowerCase()).toContain('authorization');
      expect(res.headers['access-control-allow-credentials']).toBeUndefined();
    });

    it('the sign-in pages carry no CORS header, and a strict Content-Security-Policy', async () => {
      const browser = new Browser(server);
      const interaction = location(await browser.get(authorizeWith({})));
      const page = await request(server.app).get(interaction).set('Origin', 'https://app.example');
      expect(page.status).toBe(200);
      expect(pageTitle(page)).toBe('Sign in');
      expect(page.headers['access-control-allow-origin']).toBeUndefined();
      const preflight = await request(server.app).options(`${interaction}/sign-in`).set('Origin', 'https://app.example').set('Access-Control-Request-Method', 'POST');
      expect(preflight.headers['access-control-allow-origin']).toBeUndefined();

      for (const res of [page, await request(server.app).get(authorizeWith({ client_id: 'nobody-registered-this' }))]) {
        const csp = (res.headers['content-security-policy'] as string).split(';').map((directive) => directive.trim());
        expect(csp).toContain("default-src 'none'");
        expect(csp).toContain("frame-ancestors 'none'");
      }
    });
  });
});
