import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Organization, Patient, Practitioner, PractitionerRole } from 'fhir/r4';
import { createLocalJWKSet, jwtVerify } from 'jose';
import request from 'supertest';
import { ROLE_SYSTEM } from '../../server/access/roles.js';
import { BACKENDS, reportBackends } from '../support/backends.js';
import { openTestServer, type TestServer } from '../support/fhir-app.js';
import { authorizeUrl, Browser, exchangeCode, location, pageTitle, pkce, registerApp } from '../support/smart-flow.js';

/**
 * Sign-in through an organization's own OpenID Connect provider, end to end: a real oidc-provider on 127.0.0.1
 * authenticates a user with a password, issues a code and an id_token; the server exchanges the code over HTTP,
 * checks the id_token and maps (iss, sub) to a local account through auth_identity.
 */

reportBackends();

const BASE = 'https://ccp.test/fhir';
const ROOT = 'https://ccp.test';
const CALLBACK = `${ROOT}/auth/federation/callback`;
const APP_CALLBACK = 'https://app.test/callback';
const PROVIDER_ID = 'hospital-idp';
const PROVIDER_NAME = 'Hospital IdP';
const CLIENT_ID = 'ccp-exchange';
const CLIENT_SECRET = randomBytes(24).toString('base64url');
/** Every account at the identity provider signs in with this password; anything else is refused there. */
const IDP_PASSWORD = 'hospital password 1';
/** The accounts the identity provider knows (its `sub` values). */
const IDP_ACCOUNTS = ['staff-0042', 'locum-7', 'retired-13', 'staff-0099', 'staff-0100', 'staff-0101', 'staff-0201', 'staff-0202'];

// ---------------------------------------------------------------------------------------------------------------
// The identity provider: oidc-provider (no type declarations ship with it, so the few members used are typed here).

interface OidcInteraction {
  uid: string;
  prompt: { name: string };
  params: Record<string, unknown>;
}
interface OidcGrant {
  addOIDCScope(scope: string): void;
  save(): Promise<string>;
}
interface OidcProvider {
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<OidcInteraction>;
  interactionResult(req: IncomingMessage, res: ServerResponse, result: object, options?: { mergeWithLastSubmission?: boolean }): Promise<string>;
  Grant: new (init: { accountId: string; clientId: string }) => OidcGrant;
}
type OidcProviderClass = new (issuer: string, configuration: object) => OidcProvider;

/** A storage adapter for the provider's models, in memory (the provider's own one warns that it is for quick starts). */
function memoryAdapter() {
  const store = new Map<string, Record<string, unknown>>();
  return class {
    constructor(private readonly model: string) {}
    private key(id: string) {
      return `${this.model}:${id}`;
    }
    async upsert(id: string, payload: Record<string, unknown>) {
      store.set(this.key(id), payload);
    }
    async find(id: string) {
      return store.get(this.key(id));
    }
    async findByUid(uid: string) {
      return [...store.entries()].find(([key, payload]) => key.startsWith(`${this.model}:`) && payload.uid === uid)?.[1];
    }
    async findByUserCode() {
      return undefined;
    }
    async consume(id: string) {
      const payload = store.get(this.key(id));
      if (payload) payload.consumed = Math.floor(Date.now() / 1000);
    }
    async destroy(id: string) {
      store.delete(this.key(id));
    }
    async revokeByGrantId(grantId: string) {
      for (const [key, payload] of store) if (payload.grantId === grantId) store.delete(key);
    }
  };
}

function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => resolve(new URLSearchParams(body)));
    req.on('error', reject);
  });
}

function loginForm(uid: string, error?: string): string {
  return `<!doctype html><title>Hospital sign-in</title><h1>Hospital sign-in</h1>${error ? `<p role="alert">${error}</p>` : ''}
<form method="post" action="/interaction/${uid}"><input name="login"><input name="password" type="password"><button>Sign in</button></form>`;
}

