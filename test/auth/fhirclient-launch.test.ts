import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Bundle, CarePlan, Patient } from 'fhir/r4';
import smart from 'fhirclient';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { BACKENDS, reportBackends } from '../support/backends.js';
import { approvedRegistration } from '../support/registration.js';
import { openTestServer, type TestServer } from '../support/fhir-app.js';
import { freePort } from '../support/server-process.js';
import { person, type Person, registerApp } from '../support/smart-flow.js';

/**
 * The real `fhirclient` library (SMART on FHIR's JavaScript client, Node adapter) as a SMART app against our
 * server over real HTTP: it discovers the endpoints, sends the browser to /auth/authorize with PKCE, exchanges
 * the code itself in `ready()`, and reads FHIR data with the token. The test is only the user's browser.
 */

reportBackends();

const CLIENT_ID = 'fhirclient-app';
const SCOPE = 'launch/patient openid fhirUser patient/CarePlan.rs patient/Patient.r';

type SmartApi = ReturnType<typeof smart>;
type SmartClient = Awaited<ReturnType<SmartApi['ready']>>;
type ClientState = SmartClient['state'];
type Storage = Exclude<Parameters<typeof smart>[2], ((...args: never[]) => unknown) | undefined>;

/** The app's server-side session: what fhirclient keeps between `authorize()` and `ready()` (the state, by its key). */
class MemoryStorage implements Storage {
  readonly values = new Map<string, unknown>();

  async get(key: string): Promise<unknown> {
    return this.values.get(key);
  }

  async set(key: string, value: unknown): Promise<unknown> {
    // A copy, as a real session store serializes: later changes to fhirclient's objects do not leak in.
    this.values.set(key, structuredClone(value));
    return value;
  }

  async unset(key: string): Promise<boolean> {
    return this.values.delete(key);
  }

  /** The key of the launch in progress, as fhirclient records it. */
  currentKey(): string | undefined {
    return this.values.get('SMART_KEY') as string | undefined;
  }

  stateOf(key: string): ClientState | undefined {
    return this.values.get(key) as ClientState | undefined;
  }
}

/** An HTTP error as fhirclient throws it (lib/HttpError): the response's status. */
function statusOf(error: unknown): number | undefined {
  return typeof error === 'object' && error !== null && 'status' in error && typeof error.status === 'number' ? error.status : undefined;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}

/**
 * A SMART app as a tiny Node server, written as fhirclient's README shows: `/launch` calls `authorize()`,
 * `/callback` (the redirect URI) calls `ready()`. Each client `ready()` gives is kept for the test to use.
 */
interface SmartApp {
  origin: string;
  redirectUri: string;
  storage: MemoryStorage;
  clients: SmartClient[];
  close(): Promise<void>;
}

/** Who the app is at our server: a public client by default, confidential (client_secret_basic) with a secret. */
interface AppRegistration {
  clientId: string;
  scope: string;
  clientSecret?: string;
}

