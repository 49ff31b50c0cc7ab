import { APP_CLIENT_ID, APP_SCOPE, appLaunchUrl, appRedirectUris, ensureAppClient } from '../../server/auth/app-client.js';
import { bootstrap, bootstrapMessage } from '../../server/auth/bootstrap.js';
import { publishTerms } from '../../server/auth/terms.js';
import { inspectDatabase } from '../../server/demo/database-state.js';
import { BACKENDS, reportBackends } from '../support/backends.js';
import { openTestServer, type TestServer } from '../support/fhir-app.js';
import { authorizeThrough, authorizeUrl, Browser, exchangeCode, location, pageTitle, pkce } from '../support/smart-flow.js';

reportBackends();

/**
 * The server's own app as a SMART client (server/auth/app-client.ts): registered at the first start beside the
 * administrator and the local backend client, and on every later start when missing; a public client (no secret,
 * PKCE S256 as every client) whose redirect URI is /app/ on the server's own origin.
 */
describe('the app client: redirect URIs from the public root', () => {
  it('on the loopback interface, under each of its names (a person types localhost or 127.0.0.1)', () => {
    expect(appRedirectUris('http://127.0.0.1:8080')).toEqual(['http://localhost:8080/app/', 'http://127.0.0.1:8080/app/', 'http://[::1]:8080/app/']);
    expect(appRedirectUris('http://localhost:9000')).toEqual(['http://localhost:9000/app/', 'http://127.0.0.1:9000/app/', 'http://[::1]:9000/app/']);
  });

  it("elsewhere, the public root's /app/ alone, a path prefix kept; the launch URL beside it", () => {
    expect(appRedirectUris('https://ccp.example.org')).toEqual(['https://ccp.example.org/app/']);
    expect(appRedirectUris('https://example.org/ccp')).toEqual(['https://example.org/ccp/app/']);
    expect(appLaunchUrl('https://example.org/ccp')).toBe('https://example.org/ccp/app/launch');
  });

  it("the first start's message names the app's address and the account to sign in with", () => {
    const message = bootstrapMessage({ username: 'admin', password: 'p', clientId: 'local-admin', clientSecret: 's' }, 'http://127.0.0.1:8080');
    expect(message).toContain('The app: open http://127.0.0.1:8080/app/ and sign in as admin.');
    expect(bootstrapMessage({ username: 'admin', password: 'p', clientId: 'local-admin', clientSecret: 's' }, 'https://ccp.example.org')).toContain(
      'The app: open https://ccp.example.org/app/ and sign in as admin.',
    );
  });
});

