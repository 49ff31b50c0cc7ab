import type { Bundle, Parameters, ParametersParameter, Resource } from 'fhir/r4';
import request from 'supertest';
import { type Caller, UNRESTRICTED } from '../../../server/access/caller.js';
import { type Client, ClientStore } from '../../../server/auth/clients.js';
import { handleFhirRequest } from '../../../server/pipeline/fhir-request.js';
import { eventWindow } from '../../../server/notifications/operations/events.js';
import type { FhirContext, FhirResponse } from '../../../server/rest/types.js';
import { eventsSince, storedEvents, subtypeOf, whats } from '../../audit/audit-support.js';
import { BACKENDS, reportBackends } from '../../support/backends.js';
import { openTestServer, schemaValidator, type TestServer } from '../../support/fhir-app.js';
import { CCP_CHANGED, IG, numberEvents, storeSubscription, subscriberClient } from '../../support/subscriptions.js';
import { rejection } from '../../support/thrown.js';

reportBackends();

const BASE = 'https://ccp.example.org/fhir';
const NOTIFICATION_PROFILE = `${IG}/StructureDefinition/backport-subscription-notification-r4`;

const emrA = subscriberClient('emr-a');
const emrB = subscriberClient('emr-b');
const SERVER_OWNER = { kind: 'server' as const, scopes: [] };

const plan = (id: string): Resource => ({ resourceType: 'CarePlan', id, status: 'active', intent: 'plan', subject: { reference: 'Patient/p1' } }) as Resource;
const backend = (clientId: string, active = true): Client => ({
  clientId,
  name: clientId,
  kind: 'backend',
  authMethod: 'private_key_jwt',
  redirectUris: [],
  scope: 'system/*.rs',
  active,
  source: 'api',
});

/** The status Parameters, first in a notification Bundle. */
const statusOf = (bundle: Bundle): Parameters => bundle.entry![0].resource as Parameters;
const parameter = (parameters: Parameters, name: string): ParametersParameter[] => parameters.parameter!.filter((p) => p.name === name);
/** `number focus` of each notification-event, the focus as `Type/id` (or `-` without one). */
const eventsOf = (bundle: Bundle): string[] =>
  parameter(statusOf(bundle), 'notification-event').map((event) => {
    const part = (name: string) => event.part!.find((p) => p.name === name);
    const focus = part('focus')?.valueReference?.reference?.slice(BASE.length + 1) ?? '-';
    return `${part('event-number')!.valueString} ${focus}`;
  });

describe('the event numbers one $events answer spans', () => {
  it('from eventsSinceNumber, at most the maximum, never past the last numbered', () => {
    expect(eventWindow(3, undefined, 10, 4)).toEqual({ from: 3, to: 6 });
    expect(eventWindow(3, 4, 10, 4)).toEqual({ from: 3, to: 4 });
    expect(eventWindow(9, 50, 10, 4)).toEqual({ from: 9, to: 10 });
    expect(eventWindow(11, undefined, 10, 4)).toBeUndefined();
  });

  it('without eventsSinceNumber, the latest ones up to eventsUntilNumber or the last', () => {
    expect(eventWindow(undefined, undefined, 10, 4)).toEqual({ from: 7, to: 10 });
    expect(eventWindow(undefined, 5, 10, 4)).toEqual({ from: 2, to: 5 });
    expect(eventWindow(undefined, 2, 10, 4)).toEqual({ from: 1, to: 2 });
    // Nothing numbered yet.
    expect(eventWindow(undefined, undefined, 0, 4)).toBeUndefined();
  });
});

