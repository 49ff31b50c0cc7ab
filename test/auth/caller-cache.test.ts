import type { CarePlan, Organization, Patient, PractitionerRole } from 'fhir/r4';
import pg from 'pg';
import request from 'supertest';
import { accessChanged, accessChangesOf } from '../../server/auth/auth-changes.js';
import { CallerCache } from '../../server/auth/caller-cache.js';
import { callerOfToken } from '../../server/auth/caller-of-token.js';
import { hashPassword, secretHash } from '../../server/auth/secrets.js';
import { migrate } from '../../server/store/migrate.js';
import { openPostgres } from '../../server/store/postgres.js';
import { BACKENDS, createEmptySchema, describeWithPostgres, reportBackends } from '../support/backends.js';
import { openTestServer, type TestServer } from '../support/fhir-app.js';
import { authorizeThrough, Browser, exchangeCode, person, type Person, pkce, registerApp } from '../support/smart-flow.js';

reportBackends();

/**
 * The callers of access tokens are cached in the process (server/auth/caller-cache.ts), and every change that ends
 * or alters a caller's access empties that cache before the changing request returns (server/auth/auth-changes.ts):
 * each test warms the cache with successful requests, makes the change through the API, and expects the very next
 * request to be refused, waiting for nothing. Across two server instances on one PostgreSQL schema as well.
 */

const BASE = 'https://ccp.test/fhir';
const OPS_SECRET = 'ops-secret-for-cache-tests';

interface Server extends TestServer {
  fhirGet(token: string, path: string): request.Test;
}

function withHelpers(server: TestServer): Server {
  return { ...server, fhirGet: (token, path) => request(server.app).get(`/fhir/${path}`).set('Authorization', `Bearer ${token}`) };
}

async function backendToken(server: TestServer, clientId: string, secret: string, scope: string): Promise<string> {
  await server.auth!.clients.save({
    clientId, name: clientId, kind: 'backend', authMethod: 'client_secret_basic', secretHash: await hashPassword(secret), redirectUris: [], scope, active: true, source: 'api',
  });
  const res = await request(server.app).post('/auth/token').auth(clientId, secret).type('form').send({ grant_type: 'client_credentials', scope });
  expect(res.status).toBe(200);
  return res.body.access_token as string;
}

/** A user's access token through the SMART flow (sign-in, terms, approval, code exchange). */
async function userToken(server: TestServer, user: Person, scope = 'openid fhirUser user/CarePlan.rs'): Promise<string> {
  const { verifier, challenge } = pkce();
  const back = await authorizeThrough(new Browser(server), { client_id: 'app', scope, aud: BASE, state: 'st-cache', code_challenge: challenge }, user);
  const res = await exchangeCode(server, { code: back.searchParams.get('code')!, code_verifier: verifier, client_id: 'app' });
  expect(res.status).toBe(200);
  return res.body.access_token as string;
}

/** Successful requests until the token's caller is in `server`'s cache (a PostgreSQL process must be listening first). */
async function warm(server: Server, token: string, path = 'CarePlan'): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    expect((await server.fhirGet(token, path)).status).toBe(200);
    if (server.auth!.callers.find(secretHash(token))) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('the caller never got cached');
}

/** A new contributor `name`, signed in through `writer`, whose caller `reader` has cached (one instance, or two). */
async function cachedUser(writer: Server, reader: Server, name: string): Promise<{ user: Person; token: string }> {
  const user = await person(writer, name, ['contributor']);
  const token = await userToken(writer, user);
  await warm(reader, token);
  return { user, token };
}

/** The changes of access the suites make through the API of `server` as the administrator `opsToken`. */
function changes(server: Server, opsToken: string) {
  return {
    revoke: async (token: string) => expect((await request(server.app).post('/auth/revoke').type('form').send({ token, client_id: 'app' })).status).toBe(200),
    deactivateUser: async (user: Person) => expect((await ops(server, opsToken).patchUser(user.userId, { active: false })).status).toBe(200),
    async deactivateOrganization(user: Person) {
      const organization = ((await server.context.store.read('Organization', user.organizationId)) as { resource: Organization }).resource;
      expect((await ops(server, opsToken).put(`Organization/${user.organizationId}`, { ...organization, active: false })).status).toBe(200);
    },
    async dropRoleCodes(user: Person) {
      const role = ((await server.context.store.read('PractitionerRole', user.practitionerRoleId)) as { resource: PractitionerRole }).resource;
      const { code: _code, ...without } = role;
      expect((await ops(server, opsToken).put(`PractitionerRole/${role.id}`, without)).status).toBe(200);
    },
  };
}

function ops(server: Server, token: string) {
  const send = (req: request.Test, body: unknown) => req.set('Authorization', `Bearer ${token}`).set('Content-Type', 'application/json').send(JSON.stringify(body));
  return {
    patchUser: (id: string, body: unknown) => send(request(server.app).patch(`/auth/admin/users/${id}`), body),
    put: (path: string, body: unknown) => send(request(server.app).put(`/fhir/${path}`).set('Content-Type', 'application/fhir+json'), body),
  };
}

