// Notification latency and throughput with 100 rest-hook subscribers (issue 20), on each database in turn: a fresh
// PostgreSQL schema or PGlite folder (databases.mjs), the built server on it (harness.mjs, core 1) with
// SUBSCRIPTION_ALLOW_LOOPBACK=true and the bootstrap backend client's tokens as the other benches use, and a
// loopback receiver in this process (notification-receiver.mjs, core 0) with one path per subscriber: 100
// endpoints, so 100 queues. The topic is organization-joined, whose events a create of an active Organization
// causes (server/notifications/topic-events.ts): a small validated, audited write, and no filter needed.
//
// - Set-up: SUBSCRIBERS id-only Subscriptions through the REST API; measured once every one's handshake arrived
//   and its resource reads `active`.
// - Latency: LATENCY_EVENTS Organizations created one at a time, the next one INTERVAL ms after the one before or
//   once all of its notifications arrived, whichever is later, so that none waits behind another. For each
//   notification (subscriber × event) two latencies: from the write's response (the client has seen the commit:
//   the response is sent after COMMIT, so this slightly under-counts commit → receipt) and from the event's
//   timestamp in the notification (the version's meta.lastUpdated, stamped before the transaction's statements:
//   slightly over-counts it). Also per event: when its first and its last subscriber had it.
// - Throughput: THROUGHPUT_EVENTS Organizations created by WRITERS concurrent writers as fast as they go; from the
//   first write sent to the last notification received: events/s and event notifications/s (events × subscribers,
//   each event counted once per subscriber however many a POST carried: max-count is the default, 20).
// Every subscriber must get every event once: duplicates, gaps and missing ones are counted and reported.
//
// `npm run bench` runs it among its extra phases (measureNotifications()); by itself (after `npm run build`):
//   node bench/notifications.mjs                        prints the results
//   node bench/notifications.mjs --into <results.json>  stores them as `notifications` in that run's results file
//                                                       and writes docs/PERFORMANCE.md again from it
//   BENCH_NOTIFY_DATABASES  postgres,pglite (default both)
//   BENCH_NOTIFY_SUBSCRIBERS (100)  BENCH_NOTIFY_LATENCY_EVENTS (40)  BENCH_NOTIFY_INTERVAL_MS (500)
//   BENCH_NOTIFY_EVENTS (300, the throughput phase)  BENCH_NOTIFY_WRITERS (4)
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { DATABASES } from './databases.mjs';
import { accessToken, call, log, machine, PIN, root, rssOf, startServer } from './harness.mjs';
import { now, startReceiver, summary } from './notification-receiver.mjs';

const WANTED = (process.env.BENCH_NOTIFY_DATABASES ?? 'postgres,pglite').split(',').map((name) => name.trim()).filter(Boolean);
const SUBSCRIBERS = Number(process.env.BENCH_NOTIFY_SUBSCRIBERS ?? 100);
const LATENCY_EVENTS = Number(process.env.BENCH_NOTIFY_LATENCY_EVENTS ?? 40);
const INTERVAL_MS = Number(process.env.BENCH_NOTIFY_INTERVAL_MS ?? 500);
const THROUGHPUT_EVENTS = Number(process.env.BENCH_NOTIFY_EVENTS ?? 300);
const WRITERS = Number(process.env.BENCH_NOTIFY_WRITERS ?? 4);
const SCOPE = 'system/*.cruds';
/** Given up on when no notification arrives for this long (the run reports what did arrive). */
const STALL_MS = 60_000;

const TOPIC = 'http://ccp-exchange.org/fhir/SubscriptionTopic/organization-joined';
const PAYLOAD_CONTENT = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-payload-content';

const subscription = (endpoint) => ({
  resourceType: 'Subscription',
  status: 'requested',
  reason: 'notifications benchmark',
  criteria: TOPIC,
  channel: {
    type: 'rest-hook',
    endpoint,
    payload: 'application/fhir+json',
    _payload: { extension: [{ url: PAYLOAD_CONTENT, valueCode: 'id-only' }] },
  },
});