async function startApp(iss: string, registration: AppRegistration): Promise<SmartApp> {
  const { clientId, scope, clientSecret } = registration;
  const storage = new MemoryStorage();
  const clients: SmartClient[] = [];
  const server = http.createServer((req, res) => {
    const answer = (status: number, body: unknown) => {
      if (res.headersSent) return;
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    const path = new URL(req.url ?? '/', 'http://app').pathname;
    const work = async () => {
      if (path === '/launch') {
        await smart(req, res, storage).authorize({ iss, clientId, scope, clientSecret, redirectUri: app.redirectUri, pkceMode: 'required' });
      } else if (path === '/callback') {
        const client = await smart(req, res, storage).ready();
        clients.push(client);
        answer(200, { patient: client.patient.id });
      } else {
        answer(404, { error: 'not found' });
      }
    };
    work().catch((error: unknown) => answer(400, { error: error instanceof Error ? error.message : String(error) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const app: SmartApp = {
    origin,
    redirectUri: `${origin}/callback`,
    storage,
    clients,
    close: () => closeServer(server),
  };
  return app;
}

function closeServer(server: http.Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
}

/**
 * The user's browser, over real HTTP: follows nothing by itself, keeps cookies (by name and path, as a browser
 * does for one host; the session cookie is Secure, which browsers honour on http://127.0.0.1 too).
 */
class HttpBrowser {
  private readonly cookies = new Map<string, { value: string; path: string }>();

  async get(url: string | URL): Promise<Response> {
    return this.send(new URL(url), { method: 'GET' });
  }

  async post(url: string | URL, form: Record<string, string>): Promise<Response> {
    return this.send(new URL(url), { method: 'POST', body: new URLSearchParams(form), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  }

  private async send(url: URL, init: { method: string; body?: URLSearchParams; headers?: Record<string, string> }): Promise<Response> {
    const cookie = [...this.cookies]
      .filter(([, { path }]) => url.pathname === path || url.pathname.startsWith(path.endsWith('/') ? path : `${path}/`))
      .map(([name, { value }]) => `${name}=${value}`)
      .join('; ');
    const res = await fetch(url, { ...init, headers: { ...init.headers, ...(cookie ? { cookie } : {}) }, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';').map((part) => part.trim());
      const name = pair.slice(0, pair.indexOf('='));
      const value = pair.slice(pair.indexOf('=') + 1);
      const path = attributes.find((attribute) => /^path=/i.test(attribute))?.slice(5) ?? '/';
      const expired = attributes.some((attribute) => /^max-age=0$/i.test(attribute) || /^expires=Thu, 01 Jan 1970/i.test(attribute));
      if (expired || !value) this.cookies.delete(name);
      else this.cookies.set(name, { value, path });
    }
    return res;
  }

  has(name: string): boolean {
    return this.cookies.has(name);
  }
}

function redirectTarget(res: Response): URL {
  const target = res.headers.get('location');
  if (!target) throw new Error(`expected a redirect, got ${res.status}`);
  return new URL(target, res.url);
}

interface Launch {
  /** Where fhirclient sent the browser: our authorization endpoint, with its parameters. */
  authorizeUrl: URL;
  /** The <h1> of each page of ours the user saw, in order. */
  pages: string[];
  /** The patient picker's HTML, if it was shown. */
  pickerHtml?: string;
  /** Where our server sent the browser back: the app's redirect URI. */
  callbackUrl: URL;
  /** The app's answer to that request (after its `ready()`). */
  appStatus: number;
  appBody: { patient?: string | null; error?: string };
}

/** The user opens the app's launch page, signs in, picks `patient`, answers the approval, and lands back on the app. */
async function launch(app: SmartApp, user: Person, choices: { patient: string; approve: boolean }): Promise<Launch> {
  const browser = new HttpBrowser();
  const started = await browser.get(`${app.origin}/launch`);
  expect(started.status).toBe(302);
  const authorizeUrl = redirectTarget(started);
  let res = await browser.get(authorizeUrl);
  expect(res.status).toBe(303);
  let target = redirectTarget(res);
  const pages: string[] = [];
  let pickerHtml: string | undefined;
  for (let step = 0; target.origin !== app.origin; step++) {
    if (step > 10) throw new Error('the authorization did not finish');
    expect(target.pathname).toMatch(/^\/auth\/interaction\/[^/]+$/);
    const interaction = target;
    res = await browser.get(interaction);
    if (res.status === 303) {
      target = redirectTarget(res);
      continue;
    }
    const html = await res.text();
    expect(res.status).toBe(200);
    const title = /<h1>([^<]*)<\/h1>/.exec(html)?.[1] ?? `(no title, ${res.status})`;
    pages.push(title);
    const at = (action: string) => new URL(`${interaction.pathname}/${action}`, interaction);
    switch (title) {
      case 'Sign in':
        res = await browser.post(at('sign-in'), { username: user.username, password: user.password });
        expect(browser.has('ccp_session')).toBe(true);
        break;
      case 'Choose a patient':
        pickerHtml = html;
        res = await browser.post(at('patient'), { patient: choices.patient });
        break;
      case 'Allow access?':
        res = await browser.post(at('approve'), { answer: choices.approve ? 'approve' : 'deny' });
        break;
      default:
        throw new Error(`unexpected page: ${title}`);
    }
    expect(res.status).toBe(303);
    target = redirectTarget(res);
  }
  const callbackUrl = target;
  const back = await browser.get(callbackUrl);
  return { authorizeUrl, pages, pickerHtml, callbackUrl, appStatus: back.status, appBody: (await back.json()) as Launch['appBody'] };
}

describe.each(BACKENDS)('fhirclient (SMART on FHIR JS client) standalone launch on $name', (backend) => {
  let server: TestServer;
  let listener: http.Server;
  let root: string;
  let fhirBase: string;
  let app: SmartApp;
  let clinician: Person;
  let patient: Patient;
  let other: Patient;
  let plan: CarePlan;
  let otherPlan: CarePlan;

  beforeAll(async () => {
    // The server builds its links from its base URL, so the port is chosen before it is built.
    const port = await freePort();
    root = `http://127.0.0.1:${port}`;
    fhirBase = `${root}/fhir`;
    server = await openTestServer(backend, { baseUrl: fhirBase, auth: true });
    listener = server.app.listen(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      listener.once('listening', resolve);
      listener.once('error', reject);
    });

    clinician = await person(server, 'dana', ['contributor']);
    const store = server.context.store;
    patient = (await store.create({ resourceType: 'Patient', name: [{ family: 'Rivera', given: ['Ana'] }], birthDate: '1950-02-03' } as Patient)) as Patient;
    other = (await store.create({ resourceType: 'Patient', name: [{ family: 'Okafor', given: ['Ben'] }] } as Patient)) as Patient;
    plan = (await store.create({ resourceType: 'CarePlan', status: 'active', intent: 'plan', subject: { reference: `Patient/${patient.id}` } } as CarePlan)) as CarePlan;
    otherPlan = (await store.create({ resourceType: 'CarePlan', status: 'active', intent: 'plan', subject: { reference: `Patient/${other.id}` } } as CarePlan)) as CarePlan;
    // The clinician's organization is registered for both patients: the launch's patient/ scopes alone keep the other out.
    for (const who of [patient, other]) await approvedRegistration(store, clinician.organizationId, who.id!);

    app = await startApp(fhirBase, { clientId: CLIENT_ID, scope: SCOPE });
    await registerApp(server, { clientId: CLIENT_ID, redirectUris: [app.redirectUri], scope: SCOPE });
  });

  /** Apps a test starts for itself, closed with the rest. */
  const extraApps: SmartApp[] = [];
  async function appFor(registration: AppRegistration): Promise<SmartApp> {
    const started = await startApp(fhirBase, registration);
    extraApps.push(started);
    await registerApp(server, { clientId: registration.clientId, redirectUris: [started.redirectUri], scope: registration.scope }, registration.clientSecret);
    return started;
  }

  afterAll(async () => {
    for (const extra of extraApps) await extra.close();
    await app?.close();
    if (listener) await closeServer(listener);
    await server?.close();
  });

  it('discovers, authorizes with PKCE, exchanges the code in ready(), and reads only the chosen patient with the token', async () => {
    const result = await launch(app, clinician, { patient: patient.id!, approve: true });

    // authorize(): the endpoints came from our .well-known/smart-configuration, PKCE S256 was used.
    const key = app.storage.currentKey();
    expect(key).toEqual(expect.any(String));
    const { authorizeUrl } = result;
    expect(authorizeUrl.origin + authorizeUrl.pathname).toBe(`${root}/auth/authorize`);
    expect(Object.fromEntries(authorizeUrl.searchParams)).toMatchObject({
      response_type: 'code', client_id: CLIENT_ID, scope: SCOPE, redirect_uri: app.redirectUri, aud: fhirBase, state: key, code_challenge_method: 'S256',
    });

    // The user saw our pages in order; the picker offered both patients.
    expect(result.pages).toEqual(['Sign in', 'Choose a patient', 'Allow access?']);
    expect(result.pickerHtml).toContain('Ana Rivera');
    expect(result.pickerHtml).toContain('Ben Okafor');

    // Back at the redirect URI with a code and fhirclient's own state; its ready() succeeded.
    expect(result.callbackUrl.origin + result.callbackUrl.pathname).toBe(app.redirectUri);
    expect(result.callbackUrl.searchParams.get('state')).toBe(key);
    expect(result.callbackUrl.searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(result.appStatus).toBe(200);
    expect(result.appBody).toEqual({ patient: patient.id });
    expect(app.clients).toHaveLength(1);
    const client = app.clients[0];

    // What fhirclient learned and kept: the endpoints, the verifier matching the challenge it sent, the token response.
    const stored = app.storage.stateOf(key!)!;
    expect(stored).toMatchObject({ clientId: CLIENT_ID, serverUrl: fhirBase, authorizeUri: `${root}/auth/authorize`, tokenUri: `${root}/auth/token`, redirectUri: app.redirectUri });
    expect(stored.codeVerifier).toEqual(expect.any(String));
    expect(createHash('sha256').update(stored.codeVerifier!).digest('base64url')).toBe(authorizeUrl.searchParams.get('code_challenge'));
    const tokenResponse = stored.tokenResponse!;
    expect(tokenResponse).toMatchObject({ token_type: 'Bearer', scope: SCOPE, expires_in: 3600, patient: patient.id, need_patient_banner: true });
    expect(tokenResponse.access_token).toEqual(expect.any(String));
    expect(tokenResponse.refresh_token).toBeUndefined();
    expect(client.state.tokenResponse).toEqual(tokenResponse);
    expect(stored.expiresAt).toBeGreaterThan(Date.now() / 1000);

    // The launch context: the patient chosen in the picker.
    expect(client.state.tokenResponse!.patient).toBe(patient.id);
    expect(client.patient.id).toBe(patient.id);

    // The id_token, as fhirclient reads it, names the signed-in user's Practitioner; and it verifies with our JWKS.
    expect(client.getFhirUser()).toBe(`Practitioner/${clinician.practitionerId}`);
    expect(client.getUserType()).toBe('Practitioner');
    expect(client.getUserId()).toBe(clinician.practitionerId);
    expect(client.getIdToken()).toMatchObject({ iss: root, aud: CLIENT_ID, sub: clinician.userId, fhirUser: `${fhirBase}/Practitioner/${clinician.practitionerId}` });
    const { payload } = await jwtVerify(tokenResponse.id_token!, createRemoteJWKSet(new URL(`${root}/auth/jwks`)), { issuer: root, audience: CLIENT_ID });
    expect(payload.sub).toBe(clinician.userId);

    // FHIR reads through fhirclient, with its bearer token.
    const read = await client.patient.read();
    expect(read).toMatchObject({ resourceType: 'Patient', id: patient.id });
    const byPatient = await client.request<Bundle<CarePlan>>(`CarePlan?patient=${client.patient.id}`);
    expect(byPatient.resourceType).toBe('Bundle');
    expect((byPatient.entry ?? []).map((entry) => entry.resource!.id)).toEqual([plan.id]);
    // Without the search parameter the token's patient still bounds what is found.
    const all = await client.request<Bundle<CarePlan>>('CarePlan');
    expect((all.entry ?? []).map((entry) => entry.resource!.id)).toEqual([plan.id]);
    // client.patient.request finds CarePlan's patient search parameter in our CapabilityStatement, then searches.
    const inContext = await client.patient.request<Bundle<CarePlan>>('CarePlan');
    expect((inContext.entry ?? []).map((entry) => entry.resource!.id)).toEqual([plan.id]);

    // The other patient and their plan are out of reach; Patient is granted r only, so no search.
    expect(statusOf(await rejection(client.request(`Patient/${other.id}`)))).toBe(404);
    expect(statusOf(await rejection(client.request(`CarePlan/${otherPlan.id}`)))).toBe(404);
    expect(statusOf(await rejection(client.request('Patient')))).toBe(403);
  });

  it('a user who denies access: fhirclient ready() rejects with access_denied and no token is stored', async () => {
    const before = app.clients.length;
    const result = await launch(app, clinician, { patient: other.id!, approve: false });
    const key = app.storage.currentKey()!;
    expect(result.authorizeUrl.searchParams.get('state')).toBe(key);
    expect(result.pages).toEqual(['Sign in', 'Choose a patient', 'Allow access?']);
    expect(result.callbackUrl.origin + result.callbackUrl.pathname).toBe(app.redirectUri);
    expect(result.callbackUrl.searchParams.get('state')).toBe(key);
    expect(result.callbackUrl.searchParams.get('code')).toBeNull();
    expect(result.callbackUrl.searchParams.get('error')).toBe('access_denied');
    expect(result.appStatus).toBe(400);
    expect(result.appBody.error).toMatch(/^access_denied\b/);
    expect(app.clients).toHaveLength(before);
    expect(app.storage.stateOf(key)!.tokenResponse).toEqual({});
  });

  it('a replay of the code fhirclient already redeemed revokes its token: its next request is refused with 401', async () => {
    const result = await launch(app, clinician, { patient: patient.id!, approve: true });
    expect(result.appStatus).toBe(200);
    const client = app.clients.at(-1)!;
    const key = app.storage.currentKey()!;
    expect((await client.request<Patient>(`Patient/${patient.id}`)).id).toBe(patient.id);

    // Someone who saw the redirect (and, say, the verifier) tries the code again at the token endpoint.
    const replay = await fetch(`${root}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code', code: result.callbackUrl.searchParams.get('code')!, redirect_uri: app.redirectUri,
        client_id: CLIENT_ID, code_verifier: app.storage.stateOf(key)!.codeVerifier!,
      }),
    });
    expect(replay.status).toBe(400);
    expect(await replay.json()).toMatchObject({ error: 'invalid_grant' });

    expect(statusOf(await rejection(client.request(`Patient/${patient.id}`)))).toBe(401);
    // fhirclient then drops its state, as it does when a session has ended.
    expect(app.storage.stateOf(key)).toBeUndefined();
  });
  it('paging: fhirclient follows our next links with its token and gathers every page of the patient\'s plans', async () => {
    const store = server.context.store;
    const many = (await store.create({ resourceType: 'Patient', name: [{ family: 'Lindqvist', given: ['Cara'] }] } as Patient)) as Patient;
    await approvedRegistration(store, clinician.organizationId, many.id!);
    const plans: string[] = [];
    for (let i = 0; i < 3; i++) {
      plans.push(((await store.create({ resourceType: 'CarePlan', status: 'active', intent: 'plan', subject: { reference: `Patient/${many.id}` } } as CarePlan)) as CarePlan).id!);
    }
    const result = await launch(app, clinician, { patient: many.id!, approve: true });
    expect(result.appBody).toEqual({ patient: many.id });
    const client = app.clients.at(-1)!;

    const pages = await client.request<Bundle<CarePlan>[]>(`CarePlan?patient=${many.id}&_count=1`, { pageLimit: 0 });
    expect(pages).toHaveLength(3);
    for (const page of pages.slice(0, -1)) {
      expect(page.link?.find((link) => link.relation === 'next')?.url.startsWith(`${fhirBase}/CarePlan?`)).toBe(true);
    }
    expect(pages.flatMap((page) => (page.entry ?? []).map((entry) => entry.resource!.id)).sort()).toEqual([...plans].sort());
  });

  // SMART App Launch: "For public apps, authentication is not possible (and thus not required)" when refreshing, and
  // RFC 6749 asks an unauthenticated client for client_id only with grant_type=authorization_code (§3.2.1, §6).
  // fhirclient's Node adapter accordingly refreshes a public client with grant_type and refresh_token alone.
  it('offline_access, public client: fhirclient refresh() (no client_id sent) gets a new access token and a rotated refresh token', async () => {
    const offline = await appFor({ clientId: 'fhirclient-offline', scope: `${SCOPE} offline_access` });
    const result = await launch(offline, clinician, { patient: patient.id!, approve: true });
    expect(result.appStatus).toBe(200);
    const client = offline.clients[0];
    const first = { ...client.state.tokenResponse! };
    expect(first.scope).toBe(`${SCOPE} offline_access`);
    expect(first.refresh_token).toEqual(expect.any(String));

    const refreshed = await client.refresh();
    expect(refreshed.tokenResponse).toMatchObject({ patient: patient.id, scope: `${SCOPE} offline_access`, expires_in: 3600 });
    expect(refreshed.tokenResponse!.access_token).not.toBe(first.access_token);
    expect(refreshed.tokenResponse!.refresh_token).toEqual(expect.any(String));
    expect(refreshed.tokenResponse!.refresh_token).not.toBe(first.refresh_token);
    expect((await client.patient.read()).id).toBe(patient.id);
  });

  it('offline_access, confidential client: fhirclient authenticates with client_secret_basic for the code and for refresh()', async () => {
    const confidential = await appFor({ clientId: 'fhirclient-confidential', scope: `${SCOPE} offline_access`, clientSecret: 'fhirclient secret 1' });
    const result = await launch(confidential, clinician, { patient: patient.id!, approve: true });
    expect(result.appStatus).toBe(200);
    const client = confidential.clients[0];
    const first = { ...client.state.tokenResponse! };
    expect(first).toMatchObject({ patient: patient.id, scope: `${SCOPE} offline_access` });

    const refreshed = await client.refresh();
    expect(refreshed.tokenResponse!.access_token).not.toBe(first.access_token);
    expect(refreshed.tokenResponse!.refresh_token).not.toBe(first.refresh_token);
    const plans = await client.request<Bundle<CarePlan>>(`CarePlan?patient=${patient.id}`);
    expect((plans.entry ?? []).map((entry) => entry.resource!.id)).toEqual([plan.id]);
  });
});
