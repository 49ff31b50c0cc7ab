import type { DeliveryAttempt } from '../../server/delivery/attempt.js';
import { ACCESS_ENDED } from '../../server/delivery/deliver.js';
import { type DeliveryEngine, type DeliveryEngineOptions, createDeliveryEngine } from '../../server/delivery/engine.js';
import type { Database } from '../../server/store/database.js';
import { openPostgres } from '../../server/store/postgres.js';
import { eventsFor, fanOut, putSubscription, recordTopicEvent, setSubscriptionStatus, statusOf } from '../../server/store/subscription-outbox.js';
import { type AccessCheck, type SubscriptionSpec, TOPIC_BASE, type TopicEvent } from '../../server/subscriptions/model.js';
import { BACKENDS, reportBackends, type TestDatabase } from '../support/backends.js';
import { TestReceiver, testNotificationBundle, testRestHook, waitFor } from '../support/notification-receiver.js';

reportBackends();

let topics = 0;
/** A topic of each test's own: the subscriptions of one test hear nothing of another's events. */
const newTopic = () => `${TOPIC_BASE}/ccp-changed-engine-${++topics}`;

function spec(id: string, topic: string, endpoint: string, overrides: Partial<SubscriptionSpec> = {}): SubscriptionSpec {
  return {
    id,
    topic,
    filters: [],
    channel: 'rest-hook',
    endpoint,
    headers: [],
    payload: 'id-only',
    timeoutSeconds: 2,
    maxCount: 1,
    owner: { clientId: `client-${id}`, scopes: ['system/CarePlan.rs'] },
    ...overrides,
  };
}

function event(topic: string, plan: string): TopicEvent {
  return { topic, focus: { type: 'CarePlan', id: plan }, patient: 'p1', trigger: 'update', occurredAt: new Date().toISOString() };
}

/** The tests' access decision: everything, except the pairs of client and focus in `refused`. */
const refused = new Set<string>();
const access: AccessCheck = async (owner, focus) => !refused.has(`${owner.clientId} ${focus.type}/${focus.id}`);
/** The tests' filter rule: no filters, every event of the topic. */
const matchAll = (subscription: SubscriptionSpec) => subscription.filters.length === 0;