describe.each(BACKENDS)('the app client on $name', (backend) => {
  const ROOT = 'https://ccp.test';
  let server: TestServer;
  let password: string;

  beforeAll(async () => {
    server = await openTestServer(backend, { baseUrl: `${ROOT}/fhir`, auth: true });
    await publishTerms(server.db, 'Use this service for care only.');
    // As server/main.ts: the first start's accounts, then the app.
    const credentials = await bootstrap(server.auth!, server.context.store);
    expect(credentials?.username).toBe('admin');
    password = credentials!.password;
    expect(await ensureAppClient(server.auth!, ROOT)).toEqual({ outcome: 'created' });
  });
  afterAll(() => server?.close());

  it('is a public client without secret, its redirect URI /app/ on the server origin, with the scopes of the app', async () => {
    const client = await server.auth!.clients.find(APP_CLIENT_ID);
    expect(client).toMatchObject({ kind: 'public', authMethod: 'none', redirectUris: [`${ROOT}/app/`], active: true, source: 'api' });
    expect(client!.secretHash).toBeUndefined();
    expect(client!.scope).toBe('openid fhirUser launch launch/patient online_access user/*.cruds patient/*.rs');
    expect(APP_SCOPE).toBe(client!.scope);
  });

  it('is not data to the demo: a database holding only the first start accounts and the app is adopted', async () => {
    const state = await inspectDatabase(server.db);
    expect(state.localAdmin).toBe(true);
    expect(state.admin).toBeDefined();
    expect(state.otherData).toEqual([]);
  });

  it('every later start: unchanged; a new root adds its URIs and keeps the old and what an administrator changed', async () => {
    expect(await ensureAppClient(server.auth!, ROOT)).toEqual({ outcome: 'unchanged' });
    const before = (await server.auth!.clients.find(APP_CLIENT_ID))!;
    await server.auth!.clients.save({ ...before, scope: 'openid fhirUser launch user/*.rs', active: false });
    expect(await ensureAppClient(server.auth!, 'http://127.0.0.1:8080')).toEqual({ outcome: 'updated' });
    const after = (await server.auth!.clients.find(APP_CLIENT_ID))!;
    expect(after.redirectUris).toEqual([`${ROOT}/app/`, 'http://localhost:8080/app/', 'http://127.0.0.1:8080/app/', 'http://[::1]:8080/app/']);
    expect([after.scope, after.active]).toEqual(['openid fhirUser launch user/*.rs', false]);
    await server.auth!.clients.save(before);
  });

  it('a root that is plain http off the loopback interface is refused, saying why, and changes nothing', async () => {
    const result = await ensureAppClient(server.auth!, 'http://ccp.internal:8080');
    expect(result).toEqual({ outcome: 'refused', problems: ['redirect_uris: http://ccp.internal:8080/app/ must be https (http only on the loopback interface)'] });
    expect((await server.auth!.clients.find(APP_CLIENT_ID))!.redirectUris).toEqual([`${ROOT}/app/`]);
  });

  it('a client of CLIENTS_FILE by that id is the file\'s: left alone', async () => {
    const before = (await server.auth!.clients.find(APP_CLIENT_ID))!;
    await server.auth!.clients.save({ ...before, source: 'config' });
    expect(await ensureAppClient(server.auth!, 'https://elsewhere.test')).toEqual({ outcome: 'unchanged' });
    expect((await server.auth!.clients.find(APP_CLIENT_ID))!.redirectUris).toEqual([`${ROOT}/app/`]);
    await server.auth!.clients.save(before);
  });

  it('PKCE is required of it, S256 only: without a challenge or with plain, the app is told why at /app/; another redirect URI is refused on a page', async () => {
    const base = { client_id: APP_CLIENT_ID, scope: 'openid fhirUser user/*.rs', aud: `${ROOT}/fhir`, redirect_uri: `${ROOT}/app/`, state: 's1' };
    const errorAt = (res: Awaited<ReturnType<Browser['get']>>) => {
      const url = new URL(location(res));
      return [res.status, `${url.origin}${url.pathname}`, url.searchParams.get('error'), url.searchParams.get('error_description'), url.searchParams.get('state')];
    };
    expect(errorAt(await new Browser(server).get(authorizeUrl(base)))).toEqual([303, `${ROOT}/app/`, 'invalid_request', 'code_challenge is required (PKCE with S256)', 's1']);
    const plain = await new Browser(server).get(authorizeUrl({ ...base, code_challenge: pkce().challenge, code_challenge_method: 'plain' }));
    expect(errorAt(plain)).toEqual([303, `${ROOT}/app/`, 'invalid_request', 'code_challenge_method must be S256', 's1']);
    const elsewhere = await new Browser(server).get(authorizeUrl({ ...base, code_challenge: pkce().challenge, redirect_uri: 'https://evil.test/app/' }));
    expect([elsewhere.status, pageTitle(elsewhere)]).toEqual([400, 'This request cannot be completed']);
    expect(elsewhere.text).toContain('redirect_uri is not registered for this client');
  });

  it('the administrator signs in through it: a code at /app/, exchanged without a secret for the scopes asked within the registration', async () => {
    const { verifier, challenge } = pkce();
    const back = await authorizeThrough(
      new Browser(server),
      {
        client_id: APP_CLIENT_ID,
        // offline_access and system/ are not the app's: left out of what is granted.
        scope: 'openid fhirUser online_access offline_access user/*.cruds system/*.rs',
        aud: `${ROOT}/fhir`,
        redirect_uri: `${ROOT}/app/`,
        state: 'st-1',
        code_challenge: challenge,
      },
      { username: 'admin', password },
    );
    expect(`${back.origin}${back.pathname}`).toBe(`${ROOT}/app/`);
    expect(back.searchParams.get('state')).toBe('st-1');
    const exchanged = await exchangeCode(server, { code: back.searchParams.get('code')!, code_verifier: verifier, client_id: APP_CLIENT_ID, redirect_uri: `${ROOT}/app/` });
    expect(exchanged.status).toBe(200);
    expect(exchanged.body.scope).toBe('openid fhirUser online_access user/*.cruds');
    expect(typeof exchanged.body.refresh_token).toBe('string');
    const wrongVerifier = await exchangeCode(server, { code: back.searchParams.get('code')!, code_verifier: pkce().verifier, client_id: APP_CLIENT_ID, redirect_uri: `${ROOT}/app/` });
    expect(wrongVerifier.status).toBe(400);
  });

  it('an unknown client still ends on a page, never a redirect', async () => {
    const res = await new Browser(server).get(authorizeUrl({ client_id: 'not-ccp-app', scope: 'openid', aud: `${ROOT}/fhir`, code_challenge: pkce().challenge }));
    expect(res.status).toBe(400);
    expect(() => location(res)).toThrow();
  });
});