/** CPU seconds (user + system) the process `pid` has used so far. */
function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/** The machine's busy and total jiffies so far (all cores), for its busy share over a phase. */
function machineCpu() {
  const [, ...values] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
  const idle = values[3] + values[4];
  const total = values.slice(0, 8).reduce((a, b) => a + b, 0);
  return { idle, total };
}

/** What the server and the machine did between `start()` and `end()`. */
function cpuMeter(pid) {
  const server = cpuSeconds(pid);
  const box = machineCpu();
  const started = now();
  return () => {
    const seconds = (now() - started) / 1000;
    const after = machineCpu();
    const used = cpuSeconds(pid);
    return {
      seconds,
      serverCpuSeconds: used !== undefined && server !== undefined ? used - server : undefined,
      serverCoreShare: used !== undefined && server !== undefined ? (used - server) / seconds : undefined,
      machineBusyShare: 1 - (after.idle - box.idle) / (after.total - box.total),
      loadAverage: os.loadavg()[0],
    };
  };
}

/** Resolves once `done()` holds; rejects when nothing more has arrived (`progress()` unchanged) for STALL_MS. */
function arrival(receiver, done, progress) {
  return new Promise((resolve, reject) => {
    let last = progress();
    let since = now();
    const check = () => {
      if (done()) {
        clearInterval(timer);
        receiver.onReceive = undefined;
        resolve();
        return true;
      }
      return false;
    };
    const timer = setInterval(() => {
      if (check()) return;
      if (progress() !== last) {
        last = progress();
        since = now();
      } else if (now() - since > STALL_MS) {
        clearInterval(timer);
        receiver.onReceive = undefined;
        reject(new Error(`notifications bench: nothing arrived for ${STALL_MS / 1000} s (${progress()} so far)`));
      }
    }, 250);
    receiver.onReceive = check;
    check();
  });
}

/**
 * The event notifications received since `from` (an index into receiver.received), one per subscriber × event,
 * joined to the writes by focus: latencies and the count of duplicates and strays (an event no write caused).
 */
function deliveries(receiver, from, writes) {
  const byFocus = new Map(writes.map((write) => [write.focus, write]));
  const seen = new Set();
  const rows = [];
  let duplicates = 0;
  let strays = 0;
  let posts = 0;
  for (const entry of receiver.received.slice(from)) {
    if (entry.type !== 'event-notification') continue;
    posts++;
    for (const event of entry.events) {
      const write = byFocus.get(event.focus);
      if (!write) {
        strays++;
        continue;
      }
      const key = `${entry.subscriber} ${event.focus}`;
      if (seen.has(key)) {
        duplicates++;
        continue;
      }
      seen.add(key);
      rows.push({ subscriber: entry.subscriber, number: event.number, write, at: entry.at, fromResponse: entry.at - write.respondedAt, fromTimestamp: entry.at - event.timestamp });
    }
  }
  return { rows, duplicates, strays, posts };
}

/** Each subscriber's event numbers must follow one another in arrival order, with no gap. */
function outOfOrder(rows) {
  const last = new Map();
  let count = 0;
  for (const row of [...rows].sort((a, b) => a.at - b.at)) {
    const before = last.get(row.subscriber);
    if (before !== undefined && row.number !== before + 1) count++;
    last.set(row.subscriber, row.number);
  }
  return count;
}

async function createOrganization(base, token, n) {
  const sentAt = now();
  const { body } = await call(base, token, 'POST', '/fhir/Organization', { resourceType: 'Organization', active: true, name: `Notifications benchmark ${n}` }, [201]);
  return { focus: `Organization/${body.id}`, sentAt, respondedAt: now(), lastUpdated: Date.parse(body.meta.lastUpdated) };
}

