// Notification latency and throughput with 100 rest-hook subscribers (issue 20), on each database in turn: a fresh
// PostgreSQL schema or PGlite folder (databases.mjs), the built server on it (harness.mjs, core 1) with
// SUBSCRIPTION_ALLOW_LOOPBACK=true and the bootstrap backend client's tokens as the other benches use, and a
// loopback receiver in this process (notification-receiver.mjs, core 0) with one path per subscriber: 100
// endpoints, so 100 queues. The topic is organization-joined, whose events a create of an active Organization
// causes (server/notifications/topic-events.ts): a small validated, audited write, and no filter needed.
//
// - Set-up: SUBSCRIBERS id-only Subscriptions through the REST API, each by a backend client of its own (registered
//   through the admin API; BENCH_NOTIFY_OWNERS=one: all by the bootstrap client); measured once every one's
//   handshake arrived and its resource reads `active`.
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
//   BENCH_NOTIFY_SUBSCRIBERS (100)  BENCH_NOTIFY_LATENCY_EVENTS (20)  BENCH_NOTIFY_INTERVAL_MS (500)
//   BENCH_NOTIFY_EVENTS (100, the throughput phase)  BENCH_NOTIFY_WRITERS (4)
//   BENCH_NOTIFY_OWNERS     each (default: a backend client of its own per subscription) or one (the bootstrap
//                           client owns all of them: the access decisions of one owner, 100 times)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DATABASES } from './databases.mjs';
import { accessToken, call, log, commitOf, machine, PIN, root, rssOf, startServer } from './harness.mjs';
import pg from 'pg';
import { now, startReceiver, summary } from './notification-receiver.mjs';

const WANTED = (process.env.BENCH_NOTIFY_DATABASES ?? 'postgres,pglite').split(',').map((name) => name.trim()).filter(Boolean);
const SUBSCRIBERS = Number(process.env.BENCH_NOTIFY_SUBSCRIBERS ?? 100);
const LATENCY_EVENTS = Number(process.env.BENCH_NOTIFY_LATENCY_EVENTS ?? 20);
const INTERVAL_MS = Number(process.env.BENCH_NOTIFY_INTERVAL_MS ?? 500);
const THROUGHPUT_EVENTS = Number(process.env.BENCH_NOTIFY_EVENTS ?? 100);
const WRITERS = Number(process.env.BENCH_NOTIFY_WRITERS ?? 4);
const OWNERS = process.env.BENCH_NOTIFY_OWNERS ?? 'each';
const SCOPE = 'system/*.cruds';
/** What a subscriber's system needs: subscribe, and read the Organizations it is told of. */
const SUBSCRIBER_SCOPE = 'system/Organization.rs system/Subscription.cruds';
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

