import type { Bundle, OperationOutcome, Subscription } from 'fhir/r4';
import type { Caller } from '../../server/access/caller.js';
import { UNRESTRICTED } from '../../server/access/caller.js';
import { parseResourceScope } from '../../server/access/scopes.js';
import { syncSubscriptionResource } from '../../server/notifications/status-sync.js';
import { handleFhirRequest } from '../../server/pipeline/fhir-request.js';
import type { FhirRequest, FhirResponse } from '../../server/rest/types.js';
import { setSubscriptionStatus } from '../../server/store/subscription-outbox.js';
import { OWNER_TAG_SYSTEM } from '../../server/subscriptions/owner.js';
import { BACKENDS, reportBackends } from '../support/backends.js';
import { openTestServer, type TestServer } from '../support/fhir-app.js';

reportBackends();

const BASE = 'https://ccp.example.org/fhir';
const PAYLOAD_CONTENT = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-payload-content';
const TOPIC = 'http://ccp-exchange.org/fhir/SubscriptionTopic/organization-joined';

/** A backend client of an EMR: system scopes to read and manage Subscriptions and read Organizations. */
const emr = (clientId: string): Caller => ({
  kind: 'system',
  clientId,
  scopes: ['system/Subscription.cruds', 'system/Organization.rs'].map((text) => parseResourceScope(text)!),
});

const subscription = (endpoint: string, overrides: Partial<Subscription> = {}): Subscription => ({
  resourceType: 'Subscription',
  status: 'requested',
  reason: 'tell the EMR of new organizations',
  criteria: TOPIC,
  channel: {
    type: 'rest-hook',
    endpoint,
    payload: 'application/fhir+json',
    _payload: { extension: [{ url: PAYLOAD_CONTENT, valueCode: 'id-only' }] },
  } as Subscription['channel'],
  ...overrides,
});

