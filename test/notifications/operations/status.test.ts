import type { Bundle, Parameters, ParametersParameter, Resource } from 'fhir/r4';
import request from 'supertest';
import { type Caller, UNRESTRICTED } from '../../../server/access/caller.js';
import { handleFhirRequest } from '../../../server/pipeline/fhir-request.js';
import type { FhirResponse } from '../../../server/rest/types.js';
import { setSubscriptionStatus } from '../../../server/store/subscription-outbox.js';
import { BACKENDS, reportBackends } from '../../support/backends.js';
import { openTestServer, schemaValidator, type TestServer } from '../../support/fhir-app.js';
import { CCP_CHANGED, IG, numberEvents, storeSubscription, subscriberClient } from '../../support/subscriptions.js';
import { rejection } from '../../support/thrown.js';

reportBackends();

const BASE = 'https://ccp.example.org/fhir';
const STATUS_PROFILE = `${IG}/StructureDefinition/backport-subscription-status-r4`;

const emrA = subscriberClient('emr-a');
const emrB = subscriberClient('emr-b');
const SERVER_OWNER = { kind: 'server' as const, scopes: [] };

const plan = (id: string): Resource => ({ resourceType: 'CarePlan', id, status: 'active', intent: 'plan', subject: { reference: 'Patient/p1' } }) as Resource;

/** The status Parameters of a $status answer, by the Subscription each reports on. */
function statuses(bundle: Bundle): Map<string, Parameters> {
  return new Map(
    (bundle.entry ?? []).map((entry) => {
      const parameters = entry.resource as Parameters;
      const reference = parameters.parameter!.find((p) => p.name === 'subscription')!.valueReference!.reference!;
      return [reference.slice(`${BASE}/Subscription/`.length), parameters];
    }),
  );
}

const value = (parameters: Parameters, name: string): ParametersParameter | undefined => parameters.parameter!.find((p) => p.name === name);