describe.each(BACKENDS)('the delivery engine on $name', (backend) => {
  let database: TestDatabase;
  let db: Database;
  let receiver: TestReceiver;
  const engines: DeliveryEngine[] = [];
  let attempts: DeliveryAttempt[] = [];

  beforeAll(async () => {
    database = await backend.open();
    db = database.db;
    receiver = await TestReceiver.start();
  });
  afterEach(async () => {
    await Promise.all(engines.splice(0).map((engine) => engine.stop()));
  });
  afterAll(async () => {
    await receiver?.down();
    await database?.close();
  });

  /** An engine with short intervals, started; stopped after the test. */
  const engine = (options: Partial<DeliveryEngineOptions> = {}, on: Database = db) => {
    const created = createDeliveryEngine(on, {
      channels: { 'rest-hook': testRestHook },
      build: testNotificationBundle,
      match: matchAll,
      access,
      onAttempt: (attempt) => void attempts.push(attempt),
      pollSeconds: 0.2,
      retry: { baseMs: 50, maxDelayMs: 200, windowMs: 30_000 },
      leaseSeconds: 10,
      ...options,
    });
    engines.push(created);
    created.start();
    return created;
  };
  const record = (topic: string, plan: string) => recordTopicEvent(db, event(topic, plan));
  const numbersAt = (at: TestReceiver, path: string) => at.at(path).filter((r) => r.type === 'event-notification').flatMap((r) => r.eventNumbers);
  beforeEach(() => {
    attempts = [];
    refused.clear();
  });

  it('handshake, then events in order woken by NOTIFY, then heartbeats; each attempt reported by ids and numbers only', async () => {
    const topic = newTopic();
    // Polling every 30 s: what arrives within the test came through LISTEN/NOTIFY.
    engine({ pollSeconds: 30 });
    await putSubscription(db, spec('hello', topic, receiver.url('hello'), { heartbeatSeconds: 0.3 }), 'requested');
    await waitFor('the handshake', async () => (await statusOf(db, 'hello'))?.status === 'active');
    expect(receiver.at('hello')[0]).toMatchObject({ type: 'handshake', subscription: 'hello', eventNumbers: [] });

    for (const plan of ['n1', 'n2', 'n3']) await record(topic, plan);
    await waitFor('three events', () => numbersAt(receiver, 'hello').length === 3, 3000);
    expect(numbersAt(receiver, 'hello')).toEqual([1, 2, 3]);
    await waitFor('a heartbeat', () => receiver.at('hello').some((r) => r.type === 'heartbeat'), 3000);
    await setSubscriptionStatus(db, 'hello', 'off');

    const delivered = attempts.filter((a) => a.subscriptionId === 'hello' && a.outcome === 'delivered');
    expect(delivered[0]).toMatchObject({ type: 'handshake', eventNumbers: [], focus: [] });
    // A heartbeat may fall between them on a slow machine: it carries nothing.
    expect(delivered.filter((a) => a.type !== 'heartbeat').map((a) => [a.type, a.eventNumbers, a.focus.map((f) => f.id)])).toEqual([
      ['handshake', [], []],
      ['event-notification', [1], ['n1']],
      ['event-notification', [2], ['n2']],
      ['event-notification', [3], ['n3']],
    ]);
    for (const heartbeat of delivered.filter((a) => a.type === 'heartbeat')) expect([heartbeat.eventNumbers, heartbeat.focus]).toEqual([[], []]);
    for (const attempt of attempts) {
      expect(Object.keys(attempt).sort()).toEqual(
        expect.arrayContaining(['attempt', 'channel', 'eventNumbers', 'focus', 'outcome', 'subscriptionId', 'type']),
      );
      // The owner is who the disclosure went to (ids and scopes), which the audit trail names.
      expect(Object.keys(attempt).every((key) => ['attempt', 'channel', 'eventNumbers', 'focus', 'outcome', 'owner', 'subscriptionId', 'type', 'reason', 'retryAt', 'gaveUp'].includes(key))).toBe(true);
    }
  });

  it('two engines deliver each notification once, in order per subscription', async () => {
    const topic = newTopic();
    // Two processes on PostgreSQL: two pools on one schema; PGlite is one process, so two engines on its one handle.
    const second = backend.name === 'postgres' ? openPostgres(database.url!) : db;
    try {
      const ids = ['twin-a', 'twin-b', 'twin-c', 'twin-d'];
      for (const [i, id] of ids.entries()) await putSubscription(db, spec(id, topic, receiver.url(`twin-${i % 2}`)), 'active');
      engine();
      engine({}, second);
      for (let i = 1; i <= 10; i++) await record(topic, `t${i}`);
      const received = () => receiver.received.filter((r) => ids.includes(r.subscription));
      await waitFor('40 notifications', () => received().length >= 40, 30_000);
      // Anything sent twice would arrive meanwhile.
      await Promise.all(engines.map((e) => e.idle()));
      await new Promise((resolve) => setTimeout(resolve, 300));
      for (const id of ids) {
        expect(received().filter((r) => r.subscription === id).flatMap((r) => r.eventNumbers)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      }
      expect(received()).toHaveLength(40);
    } finally {
      await Promise.all(engines.splice(0).map((e) => e.stop()));
      if (second !== db) await second.close();
    }
  });

  it('a receiver that was down gets everything, in order and once, when it comes back', async () => {
    const topic = newTopic();
    const away = await TestReceiver.start();
    try {
      await away.down();
      await putSubscription(db, spec('comes-back', topic, away.url('back')), 'active');
      engine();
      for (const plan of ['b1', 'b2', 'b3', 'b4']) await record(topic, plan);
      await waitFor('failed attempts', () => attempts.filter((a) => a.subscriptionId === 'comes-back' && a.outcome === 'failed').length >= 3);
      expect(attempts.find((a) => a.subscriptionId === 'comes-back' && a.outcome === 'failed')).toMatchObject({ eventNumbers: [1], reason: expect.stringMatching(/^unreachable/) });
      expect(attempts.some((a) => a.subscriptionId === 'comes-back' && a.outcome === 'failed' && a.eventNumbers[0] !== 1)).toBe(false);
      await away.up();
      await waitFor('four events', () => numbersAt(away, 'back').length >= 4, 5000);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(numbersAt(away, 'back')).toEqual([1, 2, 3, 4]);
      expect((await statusOf(db, 'comes-back'))?.status).toBe('active');
    } finally {
      await away.down();
    }
  });

  it('one that never comes back ends in error while another endpoint\'s notifications go through meanwhile', async () => {
    const topic = newTopic();
    const dead = `http://127.0.0.1:${await TestReceiver.freePort()}/dead`;
    await putSubscription(db, spec('dead', topic, dead), 'active');
    await putSubscription(db, spec('alive', topic, receiver.url('alive')), 'active');
    engine({ retry: { baseMs: 50, maxDelayMs: 100, windowMs: 1500 } });
    const started = Date.now();
    for (const plan of ['d1', 'd2', 'd3']) await record(topic, plan);
    await waitFor('the alive endpoint', () => numbersAt(receiver, 'alive').length === 3, 3000);
    const aliveDone = Date.now();
    await waitFor('the dead subscription in error', async () => (await statusOf(db, 'dead'))?.status === 'error', 5000);
    const status = await statusOf(db, 'dead');
    // The alive one was served while the dead one was still being retried, not after it gave up.
    expect(aliveDone).toBeLessThan(Date.parse(status!.errorSince!));
    expect(Date.parse(status!.errorSince!) - started).toBeGreaterThanOrEqual(1500);
    expect(numbersAt(receiver, 'alive')).toEqual([1, 2, 3]);
    expect(status?.error).toMatch(/^unreachable/);
    const deadAttempts = attempts.filter((a) => a.subscriptionId === 'dead');
    expect(deadAttempts.at(-1)).toMatchObject({ outcome: 'failed', gaveUp: true, eventNumbers: [1] });
    expect(deadAttempts.length).toBeGreaterThan(2);
    // Its events stay for $events.
    expect((await eventsFor(db, 'dead')).map((e) => e.focus.id)).toEqual(['d1', 'd2', 'd3']);
  });

  it('an event recorded while no engine runs is delivered once one starts', async () => {
    const topic = newTopic();
    await putSubscription(db, spec('durable', topic, receiver.url('durable')), 'active');
    await record(topic, 'while-down');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(receiver.at('durable')).toEqual([]);
    // Neither listening nor polling soon: the first round at start sends it.
    engine({ listen: false, pollSeconds: 30 });
    await waitFor('the event', () => numbersAt(receiver, 'durable').length === 1, 3000);
    expect(numbersAt(receiver, 'durable')).toEqual([1]);
  });

  it('an event whose access ended between fan-out and delivery is dropped, never sent, reported, and leaves no gap in the numbers', async () => {
    const topic = newTopic();
    await putSubscription(db, spec('revoked', topic, receiver.url('revoked'), { maxCount: 5 }), 'active');
    await record(topic, 'r-secret');
    await record(topic, 'r-open');
    await fanOut(db, { match: matchAll, access });
    expect((await eventsFor(db, 'revoked')).map((e) => e.eventNumber)).toEqual([1, 2]);
    refused.add('client-revoked CarePlan/r-secret');
    const running = engine();
    await waitFor('the open event', () => numbersAt(receiver, 'revoked').length > 0, 3000);
    await running.idle();
    // The open event takes the number the withdrawn one had: the subscriber sees 1, and no sign of another event.
    expect(numbersAt(receiver, 'revoked')).toEqual([1]);
    expect(attempts.filter((a) => a.subscriptionId === 'revoked').map((a) => [a.outcome, a.eventNumbers, a.focus.map((f) => f.id), a.reason])).toEqual([
      ['dropped', [], ['r-secret'], ACCESS_ENDED],
      ['delivered', [1], ['r-open'], undefined],
    ]);
    // $events lists only what was numbered for it, and the count says one.
    expect((await eventsFor(db, 'revoked')).map((e) => [e.eventNumber, e.focus.id])).toEqual([[1, 'r-open']]);
    expect((await statusOf(db, 'revoked'))?.eventsSinceSubscriptionStart).toBe(1);
    await record(topic, 'r-later');
    await waitFor('the next event', () => numbersAt(receiver, 'revoked').length > 1, 3000);
    expect(numbersAt(receiver, 'revoked')).toEqual([1, 2]);
  });

  it('stop waits for the send in flight, which is settled', async () => {
    const topic = newTopic();
    const slow = await TestReceiver.start();
    slow.delayMs = 300;
    try {
      await putSubscription(db, spec('slow', topic, slow.url('slow')), 'active');
      const running = engine();
      await record(topic, 'slow1');
      await waitFor('the send to begin', () => slow.pending > 0, 3000);
      await running.stop();
      expect(slow.received).toHaveLength(1);
      const [row] = await db.query<{ outcome: string }>(`SELECT outcome FROM subscription_notification WHERE subscription_id = 'slow'`);
      expect(row.outcome).toBe('delivered');
    } finally {
      await slow.down();
    }
  });
});