describe.each(BACKENDS)('Subscription writes (server/notifications/subscription-rule.ts), on $name', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await openTestServer(backend, { subscriptions: { allowHttpLoopback: false, bindingSecret: 'x'.repeat(32), bindingTokenSeconds: 60, email: false } });
  });
  afterAll(async () => server?.close());

  const call = (caller: Caller, method: string, path: string, init: Partial<FhirRequest> = {}): Promise<FhirResponse> =>
    handleFhirRequest({ method, path, query: {}, headers: {}, baseUrl: BASE, caller, ...init }, server.context).catch(
      (error: { status?: number; outcome?: OperationOutcome }) => ({ status: error.status ?? 500, body: error.outcome }) as FhirResponse,
    );
  const engineRows = async (id: string) => (await server.db.query<{ n: string }>('SELECT count(*)::text AS n FROM subscription_state WHERE id = $1', [id]))[0].n;

  it('stores a created Subscription as requested, tagged with its owner, with the engine record and its handshake in the same write', async () => {
    const forged = { meta: { tag: [{ system: OWNER_TAG_SYSTEM, code: 'client/someone-else' }, { system: 'http://example.org/tags', code: 'kept' }] } };
    const created = await call(emr('emr-a'), 'POST', 'Subscription', { body: subscription('https://emr-a.example.org/hook', forged) });
    expect(created.status).toBe(201);
    const stored = created.body as Subscription;
    expect(stored.status).toBe('requested');
    expect(stored.meta?.tag).toEqual(expect.arrayContaining([{ system: OWNER_TAG_SYSTEM, code: 'client/emr-a' }, { system: 'http://example.org/tags', code: 'kept' }]));
    expect(stored.meta?.tag?.filter((tag) => tag.system === OWNER_TAG_SYSTEM)).toHaveLength(1);
    const state = await server.context.store.subscriptionState(stored.id!);
    expect(state).toMatchObject({ status: 'requested', subscription: { id: stored.id, channel: 'rest-hook', endpoint: 'https://emr-a.example.org/hook', payload: 'id-only', owner: { kind: 'client', clientId: 'emr-a' } } });
    const [handshake] = await server.db.query<{ n: string }>(`SELECT count(*)::text AS n FROM subscription_notification WHERE subscription_id = $1 AND kind = 'handshake'`, [stored.id]);
    expect(handshake.n).toBe('1');
  });

  it('refuses what it cannot honour, leaving neither a resource nor an engine record', async () => {
    const before = await server.db.query<{ n: string }>(`SELECT count(*)::text AS n FROM subscription_state`);
    const fullResource = subscription('https://emr-a.example.org/hook');
    (fullResource.channel as { _payload: unknown })._payload = { extension: [{ url: PAYLOAD_CONTENT, valueCode: 'full-resource' }] };
    const refused = await call(emr('emr-a'), 'POST', 'Subscription', { body: fullResource });
    expect(refused.status).toBe(422);
    expect(JSON.stringify(refused.body)).toContain('full-resource');

    const metadata = await call(emr('emr-a'), 'POST', 'Subscription', { body: subscription('https://169.254.169.254/latest/meta-data') });
    expect(metadata.status).toBe(422);
    expect((metadata.body as OperationOutcome).issue[0].expression).toEqual(['Subscription.channel.endpoint']);

    const email = await call(emr('emr-a'), 'POST', 'Subscription', { body: { ...subscription('mailto:desk@emr-a.example.org'), channel: { ...subscription('').channel, type: 'email', endpoint: 'mailto:desk@emr-a.example.org', payload: 'text/plain' } } });
    expect(email.status).toBe(422);
    expect((email.body as OperationOutcome).issue.map((issue) => issue.diagnostics).join(' ')).toContain('SMTP_URL');

    expect(await server.db.query<{ n: string }>(`SELECT count(*)::text AS n FROM subscription_state`)).toEqual(before);
  });

  it('lets only the owner read, search, update and delete it', async () => {
    const id = ((await call(emr('emr-b'), 'POST', 'Subscription', { body: subscription('https://emr-b.example.org/hook') })).body as Subscription).id!;
    expect((await call(emr('emr-b'), 'GET', `Subscription/${id}`)).status).toBe(200);
    expect((await call(emr('emr-c'), 'GET', `Subscription/${id}`)).status).toBe(404);
    const search = async (caller: Caller) => ((await call(caller, 'GET', 'Subscription')).body as Bundle).entry?.map((entry) => entry.resource?.id) ?? [];
    expect(await search(emr('emr-b'))).toEqual([id]);
    expect(await search(emr('emr-c'))).toEqual([]);
    expect((await call(emr('emr-c'), 'PUT', `Subscription/${id}`, { body: { ...subscription('https://emr-c.example.org/stolen'), id } })).status).toBe(404);
    expect((await call(emr('emr-c'), 'DELETE', `Subscription/${id}`)).status).toBe(404);
    expect(await engineRows(id)).toBe('1');

    // The owner's update replaces the engine's record; its delete removes it.
    const updated = await call(emr('emr-b'), 'PUT', `Subscription/${id}`, { body: { ...subscription('https://emr-b.example.org/hook-2'), id } });
    expect(updated.status).toBe(200);
    expect((await server.context.store.subscriptionState(id))?.subscription.endpoint).toBe('https://emr-b.example.org/hook-2');
    expect((await call(emr('emr-b'), 'DELETE', `Subscription/${id}`)).status).toBe(200);
    expect(await engineRows(id)).toBe('0');
  });

  it('keeps the resource in line with the engine: active after the handshake, error with its reason', async () => {
    const id = ((await call(emr('emr-d'), 'POST', 'Subscription', { body: subscription('https://emr-d.example.org/hook') })).body as Subscription).id!;
    await setSubscriptionStatus(server.db, id, 'active');
    await syncSubscriptionResource(server.context.store, id);
    let read = (await call(emr('emr-d'), 'GET', `Subscription/${id}`)).body as Subscription;
    expect([read.status, read.meta?.versionId, read.error]).toEqual(['active', '2', undefined]);
    await syncSubscriptionResource(server.context.store, id); // nothing differs: no new version
    expect(((await call(emr('emr-d'), 'GET', `Subscription/${id}`)).body as Subscription).meta?.versionId).toBe('2');

    await setSubscriptionStatus(server.db, id, 'error', 'the endpoint answered 404');
    await syncSubscriptionResource(server.context.store, id);
    read = (await call(emr('emr-d'), 'GET', `Subscription/${id}`)).body as Subscription;
    expect([read.status, read.error]).toEqual(['error', 'the endpoint answered 404']);
    // Searchable by what it now is.
    const errored = (await call(emr('emr-d'), 'GET', 'Subscription', { query: { status: ['error'] } })).body as Bundle;
    expect(errored.entry?.map((entry) => entry.resource?.id)).toEqual([id]);

    // The client asks for it again: requested, a new handshake, and the stale error note is gone.
    const again = await call(emr('emr-d'), 'PUT', `Subscription/${id}`, { body: { ...read, status: 'requested' } });
    expect(again.status).toBe(200);
    expect((again.body as Subscription).error).toBeUndefined();
    expect((await server.context.store.subscriptionState(id))?.status).toBe('requested');
  });

  it('records an AUTH_DISABLED server\'s Subscriptions as the server\'s own', async () => {
    const created = await call(UNRESTRICTED, 'POST', 'Subscription', { body: subscription('https://anyone.example.org/hook') });
    expect((created.body as Subscription).meta?.tag).toContainEqual({ system: OWNER_TAG_SYSTEM, code: 'server' });
    expect((await server.context.store.subscriptionState(created.body!.id!))?.subscription.owner).toEqual({ kind: 'server', scopes: [] });
  });
});
