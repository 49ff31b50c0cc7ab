import {
  claimDue,
  endExpired,
  eventsFor,
  fanOut,
  giveUp,
  markDelivered,
  markFailed,
  purgeSettled,
  putSubscription,
  queueHeartbeats,
  recordTopicEvent,
  removeSubscription,
  setSubscriptionStatus,
  statusOf,
} from '../../server/store/subscription-outbox.js';
import type { ClaimedDelivery } from '../../server/store/subscription-queue.js';
import { type AccessCheck, type SubscriptionSpec, TOPIC_BASE, type TopicEvent } from '../../server/subscriptions/model.js';
import { BACKENDS, reportBackends, type TestDatabase } from '../support/backends.js';

reportBackends();

let topics = 0;
/** A topic of each test's own, so that the events of one test are nobody else's business. */
const newTopic = () => `${TOPIC_BASE}/ccp-changed-${++topics}`;

function spec(id: string, topic: string, overrides: Partial<SubscriptionSpec> = {}): SubscriptionSpec {
  return {
    id,
    topic,
    filters: [],
    channel: 'rest-hook',
    endpoint: `https://receiver.example/${id}`,
    headers: [],
    payload: 'id-only',
    timeoutSeconds: 5,
    maxCount: 1,
    owner: { clientId: `client-${id}`, scopes: ['system/CarePlan.rs'] },
    ...overrides,
  };
}

function event(topic: string, plan: string, patient = 'p1'): TopicEvent {
  return { topic, focus: { type: 'CarePlan', id: plan }, patient, trigger: 'update', occurredAt: new Date().toISOString() };
}

/** The tests' filter rule: every `patient` filter names the event's patient; no other filter name is known. */
const matchPatient = (subscription: SubscriptionSpec, topicEvent: TopicEvent) =>
  subscription.filters.every((filter) => filter.name === 'patient' && filter.value === topicEvent.patient);

/** The tests' access decision: everything, except the pairs of client and focus in `refused`. */
const refused = new Set<string>();
const access: AccessCheck = async (owner, focus) => !refused.has(`${owner.clientId} ${focus.type}/${focus.id}`);

const numbered = async (db: TestDatabase['db'], id: string) => (await eventsFor(db, id)).map((e) => [e.eventNumber, e.focus.id]);