describe.each(BACKENDS)('cached callers on $name', (backend) => {
  let server: Server;
  let opsToken: string;

  beforeAll(async () => {
    server = withHelpers(await openTestServer(backend, { baseUrl: BASE, auth: true }));
    opsToken = await backendToken(server, 'ops', OPS_SECRET, 'admin system/*.cruds');
    const patient = (await server.context.store.create({ resourceType: 'Patient', name: [{ family: 'Rivera' }] } as Patient)) as Patient;
    await server.context.store.create({ resourceType: 'CarePlan', status: 'active', intent: 'plan', subject: { reference: `Patient/${patient.id}` } } as CarePlan);
    await registerApp(server, { clientId: 'app' });
  });
  afterAll(async () => server?.close());

  it('a cached caller costs no lookup: the cache answers for the token', async () => {
    const casey = await person(server, 'casey', ['contributor']);
    const token = await userToken(server, casey);
    await warm(server, token);
    const cached = server.auth!.callers.find(secretHash(token))!;
    expect(cached).toMatchObject({ kind: 'user', userId: casey.userId, organization: casey.organizationId, practitionerRole: casey.practitionerRoleId });
    // One caller serves many requests: none of them may change it for the others.
    expect(Object.isFrozen(cached) && Object.isFrozen(cached.scopes)).toBe(true);
  });

  it('a revoked access token (RFC 7009) is refused on the next request', async () => {
    const { token } = await cachedUser(server, server, 'dana');
    await changes(server, opsToken).revoke(token);
    expect((await server.fhirGet(token, 'CarePlan')).status).toBe(401);
  });

  it('a user deactivated through the admin API is refused on the next request', async () => {
    const { user, token } = await cachedUser(server, server, 'eli');
    await changes(server, opsToken).deactivateUser(user);
    expect((await server.fhirGet(token, 'CarePlan')).status).toBe(401);
  });

  it('a backend client deactivated is refused on the next request', async () => {
    const token = await backendToken(server, 'reader', 'reader-secret-for-cache-tests', 'system/*.rs');
    await warm(server, token);
    const client = (await server.auth!.clients.find('reader'))!;
    await server.auth!.clients.save({ ...client, active: false });
    expect((await server.fhirGet(token, 'CarePlan')).status).toBe(401);
  });

  it('a PractitionerRole losing its role codes: the next request has no rights (403)', async () => {
    const { user, token } = await cachedUser(server, server, 'fay');
    await changes(server, opsToken).dropRoleCodes(user);
    expect((await server.fhirGet(token, 'CarePlan')).status).toBe(403);
  });

  it('a PractitionerRole deactivated, or losing its organization: the next request sees it', async () => {
    const { user: gus, token } = await cachedUser(server, server, 'gus');
    const role = ((await server.context.store.read('PractitionerRole', gus.practitionerRoleId)) as { resource: PractitionerRole }).resource;
    const { organization: _organization, ...withoutOrganization } = role;
    expect((await ops(server, opsToken).put(`PractitionerRole/${role.id}`, withoutOrganization)).status).toBe(200);
    expect((await callerOfToken(server.auth!, token))?.organization).toBeUndefined();
    expect((await ops(server, opsToken).put(`PractitionerRole/${role.id}`, { ...role, active: false })).status).toBe(200);
    expect((await server.fhirGet(token, 'CarePlan')).status).toBe(401);
  });

  it("a user's Organization deactivated is refused on the next request", async () => {
    const { user, token } = await cachedUser(server, server, 'hal');
    await changes(server, opsToken).deactivateOrganization(user);
    expect((await server.fhirGet(token, 'CarePlan')).status).toBe(401);
  });

  it('a client deactivated by SQL typed by hand: PGlite hears the trigger before the statement returns', async () => {
    const token = await backendToken(server, 'by-hand', 'by-hand-secret-for-cache-tests', 'system/*.rs');
    await warm(server, token);
    const generation = accessChangesOf(server.db).generation;
    await server.db.query("UPDATE auth_client SET active = false WHERE client_id = 'by-hand'");
    // On PostgreSQL the notification comes back over the listening connection, a moment later (nothing waited).
    if (backend.name === 'postgres') {
      for (let attempt = 0; attempt < 100 && accessChangesOf(server.db).generation === generation; attempt++) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect((await server.fhirGet(token, 'CarePlan')).status).toBe(401);
  });

  it('a lookup racing a change does not put back what the change ended', async () => {
    const cache = new CallerCache(accessChangesOf(server.db));
    const started = cache.start();
    // The change commits while the lookup is under way (between its start and its store).
    await server.db.transaction((tx) => accessChanged(tx));
    cache.store('some-token-hash', { kind: 'system', clientId: 'x', scopes: [], otherScopes: [] }, 60_000, started);
    expect(cache.find('some-token-hash')).toBeUndefined();
  });

  it('an entry never outlives its token', async () => {
    const cache = new CallerCache(accessChangesOf(server.db));
    await warmListener(cache);
    cache.store('short-lived', { kind: 'system', clientId: 'x', scopes: [], otherScopes: [] }, 30, cache.start());
    expect(cache.find('short-lived')).toBeDefined();
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(cache.find('short-lived')).toBeUndefined();
  });
});

/** On PostgreSQL the cache is used once the process listens; until then `start` says not to store. */
async function warmListener(cache: CallerCache): Promise<void> {
  for (let attempt = 0; attempt < 100 && !cache.start(); attempt++) await new Promise((resolve) => setTimeout(resolve, 20));
}

describeWithPostgres('cached callers across server instances', 'the tests of invalidation between processes sharing one PostgreSQL', (url) => {
  let one: Server;
  let other: Server;
  let opsToken: string;
  let close: () => Promise<void>;

  beforeAll(async () => {
    const schema = await createEmptySchema(url);
    await migrate(schema.db);
    // Two instances, as two processes would be: each its own pool, its own authorization server and cache.
    const secondDb = openPostgres(schema.url);
    one = withHelpers(await openTestServer(BACKENDS[0], { baseUrl: BASE, auth: true }, { db: schema.db, url: schema.url, close: async () => undefined }));
    other = withHelpers(await openTestServer(BACKENDS[0], { baseUrl: BASE, auth: true }, { db: secondDb, url: schema.url, close: async () => undefined }));
    close = async () => {
      await secondDb.close();
      await schema.close();
    };
    opsToken = await backendToken(one, 'ops', OPS_SECRET, 'admin system/*.cruds');
    const patient = (await one.context.store.create({ resourceType: 'Patient', name: [{ family: 'Rivera' }] } as Patient)) as Patient;
    await one.context.store.create({ resourceType: 'CarePlan', status: 'active', intent: 'plan', subject: { reference: `Patient/${patient.id}` } } as CarePlan);
    await registerApp(one, { clientId: 'app' });
  });
  afterAll(async () => close?.());

  it('a token revoked through one instance is refused by the other at once', async () => {
    const { token } = await cachedUser(one, other, 'ida');
    await changes(one, opsToken).revoke(token);
    expect((await other.fhirGet(token, 'CarePlan')).status).toBe(401);
  });

  it('a user deactivated through one instance is refused by the other at once', async () => {
    const { user, token } = await cachedUser(one, other, 'jo');
    await changes(one, opsToken).deactivateUser(user);
    expect((await other.fhirGet(token, 'CarePlan')).status).toBe(401);
  });

  it('an Organization deactivated through one instance is refused by the other at once', async () => {
    const { user, token } = await cachedUser(one, other, 'kim');
    await changes(one, opsToken).deactivateOrganization(user);
    expect((await other.fhirGet(token, 'CarePlan')).status).toBe(401);
  });

  it('a PractitionerRole losing its role codes through one instance: the other refuses at once', async () => {
    const { user, token } = await cachedUser(one, other, 'lou');
    await changes(one, opsToken).dropRoleCodes(user);
    expect((await other.fhirGet(token, 'CarePlan')).status).toBe(403);
  });

  it('a backend client deactivated by SQL typed by hand: the other instance hears the trigger', async () => {
    const token = await backendToken(one, 'hand', 'hand-secret-for-cache-tests', 'system/*.rs');
    await warm(other, token);
    const generation = accessChangesOf(other.db).generation;
    await one.db.query("UPDATE auth_client SET active = false WHERE client_id = 'hand'");
    // No request of ours made this change, so nothing waited for the other to hear it: it hears it shortly.
    for (let attempt = 0; attempt < 100 && accessChangesOf(other.db).generation === generation; attempt++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect((await other.fhirGet(token, 'CarePlan')).status).toBe(401);
  });
});

describeWithPostgres('a change waits for every listening process', 'the test of the acknowledgements between processes', (url) => {
  it('the changing request returns only once every process listening on the schema has answered', async () => {
    const schema = await createEmptySchema(url);
    await migrate(schema.db);
    const server = withHelpers(await openTestServer(BACKENDS[0], { baseUrl: BASE, auth: true }, schema));
    // Another process's listener, slow to answer: it speaks the protocol of server/auth/auth-changes.ts by hand.
    const slow = new pg.Client({ connectionString: schema.url });
    await slow.connect();
    try {
      await slow.query(`SELECT set_config('application_name', 'ccp-access ${schema.schema}', false)`);
      await slow.query('LISTEN ccp_access');
      slow.on('notification', (message) => {
        const id = message.payload?.split(' ')[1];
        if (id) setTimeout(() => void slow.query("SELECT pg_notify('ccp_access_ack', $1)", [id]), 400);
      });
      const token = await backendToken(server, 'waits', 'waits-secret-for-cache-tests', 'system/*.rs');
      await warm(server, token);
      const started = Date.now();
      const client = (await server.auth!.clients.find('waits'))!;
      await server.auth!.clients.save({ ...client, active: false });
      expect(Date.now() - started).toBeGreaterThanOrEqual(400);
      expect((await server.fhirGet(token, 'CarePlan')).status).toBe(401);
    } finally {
      await slow.end();
      await schema.close();
    }
  });
});