async function subscribe(server, receiver, token) {
  const started = now();
  const ids = [];
  // Four at a time: the set-up is not what is measured.
  for (let next = 0; next < SUBSCRIBERS; ) {
    const batch = Array.from({ length: Math.min(4, SUBSCRIBERS - next) }, (_, i) => next + i);
    next += batch.length;
    ids.push(...(await Promise.all(batch.map(async (n) => (await call(server.base, token, 'POST', '/fhir/Subscription', subscription(receiver.url(n)), [201])).body.id))));
  }
  const handshaken = () => new Set(receiver.received.filter((entry) => entry.type === 'handshake').map((entry) => entry.subscriber)).size;
  await arrival(receiver, () => handshaken() === SUBSCRIBERS, handshaken);
  const handshakesSeconds = (now() - started) / 1000;
  // Active in the engine once its handshake is delivered; the resource follows just after: wait for every one.
  for (let tries = 0; ; tries++) {
    const { body } = await call(server.base, token, 'GET', `/fhir/Subscription?_count=${SUBSCRIBERS + 10}`, undefined, [200]);
    const active = (body.entry ?? []).filter((entry) => entry.resource?.status === 'active').length;
    if (active === SUBSCRIBERS) break;
    if (tries > 240) throw new Error(`notifications bench: ${active} of ${SUBSCRIBERS} Subscriptions active after their handshakes`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return { subscriptions: ids.length, handshakesSeconds, activeSeconds: (now() - started) / 1000 };
}

/** One event at a time, each fully delivered before the next (and no sooner than INTERVAL ms after it). */
async function latencyPhase(server, receiver) {
  const token = await accessToken(server.base, 'local-admin', server.secret, SCOPE);
  const from = receiver.received.length;
  const writes = [];
  const meter = cpuMeter(server.pid);
  const perEvent = [];
  for (let n = 0; n < LATENCY_EVENTS; n++) {
    const started = now();
    const write = await createOrganization(server.base, token, `latency ${n}`);
    writes.push(write);
    const got = () => receiver.received.slice(from).reduce((sum, entry) => sum + entry.events.filter((event) => event.focus === write.focus).length, 0);
    await arrival(receiver, () => got() >= SUBSCRIBERS, got);
    const wait = INTERVAL_MS - (now() - started);
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
  const cpu = meter();
  const { rows, duplicates, strays, posts } = deliveries(receiver, from, writes);
  for (const write of writes) {
    const times = rows.filter((row) => row.write === write).map((row) => row.at - write.respondedAt);
    perEvent.push({ first: Math.min(...times), last: Math.max(...times) });
  }
  return {
    events: LATENCY_EVENTS,
    intervalMs: INTERVAL_MS,
    expected: LATENCY_EVENTS * SUBSCRIBERS,
    received: rows.length,
    posts,
    duplicates,
    strays,
    outOfOrder: outOfOrder(rows),
    writeMs: summary(writes.map((write) => write.respondedAt - write.sentAt)),
    fromResponseMs: summary(rows.map((row) => row.fromResponse)),
    fromTimestampMs: summary(rows.map((row) => row.fromTimestamp)),
    firstSubscriberMs: summary(perEvent.map((event) => event.first)),
    lastSubscriberMs: summary(perEvent.map((event) => event.last)),
    ...cpu,
  };
}

/** THROUGHPUT_EVENTS events written by WRITERS writers at once, until every subscriber has every one. */
async function throughputPhase(server, receiver) {
  const token = await accessToken(server.base, 'local-admin', server.secret, SCOPE);
  const from = receiver.received.length;
  const writes = [];
  const count = () => receiver.received.slice(from).reduce((sum, entry) => sum + entry.events.length, 0);
  const meter = cpuMeter(server.pid);
  const started = now();
  let next = 0;
  await Promise.all(
    Array.from({ length: WRITERS }, async () => {
      while (next < THROUGHPUT_EVENTS) writes.push(await createOrganization(server.base, token, `throughput ${next++}`));
    }),
  );
  const written = now();
  const expected = THROUGHPUT_EVENTS * SUBSCRIBERS;
  await arrival(receiver, () => count() >= expected, count);
  const cpu = meter();
  const { rows, duplicates, strays, posts } = deliveries(receiver, from, writes);
  const lastAt = Math.max(...rows.map((row) => row.at));
  const seconds = (lastAt - started) / 1000;
  return {
    events: THROUGHPUT_EVENTS,
    writers: WRITERS,
    expected,
    received: rows.length,
    posts,
    eventsPerPost: rows.length / posts,
    duplicates,
    strays,
    outOfOrder: outOfOrder(rows),
    writeSeconds: (written - started) / 1000,
    writesPerSecond: THROUGHPUT_EVENTS / ((written - started) / 1000),
    seconds,
    eventsPerSecond: THROUGHPUT_EVENTS / seconds,
    notificationsPerSecond: rows.length / seconds,
    postsPerSecond: posts / seconds,
    // Under this load, how long a subscriber waited for an event after its write was answered.
    fromResponseMs: summary(rows.map((row) => row.fromResponse)),
    ...cpu,
  };
}

async function benchDatabase(name) {
  const { label, open } = DATABASES[name];
  const database = await open();
  const receiver = await startReceiver();
  let server;
  const result = { name, label };
  try {
    server = await startServer({ ...database.env, SUBSCRIPTION_ALLOW_LOOPBACK: 'true' });
    const token = await accessToken(server.base, 'local-admin', server.secret, SCOPE);
    result.setup = await subscribe(server, receiver, token);
    log(`notifications ${label}: ${SUBSCRIBERS} subscriptions, handshakes in ${result.setup.handshakesSeconds.toFixed(1)} s, all active in ${result.setup.activeSeconds.toFixed(1)} s`);
    // A few events unrecorded first: the server's first writes and sends warm it up.
    await warmUp(server, receiver);
    result.latency = await latencyPhase(server, receiver);
    const l = result.latency;
    log(`notifications ${label}: latency from the write's response p50 ${l.fromResponseMs.p50.toFixed(1)} p95 ${l.fromResponseMs.p95.toFixed(1)} p99 ${l.fromResponseMs.p99.toFixed(1)} ms; last subscriber p50 ${l.lastSubscriberMs.p50.toFixed(0)} ms (${l.received}/${l.expected}, ${l.events} events)`);
    result.throughput = await throughputPhase(server, receiver);
    const t = result.throughput;
    log(`notifications ${label}: ${t.events} events × ${SUBSCRIBERS} in ${t.seconds.toFixed(1)} s: ${t.eventsPerSecond.toFixed(1)} events/s, ${t.notificationsPerSecond.toFixed(0)} notifications/s, ${t.postsPerSecond.toFixed(0)} POSTs/s (writes ${t.writesPerSecond.toFixed(0)}/s; ${t.received}/${t.expected}, duplicates ${t.duplicates}, out of order ${t.outOfOrder})`);
    result.rssMb = rssOf(server.pid);
    result.malformed = receiver.malformed;
  } finally {
    await server?.stop();
    await receiver.close();
    await database.drop();
  }
  return result;
}

/** Five events through the whole path before anything is measured. */
async function warmUp(server, receiver) {
  const token = await accessToken(server.base, 'local-admin', server.secret, SCOPE);
  const from = receiver.received.length;
  for (let n = 0; n < 5; n++) await createOrganization(server.base, token, `warm-up ${n}`);
  const count = () => receiver.received.slice(from).reduce((sum, entry) => sum + entry.events.length, 0);
  await arrival(receiver, () => count() >= 5 * SUBSCRIBERS, count);
}

export async function measureNotifications() {
  const unknown = WANTED.filter((name) => !DATABASES[name]);
  if (unknown.length) throw new Error(`BENCH_NOTIFY_DATABASES: ${unknown.join(', ')}: choose among ${Object.keys(DATABASES).join(', ')}`);
  const databases = [];
  for (const name of WANTED) databases.push(await benchDatabase(name));
  return { measuredAt: new Date().toISOString(), machine: machine(), pinned: PIN, subscribers: SUBSCRIBERS, topic: TOPIC, databases };
}

// `node bench/notifications.mjs [--into bench/results/<run>.json]`
if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const into = process.argv.indexOf('--into') > 0 ? process.argv[process.argv.indexOf('--into') + 1] : undefined;
  // The receiver and the writers on the first core, the server on the second, as in `npm run bench`.
  if (PIN) execFileSync('taskset', ['-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });
  const notifications = await measureNotifications();
  if (into) {
    const { writeReport } = await import('./report.mjs');
    const results = JSON.parse(readFileSync(into, 'utf8'));
    results.notifications = notifications;
    writeFileSync(into, `${JSON.stringify(results, null, 2)}\n`);
    writeReport(root, into, results);
    log(`notifications results in ${into} and docs/PERFORMANCE.md`);
  } else {
    console.log(JSON.stringify(notifications, null, 2));
  }
}