describe.each(BACKENDS)('$status on $name', (backend) => {
  let server: TestServer;
  const call = (method: string, path: string, caller: Caller, query: Record<string, string[]> = {}, body?: unknown): Promise<FhirResponse> =>
    handleFhirRequest({ method, path, query, headers: {}, baseUrl: BASE, caller, body }, server.context);
  const bundleOf = async (response: Promise<FhirResponse>): Promise<Bundle> => (await response).body as Bundle;

  beforeAll(async () => {
    server = await openTestServer(backend);
    for (const resource of [{ resourceType: 'Patient', id: 'p1' } as Resource, plan('cp1'), plan('cp2')]) {
      expect((await call('PUT', `${resource.resourceType}/${resource.id}`, UNRESTRICTED, {}, resource)).status).toBe(201);
    }
    await storeSubscription(server.context, { id: 'a-1', owner: emrA.owner });
    await storeSubscription(server.context, { id: 'a-2', owner: emrA.owner, payload: 'empty' });
    await storeSubscription(server.context, { id: 'b-1', owner: emrB.owner });
    await storeSubscription(server.context, { id: 'own-1', owner: SERVER_OWNER });
    await storeSubscription(server.context, { id: 'own-2', owner: SERVER_OWNER, status: 'requested' });
    expect(await setSubscriptionStatus(server.db, 'a-2', 'error', 'the endpoint answered 410 Gone')).toBe(true);
    await numberEvents(server.db, server.context, [
      { type: 'CarePlan', id: 'cp1' },
      { type: 'CarePlan', id: 'cp2' },
    ]);
  });
  afterAll(async () => server?.close());

  it('type level: a searchset of one query-status Parameters per Subscription the caller owns, in the IG R4 shape', async () => {
    const bundle = await bundleOf(call('GET', 'Subscription/$status', emrA.caller));
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 2 });
    expect(schemaValidator().validate(bundle as never, 'Bundle')).toEqual([]);
    const found = statuses(bundle);
    expect([...found.keys()].sort()).toEqual(['a-1', 'a-2']);
    const active = found.get('a-1')!;
    expect(active.meta?.profile).toEqual([STATUS_PROFILE]);
    expect(active.parameter).toEqual([
      { name: 'subscription', valueReference: { reference: `${BASE}/Subscription/a-1` } },
      { name: 'topic', valueCanonical: CCP_CHANGED },
      { name: 'status', valueCode: 'active' },
      { name: 'type', valueCode: 'query-status' },
      { name: 'events-since-subscription-start', valueString: '0' },
    ]);
    // An `empty` Subscription's status names no topic (the IG: SHOULD NOT); one in error says why.
    const failing = found.get('a-2')!;
    expect(value(failing, 'topic')).toBeUndefined();
    expect(value(failing, 'status')).toEqual({ name: 'status', valueCode: 'error' });
    expect(value(failing, 'error')).toEqual({ name: 'error', valueCodeableConcept: { text: 'the endpoint answered 410 Gone' } });
    for (const entry of bundle.entry!) expect(entry.search).toEqual({ mode: 'match' });
  });

  it('type level: another client is told of its own Subscriptions only', async () => {
    expect([...statuses(await bundleOf(call('GET', 'Subscription/$status', emrB.caller))).keys()]).toEqual(['b-1']);
  });

  it('type level: id narrows to the ids named (repeated or comma-separated), leaving out those the caller does not reach', async () => {
    const named = await bundleOf(call('GET', 'Subscription/$status', emrA.caller, { id: ['a-1', 'b-1', 'nowhere'] }));
    expect([...statuses(named).keys()]).toEqual(['a-1']);
    const listed = await bundleOf(call('GET', 'Subscription/$status', emrA.caller, { id: ['a-1,a-2'] }));
    expect([...statuses(listed).keys()].sort()).toEqual(['a-1', 'a-2']);
    // None reached: an empty searchset, not an error.
    expect(await bundleOf(call('GET', 'Subscription/$status', emrA.caller, { id: ['b-1'] }))).toMatchObject({ type: 'searchset', total: 0 });
    expect((await bundleOf(call('GET', 'Subscription/$status', emrA.caller, { id: ['b-1'] }))).entry).toBeUndefined();
  });

  it('type level: status keeps the Subscriptions in one of the statuses named, as the engine has them', async () => {
    expect([...statuses(await bundleOf(call('GET', 'Subscription/$status', emrA.caller, { status: ['error'] }))).keys()]).toEqual(['a-2']);
    expect([...statuses(await bundleOf(call('GET', 'Subscription/$status', UNRESTRICTED, { status: ['requested', 'error'] }))).keys()].sort()).toEqual(['a-2', 'own-2']);
    const wrong = await rejection(call('GET', 'Subscription/$status', emrA.caller, { status: ['paused'] }));
    expect(wrong.status).toBe(400);
    expect(wrong.issues[0]).toMatchObject({ code: 'invalid', expression: ['status'] });
    expect(wrong.issues[0].diagnostics).toContain('paused');
  });

  it('type level: every page of the search is read (the answer itself is not paged)', async () => {
    const context = { ...server.context, options: { ...server.context.options, maxPageSize: 1 } };
    const response = await handleFhirRequest({ method: 'GET', path: 'Subscription/$status', query: {}, headers: {}, baseUrl: BASE, caller: UNRESTRICTED }, context);
    expect([...statuses(response.body as Bundle).keys()].sort()).toEqual(['a-1', 'a-2', 'b-1', 'own-1', 'own-2']);
  });

  it('the count of events numbered so far is reported, without the events themselves', async () => {
    const own = statuses(await bundleOf(call('GET', 'Subscription/own-1/$status', UNRESTRICTED))).get('own-1')!;
    expect(value(own, 'events-since-subscription-start')).toEqual({ name: 'events-since-subscription-start', valueString: '2' });
    expect(value(own, 'notification-event')).toBeUndefined();
    // A Subscription still waiting for its handshake was not there to be told.
    const waiting = statuses(await bundleOf(call('GET', 'Subscription/own-2/$status', UNRESTRICTED))).get('own-2')!;
    expect(value(waiting, 'status')).toEqual({ name: 'status', valueCode: 'requested' });
    expect(value(waiting, 'events-since-subscription-start')).toEqual({ name: 'events-since-subscription-start', valueString: '0' });
  });

  it('instance level: the owner gets its Subscription; anyone else a 404, as for a read (its parameters are ignored)', async () => {
    const own = await bundleOf(call('GET', 'Subscription/a-1/$status', emrA.caller, { status: ['off'] }));
    expect(own).toMatchObject({ type: 'searchset', total: 1 });
    expect([...statuses(own).keys()]).toEqual(['a-1']);
    const other = await rejection(call('GET', 'Subscription/a-1/$status', emrB.caller));
    expect(other.status).toBe(404);
    expect((await rejection(call('GET', 'Subscription/nowhere/$status', UNRESTRICTED))).status).toBe(404);
  });

  it('is defined on Subscription only, and refuses a parameter it does not take', async () => {
    expect((await rejection(call('GET', 'Patient/$status', UNRESTRICTED))).status).toBe(404);
    expect((await rejection(call('GET', 'Patient/p1/$status', UNRESTRICTED))).status).toBe(404);
    const unknown = await rejection(call('GET', 'Subscription/$status', emrA.caller, { ids: ['a-1'] }));
    expect(unknown.status).toBe(400);
    expect(unknown.issues[0].expression).toEqual(['ids']);
  });

  it('over HTTP: GET with ids in the URL, POST with a Parameters body, and an instance', async () => {
    const got = await request(server.app).get('/fhir/Subscription/$status?id=own-1&id=own-2');
    expect(got.status).toBe(200);
    expect(got.headers['content-type']).toMatch(/^application\/fhir\+json/);
    expect((got.body as Bundle).entry!.map((entry) => value(entry.resource as Parameters, 'type')!.valueCode)).toEqual(['query-status', 'query-status']);
    const body: Parameters = { resourceType: 'Parameters', parameter: [{ name: 'id', valueId: 'own-1' }, { name: 'status', valueCode: 'active' }] };
    const posted = await request(server.app).post('/fhir/Subscription/$status').set('Content-Type', 'application/fhir+json').send(JSON.stringify(body));
    expect(posted.status).toBe(200);
    expect((posted.body as Bundle).total).toBe(1);
    const instance = await request(server.app).get('/fhir/Subscription/own-2/$status');
    expect(instance.status).toBe(200);
    expect(value((instance.body as Bundle).entry![0].resource as Parameters, 'subscription')!.valueReference!.reference).toMatch(/\/fhir\/Subscription\/own-2$/);
  });
});