describe.each(BACKENDS)('the notification outbox (migration 013) on $name', (backend) => {
  let database: TestDatabase;
  let db: TestDatabase['db'];
  beforeAll(async () => {
    database = await backend.open();
    db = database.db;
  });
  afterAll(async () => database?.close());
  beforeEach(() => refused.clear());

  const fanOutAll = async (limit = 100) => {
    let total = 0;
    for (let more = true; more; ) {
      const result = await fanOut(db, { match: matchPatient, access, limit });
      total += result.events;
      more = result.more;
    }
    return total;
  };
  const record = (topic: string, plan: string, patient?: string) => recordTopicEvent(db, event(topic, plan, patient));

  it('a rolled-back transaction leaves no event; a committed one is fanned out', async () => {
    const topic = newTopic();
    await putSubscription(db, spec('rb', topic), 'active');
    await expect(
      db.transaction(async (tx) => {
        await recordTopicEvent(tx, event(topic, 'rolled-back'));
        throw new Error('the change fails after its event was recorded');
      }),
    ).rejects.toThrow('the change fails');
    await record(topic, 'committed');
    const [{ n }] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM subscription_event WHERE topic = $1', [topic]);
    expect(n).toBe(1);
    await fanOutAll();
    expect(await numbered(db, 'rb')).toEqual([[1, 'committed']]);
  });

  it('numbers events in outbox order, 1, 2, 3 … with no gap, across fan-out batches', async () => {
    const topic = newTopic();
    await putSubscription(db, spec('order', topic), 'active');
    for (const plan of ['a', 'b', 'c', 'd', 'e']) await record(topic, plan);
    await fanOutAll(2);
    expect(await numbered(db, 'order')).toEqual([[1, 'a'], [2, 'b'], [3, 'c'], [4, 'd'], [5, 'e']]);
    expect((await statusOf(db, 'order'))?.eventsSinceSubscriptionStart).toBe(5);
    expect((await eventsFor(db, 'order', 2, 4)).map((e) => e.eventNumber)).toEqual([2, 3, 4]);
    expect((await eventsFor(db, 'order', 4)).map((e) => e.eventNumber)).toEqual([4, 5]);
    // Fanned out once: another pass numbers nothing again.
    expect(await fanOutAll()).toBe(0);
    expect((await statusOf(db, 'order'))?.eventsSinceSubscriptionStart).toBe(5);
  });

  it('an event the subscriber may not see gets no number from it, so its numbers have no gap', async () => {
    const topic = newTopic();
    await putSubscription(db, spec('sees-all', topic), 'active');
    await putSubscription(db, spec('refused', topic), 'active');
    refused.add('client-refused CarePlan/hidden');
    for (const plan of ['first', 'hidden', 'third']) await record(topic, plan);
    await fanOutAll();
    expect(await numbered(db, 'sees-all')).toEqual([[1, 'first'], [2, 'hidden'], [3, 'third']]);
    expect(await numbered(db, 'refused')).toEqual([[1, 'first'], [2, 'third']]);
  });

  it('a subscription hears only the events its filters match', async () => {
    const topic = newTopic();
    await putSubscription(db, spec('p1-only', topic, { filters: [{ name: 'patient', value: 'p1' }] }), 'active');
    await putSubscription(db, spec('unfiltered', topic), 'active');
    await record(topic, 'x', 'p1');
    await record(topic, 'y', 'p2');
    await record(topic, 'z', 'p1');
    await fanOutAll();
    expect(await numbered(db, 'p1-only')).toEqual([[1, 'x'], [2, 'z']]);
    expect(await numbered(db, 'unfiltered')).toEqual([[1, 'x'], [2, 'y'], [3, 'z']]);
  });

  it('a subscription hears of events recorded after it was created, while it is active, until its end', async () => {
    const topic = newTopic();
    await record(topic, 'before');
    await putSubscription(db, spec('late', topic), 'active');
    await putSubscription(db, spec('waiting', topic), 'requested');
    await putSubscription(db, spec('ended', topic, { end: new Date(Date.now() - 1000).toISOString() }), 'active');
    await record(topic, 'after');
    await fanOutAll();
    expect(await numbered(db, 'late')).toEqual([[1, 'after']]);
    // Its handshake has not been answered: nothing is numbered for it yet.
    expect(await numbered(db, 'waiting')).toEqual([]);
    expect(await numbered(db, 'ended')).toEqual([]);
    expect(await endExpired(db)).toContain('ended');
    expect((await statusOf(db, 'ended'))?.status).toBe('off');
  });

  it('a claim gives each endpoint one notification in flight and each subscription its lowest number, in order', async () => {
    const topic = newTopic();
    const shared = 'https://shared.example/hook';
    const ids = ['e1-a', 'e1-b', 'e2'];
    await putSubscription(db, spec('e1-a', topic, { endpoint: shared }), 'active');
    await putSubscription(db, spec('e1-b', topic, { endpoint: shared }), 'active');
    await putSubscription(db, spec('e2', topic), 'active');
    for (const plan of ['one', 'two', 'three']) await record(topic, plan);
    await fanOutAll();

    const claim = () => claimDue(db, { holder: 'me', leaseSeconds: 60, limit: 10, subscriptionIds: ids });
    const first = await claim();
    expect(first.map((c) => c.subscription.endpoint).sort()).toEqual(['https://receiver.example/e2', shared]);
    for (const delivery of first) expect(delivery.notifications.map((n) => n.eventNumber)).toEqual([1]);
    // Both endpoints have one in flight: nothing more until one is settled.
    expect(await claim()).toEqual([]);

    const sent = new Map<string, number[]>(ids.map((id) => [id, []]));
    let inFlight: ClaimedDelivery[] = first;
    for (let round = 0; inFlight.length && round < 20; round++) {
      const endpoints = inFlight.map((c) => c.subscription.endpoint);
      expect(new Set(endpoints).size).toBe(endpoints.length);
      for (const delivery of inFlight) {
        const numbers = delivery.notifications.map((n) => n.eventNumber!);
        const before = sent.get(delivery.subscription.id)!;
        expect(numbers).toEqual([before.length + 1]);
        before.push(...numbers);
        expect(await markDelivered(db, delivery.notifications.map((n) => n.id))).toBe(1);
      }
      inFlight = await claim();
    }
    expect(Object.fromEntries(sent)).toEqual({ 'e1-a': [1, 2, 3], 'e1-b': [1, 2, 3], e2: [1, 2, 3] });
  });

  it('sends the next events together, in order, up to the subscription\'s maxCount', async () => {
    const topic = newTopic();
    await putSubscription(db, spec('batch', topic, { maxCount: 3 }), 'active');
    for (const plan of ['1', '2', '3', '4', '5']) await record(topic, plan);
    await fanOutAll();
    const claim = () => claimDue(db, { holder: 'me', leaseSeconds: 60, limit: 10, subscriptionIds: ['batch'] });
    const [first] = await claim();
    expect(first.notifications.map((n) => [n.eventNumber, n.focus?.id])).toEqual([[1, '1'], [2, '2'], [3, '3']]);
    expect(first.eventsNumbered).toBe(5);
    expect(await markDelivered(db, first.notifications.map((n) => n.id))).toBe(3);
    const [second] = await claim();
    expect(second.notifications.map((n) => n.eventNumber)).toEqual([4, 5]);
  });

  it('a failed notification waits for its retry time and stays first; the later numbers wait behind it', async () => {
    const topic = newTopic();
    await putSubscription(db, spec('retry', topic), 'active');
    await record(topic, 'r1');
    await record(topic, 'r2');
    await fanOutAll();
    const claim = () => claimDue(db, { holder: 'me', leaseSeconds: 60, limit: 10, subscriptionIds: ['retry'] });
    const [first] = await claim();
    expect(first.attempts).toBe(1);
    expect(first.failingSince).toBeUndefined();
    await markFailed(db, { ids: [first.notifications[0].id], holder: 'me', reason: 'HTTP 503', retryAt: new Date(Date.now() + 400) });
    // Number 2 is due but number 1 is first.
    expect(await claim()).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 450));
    const [again] = await claim();
    expect(again.notifications.map((n) => [n.id, n.eventNumber])).toEqual([[first.notifications[0].id, 1]]);
    expect(again.attempts).toBe(2);
    expect(again.failingSince).toBeInstanceOf(Date);
  });

  it('an expired lease (its process died) is taken over, and the late holder cannot release it', async () => {
    const topic = newTopic();
    await putSubscription(db, spec('lease', topic), 'active');
    await record(topic, 'leased');
    await fanOutAll();
    const [held] = await claimDue(db, { holder: 'dead', leaseSeconds: 0.8, limit: 10, subscriptionIds: ['lease'] });
    expect(await claimDue(db, { holder: 'alive', leaseSeconds: 60, limit: 10, subscriptionIds: ['lease'] })).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 850));
    const [taken] = await claimDue(db, { holder: 'alive', leaseSeconds: 60, limit: 10, subscriptionIds: ['lease'] });
    expect(taken.notifications[0].id).toBe(held.notifications[0].id);
    expect(taken.attempts).toBe(2);
    await markFailed(db, { ids: [held.notifications[0].id], holder: 'dead', reason: 'late', retryAt: new Date(Date.now() + 60_000) });
    const [row] = await db.query<{ lease_holder: string; last_failure: string | null }>(
      'SELECT lease_holder, last_failure FROM subscription_notification WHERE id = $1::bigint',
      [taken.notifications[0].id],
    );
    expect(row).toEqual({ lease_holder: 'alive', last_failure: null });
  });

  it('a requested subscription is sent its handshake first, becomes active once it is delivered, then gets heartbeats', async () => {
    const topic = newTopic();
    await putSubscription(db, spec('hello', topic, { heartbeatSeconds: 0.5 }), 'requested');
    expect((await statusOf(db, 'hello'))?.status).toBe('requested');
    const claim = () => claimDue(db, { holder: 'me', leaseSeconds: 60, limit: 10, subscriptionIds: ['hello'] });
    const [handshake] = await claim();
    expect([handshake.kind, handshake.status, handshake.notifications[0].eventNumber]).toEqual(['handshake', 'requested', undefined]);
    // Asked again while it waits: still one handshake.
    await setSubscriptionStatus(db, 'hello', 'requested');
    await markDelivered(db, handshake.notifications.map((n) => n.id));
    expect((await statusOf(db, 'hello'))?.status).toBe('active');
    expect(await claim()).toEqual([]);

    expect(await queueHeartbeats(db)).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 550));
    await queueHeartbeats(db);
    const [heartbeat] = await claim();
    expect(heartbeat.kind).toBe('heartbeat');
    // Not a second one while it waits.
    await new Promise((resolve) => setTimeout(resolve, 550));
    await queueHeartbeats(db);
    const [{ n }] = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM subscription_notification WHERE subscription_id = 'hello' AND kind = 'heartbeat'`,
    );
    expect(n).toBe(1);
  });

  it('giving up puts the subscription in error, abandons what waited, keeps its events for $events and numbers no more', async () => {
    const topic = newTopic();
    await putSubscription(db, spec('gives-up', topic), 'active');
    for (const plan of ['g1', 'g2', 'g3']) await record(topic, plan);
    await fanOutAll();
    const [claimed] = await claimDue(db, { holder: 'me', leaseSeconds: 60, limit: 10, subscriptionIds: ['gives-up'] });
    await giveUp(db, { subscriptionId: 'gives-up', ids: claimed.notifications.map((n) => n.id), reason: 'unreachable (ECONNREFUSED)' });
    const status = await statusOf(db, 'gives-up');
    expect(status).toMatchObject({ status: 'error', error: 'unreachable (ECONNREFUSED)', eventsSinceSubscriptionStart: 3 });
    expect(Date.parse(status!.errorSince!)).toBeGreaterThan(Date.now() - 60_000);
    expect(await claimDue(db, { holder: 'me', leaseSeconds: 60, limit: 10, subscriptionIds: ['gives-up'] })).toEqual([]);
    await record(topic, 'g4');
    await fanOutAll();
    expect(await numbered(db, 'gives-up')).toEqual([[1, 'g1'], [2, 'g2'], [3, 'g3']]);

    // Asked for again: a handshake, then new events carry on from 4.
    await setSubscriptionStatus(db, 'gives-up', 'requested');
    expect(await statusOf(db, 'gives-up')).not.toHaveProperty('error');
    const [handshake] = await claimDue(db, { holder: 'me', leaseSeconds: 60, limit: 10, subscriptionIds: ['gives-up'] });
    expect(handshake.kind).toBe('handshake');
    await markDelivered(db, handshake.notifications.map((n) => n.id));
    await record(topic, 'g5');
    await fanOutAll();
    expect((await numbered(db, 'gives-up')).at(-1)).toEqual([4, 'g5']);
  });

  it('the purge forgets settled notifications past the retention, not waiting ones, and numbers are never reused', async () => {
    const topic = newTopic();
    await putSubscription(db, spec('purged', topic, { maxCount: 10 }), 'active');
    for (const plan of ['old1', 'old2']) await record(topic, plan);
    await fanOutAll();
    const [claimed] = await claimDue(db, { holder: 'me', leaseSeconds: 60, limit: 10, subscriptionIds: ['purged'] });
    await markDelivered(db, claimed.notifications.map((n) => n.id));
    await record(topic, 'waiting');
    await fanOutAll();
    // A day's retention keeps them all.
    await purgeSettled(db, 86_400);
    expect((await eventsFor(db, 'purged')).map((e) => e.eventNumber)).toEqual([1, 2, 3]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const purged = await purgeSettled(db, 0.01);
    expect(purged.notifications).toBeGreaterThanOrEqual(2);
    expect((await eventsFor(db, 'purged')).map((e) => e.eventNumber)).toEqual([3]);
    await record(topic, 'new');
    await fanOutAll();
    expect((await eventsFor(db, 'purged')).map((e) => e.eventNumber)).toEqual([3, 4]);
  });

  it('removing a subscription removes its queue and events', async () => {
    const topic = newTopic();
    await putSubscription(db, spec('removed', topic), 'active');
    await record(topic, 'gone');
    await fanOutAll();
    expect(await removeSubscription(db, 'removed')).toBe(true);
    expect(await statusOf(db, 'removed')).toBeUndefined();
    expect(await eventsFor(db, 'removed')).toEqual([]);
    expect(await setSubscriptionStatus(db, 'removed', 'active')).toBe(false);
  });
});