/**
 * An OpenID Connect provider on a free loopback port, with one confidential client (the server), PKCE required,
 * and its own sign-in: a form at /interaction/{uid} that accepts a known account with IDP_PASSWORD, after which
 * the openid scope is granted to the client and the provider answers the authorization request.
 */
async function startIdentityProvider(): Promise<{ issuer: string; close(): Promise<void> }> {
  const { default: Provider } = (await import('oidc-provider' as string)) as { default: OidcProviderClass };
  const http: Server = createServer();
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const provider = new Provider(issuer, {
    adapter: memoryAdapter(),
    jwks: { keys: [{ ...signingKey, kid: 'idp-key', use: 'sig', alg: 'RS256' }] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        redirect_uris: [CALLBACK],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    findAccount: (_ctx: unknown, sub: string) => (IDP_ACCOUNTS.includes(sub) ? { accountId: sub, claims: () => ({ sub }) } : undefined),
    pkce: { required: () => true },
    ttl: { AuthorizationCode: 60, Interaction: 600, Grant: 600, Session: 600, AccessToken: 600, IdToken: 600 },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    renderError: (ctx: { type: string; body: string }, out: { error: string; error_description?: string }) => {
      ctx.type = 'text';
      ctx.body = `${out.error}: ${out.error_description ?? ''}`;
    },
  });
  const oidc = provider.callback();

  http.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const interaction = /^\/interaction\/([^/?]+)$/.exec(req.url ?? '');
    if (!interaction) return oidc(req, res);
    void (async () => {
      try {
        const details = await provider.interactionDetails(req, res);
        if (details.uid !== interaction[1] || details.prompt.name !== 'login') {
          res.writeHead(400, { 'Content-Type': 'text/plain' }).end(`unexpected interaction ${details.prompt.name}`);
          return;
        }
        if (req.method === 'GET') {
          res.writeHead(200, { 'Content-Type': 'text/html' }).end(loginForm(details.uid));
          return;
        }
        const form = await readForm(req);
        const login = form.get('login') ?? '';
        if (!IDP_ACCOUNTS.includes(login) || form.get('password') !== IDP_PASSWORD) {
          res.writeHead(401, { 'Content-Type': 'text/html' }).end(loginForm(details.uid, 'Wrong account or password'));
          return;
        }
        // This provider's users consent for the organization's own relying party: the grant is made with the sign-in.
        const grant = new provider.Grant({ accountId: login, clientId: String(details.params.client_id) });
        grant.addOIDCScope(String(details.params.scope));
        const grantId = await grant.save();
        const returnTo = await provider.interactionResult(req, res, { login: { accountId: login }, consent: { grantId } }, { mergeWithLastSubmission: false });
        res.writeHead(303, { Location: returnTo }).end();
      } catch (error) {
        res.writeHead(500, { 'Content-Type': 'text/plain' }).end(String(error));
      }
    })();
  });

  return {
    issuer,
    close: () =>
      new Promise<void>((resolve, reject) => {
        http.closeAllConnections();
        http.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** The user's browser at the identity provider: its own cookies (plain http, not Secure), no redirects followed. */
class ProviderBrowser {
  private readonly cookies = new Map<string, string>();

  async fetch(url: string | URL, form?: Record<string, string>): Promise<Response> {
    const headers: Record<string, string> = { Cookie: [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ') };
    if (form) headers['Content-Type'] = 'application/x-www-form-urlencoded';
    const res = await fetch(url, { method: form ? 'POST' : 'GET', headers, body: form ? new URLSearchParams(form).toString() : undefined, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const name = pair.slice(0, pair.indexOf('=')).trim();
      const value = pair.slice(pair.indexOf('=') + 1).trim();
      const expires = attributes.map((attribute) => /^\s*expires=(.*)$/i.exec(attribute)?.[1]).find(Boolean);
      if (!value || (expires && Date.parse(expires) <= Date.now())) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }
}

function redirectOf(res: Response, base: string): URL {
  const target = res.headers.get('location');
  if (res.status !== 303 && res.status !== 302) throw new Error(`expected a redirect from the identity provider, got ${res.status}`);
  return new URL(target!, base);
}

// ---------------------------------------------------------------------------------------------------------------

function setCookieLines(res: request.Response): string[] {
  return (res.headers['set-cookie'] as unknown as string[] | undefined) ?? [];
}

/** Whether the response starts a browser session here (a ccp_session cookie with a value). */
function setsSession(res: request.Response): boolean {
  return setCookieLines(res).some((line) => /^ccp_session=[^;]+/.test(line));
}

describe.each(BACKENDS)('Federated sign-in through an OpenID Connect provider on $name', (backend) => {
  let idp: { issuer: string; close(): Promise<void> };
  let server: TestServer;
  let patient: Patient;

  beforeAll(async () => {
    idp = await startIdentityProvider();
    server = await openTestServer(backend, {
      baseUrl: BASE,
      auth: { identityProviders: [{ id: PROVIDER_ID, name: PROVIDER_NAME, issuer: idp.issuer, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }] },
    });
    await registerApp(server, { clientId: 'viewer-app' });
    patient = (await server.context.store.create({ resourceType: 'Patient', name: [{ family: 'Rivera', given: ['Ana'] }] } as Patient)) as Patient;
  });
  afterAll(async () => {
    await server?.close();
    await idp?.close();
  });

  /** A practitioner with a `viewer` role and an account here that has no password, only the identity at the provider. */
  async function linkedPerson(subject: string, issuer = idp.issuer) {
    const store = server.context.store;
    const organization = await store.create({ resourceType: 'Organization', active: true, name: 'General Hospital' } as Organization);
    const practitioner = await store.create({ resourceType: 'Practitioner', active: true, name: [{ family: subject }] } as Practitioner);
    const role = await store.create({
      resourceType: 'PractitionerRole',
      active: true,
      practitioner: { reference: `Practitioner/${practitioner.id}` },
      organization: { reference: `Organization/${organization.id}` },
      code: [{ coding: [{ system: ROLE_SYSTEM, code: 'viewer' }] }],
    } as PractitionerRole);
    const user = await server.auth!.users.create({ practitionerRoleId: role.id!, identities: [{ issuer, subject }] });
    return { userId: user.id, practitionerId: practitioner.id! };
  }

  /** The app sends the browser to /auth/authorize; returns the interaction's address (the sign-in page is there). */
  async function beginAuthorization(browser: Browser, state: string) {
    const { verifier, challenge } = pkce();
    const res = await browser.get(authorizeUrl({ client_id: 'viewer-app', scope: 'openid fhirUser user/Patient.rs', aud: BASE, state, code_challenge: challenge, nonce: `nonce-${state}` }));
    expect(res.status).toBe(303);
    const interaction = location(res);
    expect(interaction).toMatch(/^\/auth\/interaction\/[^/?]+$/);
    return { interaction, verifier };
  }

  /**
   * The user picks the identity provider on the sign-in page and signs in there as `account`: returns the address
   * the provider sends the browser back to (the server's callback, with code and state).
   */
  async function signInAtProvider(browser: Browser, interaction: string, account: string, rewrite?: (authorization: URL) => void): Promise<URL> {
    const start = await browser.get(`${interaction}/idp/${PROVIDER_ID}`);
    expect(start.status).toBe(303);
    const authorization = new URL(location(start));
    rewrite?.(authorization);
    const atProvider = new ProviderBrowser();
    let res = await atProvider.fetch(authorization);
    const loginPage = redirectOf(res, idp.issuer);
    res = await atProvider.fetch(loginPage);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<h1>Hospital sign-in</h1>');
    res = await atProvider.fetch(loginPage, { login: account, password: IDP_PASSWORD });
    res = await atProvider.fetch(redirectOf(res, idp.issuer));
    const callback = redirectOf(res, idp.issuer);
    expect(callback.origin + callback.pathname).toBe(CALLBACK);
    return callback;
  }

  const pathOf = (url: URL) => url.pathname + url.search;

  it('signs a linked user in end to end: the app gets a code, and its token is the local user’s', async () => {
    const { userId, practitionerId } = await linkedPerson('staff-0042');
    const browser = new Browser(server);
    const { interaction, verifier } = await beginAuthorization(browser, 'st-e2e');

    // The sign-in page offers the provider.
    let res = await browser.get(interaction);
    expect(res.status).toBe(200);
    expect(pageTitle(res)).toBe('Sign in');
    expect(res.text).toContain(`href="${interaction}/idp/${PROVIDER_ID}"`);
    expect(res.text).toContain(`Sign in with ${PROVIDER_NAME}`);

    // Choosing it: an authorization code request with PKCE S256, state and nonce at the provider's endpoint, and a
    // cookie that finds this request again on return.
    res = await browser.get(`${interaction}/idp/${PROVIDER_ID}`);
    expect(res.status).toBe(303);
    const federation = setCookieLines(res).find((line) => line.startsWith('ccp_federation='));
    expect(federation).toBeDefined();
    expect(federation).toMatch(/;\s*Path=\/auth\/federation(;|$)/);
    expect(federation).toMatch(/;\s*Secure(;|$)/);
    expect(federation).toMatch(/;\s*HttpOnly(;|$)/);
    expect(federation).toMatch(/;\s*SameSite=Lax(;|$)/);
    const discovery = await (await fetch(`${idp.issuer}/.well-known/openid-configuration`)).json() as { authorization_endpoint: string };
    const authorization = new URL(location(res));
    expect(authorization.origin + authorization.pathname).toBe(discovery.authorization_endpoint);
    const query = authorization.searchParams;
    expect(query.get('response_type')).toBe('code');
    expect(query.get('client_id')).toBe(CLIENT_ID);
    expect(query.get('redirect_uri')).toBe(CALLBACK);
    expect(query.get('scope')!.split(' ')).toContain('openid');
    expect(query.get('code_challenge_method')).toBe('S256');
    expect(query.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(query.get('state')!.length).toBeGreaterThanOrEqual(16);
    expect(query.get('nonce')!.length).toBeGreaterThanOrEqual(16);
    expect(authorization.href).not.toContain(CLIENT_SECRET);

    // At the provider: the right password only.
    const atProvider = new ProviderBrowser();
    let idpRes = await atProvider.fetch(authorization);
    const loginPage = redirectOf(idpRes, idp.issuer);
    expect((await atProvider.fetch(loginPage)).status).toBe(200);
    expect((await atProvider.fetch(loginPage, { login: 'staff-0042', password: 'not the password' })).status).toBe(401);
    idpRes = await atProvider.fetch(loginPage, { login: 'staff-0042', password: IDP_PASSWORD });
    idpRes = await atProvider.fetch(redirectOf(idpRes, idp.issuer));
    const callback = redirectOf(idpRes, idp.issuer);
    expect(callback.origin + callback.pathname).toBe(CALLBACK);
    expect(callback.searchParams.get('state')).toBe(query.get('state'));
    expect(callback.searchParams.get('code')).toBeTruthy();

    // Back here: a session, the federation cookie gone, and the request goes on.
    res = await browser.get(pathOf(callback));
    expect(res.status).toBe(303);
    expect(location(res)).toBe(interaction);
    expect(setsSession(res)).toBe(true);
    const session = setCookieLines(res).find((line) => line.startsWith('ccp_session='));
    for (const attribute of [/;\s*Path=\/auth(;|$)/, /;\s*Secure(;|$)/, /;\s*HttpOnly(;|$)/, /;\s*SameSite=Lax(;|$)/]) expect(session).toMatch(attribute);
    expect(browser.cookies.has('ccp_federation')).toBe(false);

    res = await browser.get(interaction);
    expect(pageTitle(res)).toBe('Allow access?');
    res = await browser.post(`${interaction}/approve`, { answer: 'approve' });
    expect(res.status).toBe(303);
    res = await browser.get(interaction);
    const back = new URL(location(res));
    expect(back.origin + back.pathname).toBe(APP_CALLBACK);
    expect(back.searchParams.get('state')).toBe('st-e2e');
    const code = back.searchParams.get('code');
    expect(code).toBeTruthy();

    const token = await exchangeCode(server, { code: code!, code_verifier: verifier, client_id: 'viewer-app' });
    expect(token.status).toBe(200);
    expect(token.body).toMatchObject({ token_type: 'Bearer', scope: 'openid fhirUser user/Patient.rs' });

    // The id_token is ours, about the local account, not the provider's subject.
    const jwks = (await request(server.app).get('/auth/jwks')).body;
    const { payload } = await jwtVerify(token.body.id_token, createLocalJWKSet(jwks), { issuer: ROOT, audience: 'viewer-app' });
    expect(payload.sub).toBe(userId);
    expect(payload.sub).not.toBe('staff-0042');
    expect(payload.fhirUser).toBe(`${BASE}/Practitioner/${practitionerId}`);
    expect(payload.nonce).toBe('nonce-st-e2e');

    const read = await request(server.app).get(`/fhir/Patient/${patient.id}`).set('Authorization', `Bearer ${token.body.access_token}`);
    expect(read.status).toBe(200);
    expect((read.body as Patient).id).toBe(patient.id);
  });

  /** The refusal every failed federated sign-in must give: the sign-in page again, no session, no code for the app. */
  async function expectRefusedAtCallback(browser: Browser, interaction: string, res: request.Response) {
    expect(res.status).toBe(400);
    expect(pageTitle(res)).toBe('Sign in');
    expect(res.text).toMatch(/role="alert"[^>]*>[^<]*not linked/);
    expect(res.text).toContain(`href="${interaction}/idp/${PROVIDER_ID}"`);
    expect(setsSession(res)).toBe(false);
    expect(browser.cookies.has('ccp_session')).toBe(false);
    // The request is still waiting for a sign-in: nothing goes to the app.
    const again = await browser.get(interaction);
    expect(again.status).toBe(200);
    expect(pageTitle(again)).toBe('Sign in');
    expect(again.headers.location).toBeUndefined();
  }

  it('refuses an account at the provider that is not linked to any account here', async () => {
    // The same subject linked at another issuer does not count: an identity is the pair (iss, sub).
    await linkedPerson('locum-7', 'https://other-idp.test');
    const browser = new Browser(server);
    const { interaction } = await beginAuthorization(browser, 'st-unlinked');
    const callback = await signInAtProvider(browser, interaction, 'locum-7');
    await expectRefusedAtCallback(browser, interaction, await browser.get(pathOf(callback)));
  });

  it('refuses a linked account that is deactivated', async () => {
    const { userId } = await linkedPerson('retired-13');
    await server.auth!.users.update(userId, { active: false });
    const browser = new Browser(server);
    const { interaction } = await beginAuthorization(browser, 'st-inactive');
    const callback = await signInAtProvider(browser, interaction, 'retired-13');
    await expectRefusedAtCallback(browser, interaction, await browser.get(pathOf(callback)));
    expect(await server.db.query('SELECT 1 FROM auth_session WHERE user_id = $1', [userId])).toHaveLength(0);
  });

  it('refuses a callback whose state was tampered with, and one whose state is from an earlier attempt', async () => {
    await linkedPerson('staff-0099');
    const browser = new Browser(server);
    const { interaction } = await beginAuthorization(browser, 'st-tampered');
    const callback = await signInAtProvider(browser, interaction, 'staff-0099');
    const tampered = new URL(callback);
    tampered.searchParams.set('state', `${callback.searchParams.get('state')}x`);
    let res = await browser.get(pathOf(tampered));
    expect(res.status).toBe(400);
    expect(setsSession(res)).toBe(false);
    expect(browser.cookies.has('ccp_session')).toBe(false);
    expect(pageTitle(await browser.get(interaction))).toBe('Sign in');

    // An older attempt's callback (valid code, valid state then) after a new attempt started: refused too.
    const older = await signInAtProvider(browser, interaction, 'staff-0099');
    const newer = await signInAtProvider(browser, interaction, 'staff-0099');
    expect(newer.searchParams.get('state')).not.toBe(older.searchParams.get('state'));
    res = await browser.get(pathOf(older));
    expect(res.status).toBe(400);
    expect(setsSession(res)).toBe(false);
    expect(browser.cookies.has('ccp_session')).toBe(false);
    expect(pageTitle(await browser.get(interaction))).toBe('Sign in');
  });

  it.each([
    ['nonce', 'staff-0201', (authorization: URL) => authorization.searchParams.set('nonce', 'a-nonce-of-another-request')],
    ['code_challenge', 'staff-0202', (authorization: URL) => authorization.searchParams.set('code_challenge', pkce().challenge)],
  ])('refuses an id_token or code not bound to this sign-in (%s changed on the way to the provider)', async (_name, subject, rewrite) => {
    const { userId } = await linkedPerson(subject);
    const browser = new Browser(server);
    const { interaction } = await beginAuthorization(browser, 'st-bound');
    const callback = await signInAtProvider(browser, interaction, subject, rewrite);
    const res = await browser.get(pathOf(callback));
    expect(res.status).toBe(400);
    expect(pageTitle(res)).toBe('Sign in');
    expect(res.text).toMatch(new RegExp(`role="alert"[^>]*>Signing in with ${PROVIDER_NAME} did not succeed`));
    expect(setsSession(res)).toBe(false);
    expect(browser.cookies.has('ccp_session')).toBe(false);
    expect(await server.db.query('SELECT 1 FROM auth_session WHERE user_id = $1', [userId])).toHaveLength(0);
    expect(pageTitle(await browser.get(interaction))).toBe('Sign in');
  });

  it('refuses the callback in a browser that did not start the sign-in (no ccp_federation cookie); the one that did is let in', async () => {
    const { userId } = await linkedPerson('staff-0100');
    const browser = new Browser(server);
    const { interaction } = await beginAuthorization(browser, 'st-other-browser');
    const callback = await signInAtProvider(browser, interaction, 'staff-0100');
    expect(browser.cookies.has('ccp_federation')).toBe(true);

    const other = new Browser(server);
    let res = await other.get(pathOf(callback));
    expect(res.status).toBe(400);
    expect(setsSession(res)).toBe(false);
    expect(other.cookies.has('ccp_session')).toBe(false);

    // The refusal spent nothing: the code is still good in the browser that holds the cookie.
    res = await browser.get(pathOf(callback));
    expect(res.status).toBe(303);
    expect(location(res)).toBe(interaction);
    expect(setsSession(res)).toBe(true);
    const sessions = await server.db.query<{ user_id: string }>('SELECT user_id FROM auth_session WHERE user_id = $1', [userId]);
    expect(sessions).toHaveLength(1);
  });

  it('replaying a used callback with the cookie put back signs nobody in', async () => {
    await linkedPerson('staff-0101');
    const browser = new Browser(server);
    const { interaction } = await beginAuthorization(browser, 'st-replay');
    const callback = await signInAtProvider(browser, interaction, 'staff-0101');
    const id = browser.cookies.get('ccp_federation')!;
    expect((await browser.get(pathOf(callback))).status).toBe(303);

    const attacker = new Browser(server);
    attacker.cookies.set('ccp_federation', id);
    const res = await attacker.get(pathOf(callback));
    expect(res.status).toBe(400);
    expect(setsSession(res)).toBe(false);
    expect(attacker.cookies.has('ccp_session')).toBe(false);
  });
});