/** The server's statement counts so far (bench/statement-counter.mjs), asked for with SIGUSR2; undefined on PGlite. */
async function statementsNow(server, file) {
  if (!file) return undefined;
  rmSync(file, { force: true });
  process.kill(server.pid, 'SIGUSR2');
  for (let tries = 0; !existsSync(file); tries++) {
    if (tries > 100) throw new Error('notifications bench: the statement counter did not answer');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  // Written in one synchronous call; a read that finds it half-written tries again.
  for (;;) {
    try {
      return new Map(JSON.parse(readFileSync(file, 'utf8')));
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/** What was sent between two counts, per event notification delivered: all statements, and the most frequent. */
function statementsBetween(before, after, notifications) {
  if (!before || !after) return undefined;
  const rows = [...after].map(([text, { count, ms }]) => ({ text, count: count - (before.get(text)?.count ?? 0), ms: ms - (before.get(text)?.ms ?? 0) })).filter((row) => row.count > 0);
  const total = rows.reduce((sum, row) => sum + row.count, 0);
  return {
    total,
    perNotification: total / notifications,
    top: rows.sort((a, b) => b.count - a.count).slice(0, 8).map((row) => ({ ...row, perNotification: row.count / notifications, msEach: row.ms / row.count })),
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

/**
 * The token each subscriber subscribes with: with OWNERS `each`, a backend client of its own registered through the
 * admin API (as an EMR vendor's or partner's system is), so every subscription has its own owner and its own access
 * decisions; with `one`, the bootstrap client's for all of them.
 */
async function subscriberTokens(server) {
  const token = await accessToken(server.base, 'local-admin', server.secret, SCOPE);
  if (OWNERS === 'one') return Array.from({ length: SUBSCRIBERS }, () => token);
  const admin = await accessToken(server.base, 'local-admin', server.secret, `${SCOPE} admin`);
  return inBatches(Array.from({ length: SUBSCRIBERS }, (_, n) => n), async (n) => {
    const clientId = `bench-subscriber-${n}`;
    const registered = await call(server.base, admin, 'POST', '/auth/admin/clients', {
      client_id: clientId,
      client_name: `Notifications benchmark subscriber ${n}`,
      kind: 'backend',
      token_endpoint_auth_method: 'client_secret_basic',
      scope: SUBSCRIBER_SCOPE,
    }, [201]);
    return accessToken(server.base, clientId, registered.body.client_secret, SUBSCRIBER_SCOPE);
  });
}

/** `work` over `items`, four at a time: the set-up is not what is measured. */
async function inBatches(items, work) {
  const results = [];
  for (let next = 0; next < items.length; next += 4) results.push(...(await Promise.all(items.slice(next, next + 4).map(work))));
  return results;
}

async function subscribe(server, receiver) {
  const started = now();
  const tokens = await subscriberTokens(server);
  const ids = await inBatches(tokens.map((token, n) => ({ token, n })), async ({ token, n }) =>
    (await call(server.base, token, 'POST', '/fhir/Subscription', subscription(receiver.url(n)), [201])).body.id);
  const handshaken = () => new Set(receiver.received.filter((entry) => entry.type === 'handshake').map((entry) => entry.subscriber)).size;
  await arrival(receiver, () => handshaken() === SUBSCRIBERS, handshaken);
  const handshakesSeconds = (now() - started) / 1000;
  // Active in the engine once its handshake is delivered; the resource follows just after: wait for every one.
  // Each is its owner's alone to read (server/access/subscription-access.ts): read with its owner's token.
  const waiting = new Map(ids.map((id, n) => [id, tokens[n]]));
  for (let tries = 0; ; tries++) {
    await inBatches([...waiting], async ([id, token]) => {
      const { body } = await call(server.base, token, 'GET', `/fhir/Subscription/${id}`, undefined, [200]);
      if (body.status === 'active') waiting.delete(id);
    });
    const active = SUBSCRIBERS - waiting.size;
    if (active === SUBSCRIBERS) break;
    if (tries > 240) throw new Error(`notifications bench: ${active} of ${SUBSCRIBERS} Subscriptions active after their handshakes`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return { subscriptions: ids.length, handshakesSeconds, activeSeconds: (now() - started) / 1000 };
}

/** One event at a time, each fully delivered before the next (and no sooner than INTERVAL ms after it). */
async function latencyPhase(server, receiver, counter) {
  const token = await accessToken(server.base, 'local-admin', server.secret, SCOPE);
  const from = receiver.received.length;
  const statementsBefore = await statementsNow(server, counter);
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
  const statements = statementsBetween(statementsBefore, await statementsNow(server, counter), rows.length);
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
    serverCpuMsPerNotification: cpu.serverCpuSeconds !== undefined ? (cpu.serverCpuSeconds * 1000) / rows.length : undefined,
    statements,
  };
}

/** THROUGHPUT_EVENTS events written by WRITERS writers at once, until every subscriber has every one. */
async function throughputPhase(server, receiver, counter) {
  const token = await accessToken(server.base, 'local-admin', server.secret, SCOPE);
  const from = receiver.received.length;
  const statementsBefore = await statementsNow(server, counter);
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
  const statements = statementsBetween(statementsBefore, await statementsNow(server, counter), rows.length);
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
    serverCpuMsPerNotification: cpu.serverCpuSeconds !== undefined ? (cpu.serverCpuSeconds * 1000) / rows.length : undefined,
    statements,
  };
}

async function benchDatabase(name) {
  const { label, open } = DATABASES[name];
  const database = await open();
  const receiver = await startReceiver();
  // On PostgreSQL the server counts its statements (bench/statement-counter.mjs); PGlite's are not seen.
  const folder = mkdtempSync(path.join(os.tmpdir(), 'ccp-bench-statements-'));
  const counter = name === 'postgres' ? path.join(folder, 'statements.json') : undefined;
  let server;
  const result = { name, label };
  try {
    server = await startServer(
      { ...database.env, SUBSCRIPTION_ALLOW_LOOPBACK: 'true', ...(counter ? { BENCH_STATEMENTS_FILE: counter } : {}) },
      counter ? { nodeArgs: ['--import', path.join(root, 'bench/statement-counter.mjs')] } : {},
    );
    result.setup = await subscribe(server, receiver);
    log(`notifications ${label}: ${SUBSCRIBERS} subscriptions (owners: ${OWNERS}), set up and handshaken in ${result.setup.handshakesSeconds.toFixed(1)} s, all active in ${result.setup.activeSeconds.toFixed(1)} s`);
    // A few events unrecorded first: the server's first writes and sends warm it up.
    await warmUp(server, receiver);
    result.latency = await latencyPhase(server, receiver, counter);
    const l = result.latency;
    log(`notifications ${label}: latency from the write's response p50 ${l.fromResponseMs.p50.toFixed(1)} p95 ${l.fromResponseMs.p95.toFixed(1)} p99 ${l.fromResponseMs.p99.toFixed(1)} ms; last subscriber p50 ${l.lastSubscriberMs.p50.toFixed(0)} ms (${l.received}/${l.expected}, ${l.events} events)`);
    result.throughput = await throughputPhase(server, receiver, counter);
    const t = result.throughput;
    log(`notifications ${label}: ${t.events} events × ${SUBSCRIBERS} in ${t.seconds.toFixed(1)} s: ${t.eventsPerSecond.toFixed(1)} events/s, ${t.notificationsPerSecond.toFixed(0)} notifications/s, ${t.postsPerSecond.toFixed(0)} POSTs/s (writes ${t.writesPerSecond.toFixed(0)}/s; ${t.received}/${t.expected}, duplicates ${t.duplicates}, out of order ${t.outOfOrder})`);
    result.rssMb = rssOf(server.pid);
    result.malformed = receiver.malformed;
    result.disclosures = await disclosures(server, database, receiver);
    if (result.disclosures) log(`notifications ${label}: ${result.disclosures.delivered} delivered disclosures in the audit trail for ${result.disclosures.posts} POSTs received`);
  } finally {
    await server?.stop();
    await receiver.close();
    await database.drop();
    rmSync(folder, { recursive: true, force: true });
  }
  return result;
}

/**
 * Every POST the receiver answered must be in the audit trail as a delivered disclosure (DICOM Export, outcome 0),
 * committed before the delivery was settled. Counted on PostgreSQL, by SQL on the schema (once the engine is idle:
 * the last sends' events are committed just after their answers); PGlite's folder is the server's alone.
 */
async function disclosures(server, database, receiver) {
  if (!database.env.DATABASE_URL) return undefined;
  const posts = receiver.received.length;
  const db = new pg.Pool({ connectionString: database.env.DATABASE_URL, max: 1 });
  try {
    const count = async () => Number((await db.query(`SELECT count(*) AS n FROM audit_event WHERE content->'type'->>'code' = '110106' AND content->>'outcome' = '0'`)).rows[0].n);
    let delivered = await count();
    for (let tries = 0; delivered < posts && tries < 40; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      delivered = await count();
    }
    return { posts, delivered };
  } finally {
    await db.end();
  }
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
  if (!['each', 'one'].includes(OWNERS)) throw new Error(`BENCH_NOTIFY_OWNERS: each or one (got ${OWNERS})`);
  const unknown = WANTED.filter((name) => !DATABASES[name]);
  if (unknown.length) throw new Error(`BENCH_NOTIFY_DATABASES: ${unknown.join(', ')}: choose among ${Object.keys(DATABASES).join(', ')}`);
  const databases = [];
  for (const name of WANTED) databases.push(await benchDatabase(name));
  return { measuredAt: new Date().toISOString(), commit: commitOf(), machine: machine(), pinned: PIN, subscribers: SUBSCRIBERS, owners: OWNERS, topic: TOPIC, databases };
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