describe.each(BACKENDS)('$events on $name', (db) => {
  let server: TestServer;
  const call = (method: string, path: string, caller: Caller, query: Record<string, string[]> = {}, body?: unknown, context?: FhirContext): Promise<FhirResponse> =>
    handleFhirRequest({ method, path, query, headers: {}, baseUrl: BASE, caller, body }, context ?? server.context);
  const events = async (id: string, query: Record<string, string[]> = {}, caller: Caller = UNRESTRICTED): Promise<Bundle> =>
    (await call('GET', `Subscription/${id}/$events`, caller, query)).body as Bundle;

  beforeAll(async () => {
    server = await openTestServer(db);
    for (const resource of [{ resourceType: 'Patient', id: 'p1' } as Resource, plan('cp1'), plan('cp2'), plan('cp3')]) {
      expect((await call('PUT', `${resource.resourceType}/${resource.id}`, UNRESTRICTED, {}, resource)).status).toBe(201);
    }
    await new ClientStore(server.db).save(backend('emr-a'));
    await storeSubscription(server.context, { id: 'own-1', owner: SERVER_OWNER });
    await storeSubscription(server.context, { id: 'own-empty', owner: SERVER_OWNER, payload: 'empty' });
    await storeSubscription(server.context, { id: 'a-1', owner: emrA.owner });
    await numberEvents(server.db, server.context, ['cp1', 'cp2', 'cp1', 'cp3'].map((id) => ({ type: 'CarePlan', id })));
  });
  afterAll(async () => server?.close());

  it('a history Bundle, the query-event status Parameters first, then one entry per focus named by id', async () => {
    const bundle = await events('own-1');
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'history', meta: { profile: [NOTIFICATION_PROFILE] } });
    expect(schemaValidator().validate(bundle as never, 'Bundle')).toEqual([]);
    const status = statusOf(bundle);
    expect(parameter(status, 'type')).toEqual([{ name: 'type', valueCode: 'query-event' }]);
    expect(parameter(status, 'topic')).toEqual([{ name: 'topic', valueCanonical: CCP_CHANGED }]);
    expect(parameter(status, 'events-since-subscription-start')).toEqual([{ name: 'events-since-subscription-start', valueString: '4' }]);
    expect(eventsOf(bundle)).toEqual(['1 CarePlan/cp1', '2 CarePlan/cp2', '3 CarePlan/cp1', '4 CarePlan/cp3']);
    for (const event of parameter(status, 'notification-event')) expect(event.part!.find((p) => p.name === 'timestamp')!.valueInstant).toMatch(/^\d{4}-\d\d-\d\dT/);
    // id-only: each focus once, by its URL, without its content.
    expect(bundle.entry!.slice(1)).toEqual(
      ['cp1', 'cp2', 'cp3'].map((id) => ({ fullUrl: `${BASE}/CarePlan/${id}`, request: { method: 'GET', url: `CarePlan/${id}` }, response: { status: '200' } })),
    );
  });

  it('eventsSinceNumber and eventsUntilNumber bound the events, both included', async () => {
    expect(eventsOf(await events('own-1', { eventsSinceNumber: ['2'], eventsUntilNumber: ['3'] }))).toEqual(['2 CarePlan/cp2', '3 CarePlan/cp1']);
    expect(eventsOf(await events('own-1', { eventsSinceNumber: ['4'] }))).toEqual(['4 CarePlan/cp3']);
    expect(eventsOf(await events('own-1', { eventsUntilNumber: ['1'] }))).toEqual(['1 CarePlan/cp1']);
    // Past the last: no events, and the count says how far they go.
    const past = await events('own-1', { eventsSinceNumber: ['5'] });
    expect(eventsOf(past)).toEqual([]);
    expect(parameter(statusOf(past), 'events-since-subscription-start')[0].valueString).toBe('4');
    expect(past.entry).toHaveLength(1);
  });

  it('content: empty names no focus and no topic; the Subscription own level is the default', async () => {
    const empty = await events('own-1', { content: ['empty'] });
    expect(eventsOf(empty)).toEqual(['1 -', '2 -', '3 -', '4 -']);
    expect(parameter(statusOf(empty), 'topic')).toEqual([]);
    expect(empty.entry).toHaveLength(1);
    expect(eventsOf(await events('own-empty'))).toEqual(['1 -', '2 -', '3 -', '4 -']);
    expect(eventsOf(await events('own-empty', { content: ['id-only'] }))).toEqual(['1 CarePlan/cp1', '2 CarePlan/cp2', '3 CarePlan/cp1', '4 CarePlan/cp3']);
  });

  it('refuses full-resource (422), an unknown content code, a number that is not one and an inverted range (400)', async () => {
    const full = await rejection(call('GET', 'Subscription/own-1/$events', UNRESTRICTED, { content: ['full-resource'] }));
    expect(full.status).toBe(422);
    expect(full.issues[0]).toMatchObject({ code: 'not-supported', expression: ['content'] });
    expect(full.issues[0].diagnostics).toContain('full-resource');
    const unknown = await rejection(call('GET', 'Subscription/own-1/$events', UNRESTRICTED, { content: ['everything'] }));
    expect(unknown.status).toBe(400);
    expect(unknown.issues[0].expression).toEqual(['content']);
    const notNumber = await rejection(call('GET', 'Subscription/own-1/$events', UNRESTRICTED, { eventsSinceNumber: ['two'] }));
    expect(notNumber.status).toBe(400);
    expect(notNumber.issues[0].expression).toEqual(['eventsSinceNumber']);
    const inverted = await rejection(call('GET', 'Subscription/own-1/$events', UNRESTRICTED, { eventsSinceNumber: ['3'], eventsUntilNumber: ['2'] }));
    expect(inverted.status).toBe(400);
    expect(inverted.issues[0].expression).toEqual(['eventsSinceNumber', 'eventsUntilNumber']);
    const misspelt = await rejection(call('GET', 'Subscription/own-1/$events', UNRESTRICTED, { eventsSince: ['3'] }));
    expect(misspelt.status).toBe(400);
    expect(misspelt.issues[0].expression).toEqual(['eventsSince']);
  });

  it('the owner reads its Subscription events; anyone else gets a 404, as for a read; only Subscriptions have $events', async () => {
    expect(eventsOf(await events('a-1', {}, emrA.caller))).toEqual(['1 CarePlan/cp1', '2 CarePlan/cp2', '3 CarePlan/cp1', '4 CarePlan/cp3']);
    expect((await rejection(call('GET', 'Subscription/a-1/$events', emrB.caller))).status).toBe(404);
    expect((await rejection(call('GET', 'Subscription/nowhere/$events', UNRESTRICTED))).status).toBe(404);
    expect((await rejection(call('GET', 'CarePlan/cp1/$events', UNRESTRICTED))).status).toBe(404);
  });

  it('the AuditEvent of an id-only answer names the foci it disclosed and their patient; an empty one names none', async () => {
    const before = (await storedEvents(server.db)).length;
    await events('own-1', { eventsSinceNumber: ['2'], eventsUntilNumber: ['3'] });
    const [named] = (await eventsSince(server.db, before)).filter((event) => subtypeOf(event) === 'operation');
    expect(whats(named, '1')).toEqual(['Patient/p1']);
    expect(whats(named, '4').map((what) => what.replace(/\/_history\/\d+$/, ''))).toEqual(['CarePlan/cp1', 'CarePlan/cp2']);
    const middle = (await storedEvents(server.db)).length;
    await events('own-1', { content: ['empty'] });
    const [unnamed] = (await eventsSince(server.db, middle)).filter((event) => subtypeOf(event) === 'operation');
    expect(whats(unnamed, '1')).toEqual([]);
    expect(whats(unnamed, '4').filter((what) => what.startsWith('CarePlan/'))).toEqual([]);
  });

  it('without the access decision the operation is refused, never answered unfiltered', async () => {
    const context = { ...server.context, subscriptionAccess: undefined };
    const refused = await rejection(call('GET', 'Subscription/own-1/$events', UNRESTRICTED, {}, undefined, context));
    expect(refused.status).toBe(501);
  });

  it('over HTTP: GET with the bounds in the URL, POST with a Parameters body', async () => {
    const got = await request(server.app).get('/fhir/Subscription/own-1/$events?eventsSinceNumber=3&content=id-only');
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ resourceType: 'Bundle', type: 'history' });
    const numbers = (bundle: Bundle) => parameter(statusOf(bundle), 'notification-event').map((e) => e.part![0].valueString);
    expect(numbers(got.body as Bundle)).toEqual(['3', '4']);
    const body: Parameters = { resourceType: 'Parameters', parameter: [{ name: 'eventsSinceNumber', valueString: '1' }, { name: 'eventsUntilNumber', valueString: '2' }, { name: 'content', valueCode: 'empty' }] };
    const posted = await request(server.app).post('/fhir/Subscription/own-1/$events').set('Content-Type', 'application/fhir+json').send(JSON.stringify(body));
    expect(posted.status).toBe(200);
    expect(numbers(posted.body as Bundle)).toEqual(['1', '2']);
    const refused = await request(server.app).get('/fhir/Subscription/own-1/$events?content=full-resource');
    expect(refused.status).toBe(422);
    expect(refused.body.resourceType).toBe('OperationOutcome');
  });

  // Last: these take access away.
  it('events whose focus the owner may no longer read are left out; the count still says how many were numbered', async () => {
    expect((await call('DELETE', 'CarePlan/cp2', UNRESTRICTED)).status).toBeLessThan(300);
    const bundle = await events('own-1');
    expect(eventsOf(bundle)).toEqual(['1 CarePlan/cp1', '3 CarePlan/cp1', '4 CarePlan/cp3']);
    expect(parameter(statusOf(bundle), 'events-since-subscription-start')[0].valueString).toBe('4');
    expect(bundle.entry!.map((entry) => entry.fullUrl).slice(1)).toEqual([`${BASE}/CarePlan/cp1`, `${BASE}/CarePlan/cp3`]);
  });

  it('a subscriber client that was deactivated sees none of its events', async () => {
    expect(eventsOf(await events('a-1', {}, emrA.caller))).toEqual(['1 CarePlan/cp1', '3 CarePlan/cp1', '4 CarePlan/cp3']);
    await new ClientStore(server.db).save(backend('emr-a', false));
    const bundle = await events('a-1', {}, emrA.caller);
    expect(eventsOf(bundle)).toEqual([]);
    expect(parameter(statusOf(bundle), 'events-since-subscription-start')[0].valueString).toBe('4');
  });
});
