// What the server's statistics upkeep (server/store/statistics-upkeep.ts) is worth on a database fed only through
// the API, the way a deployment without `npm run import` fills it. Per database, two fresh stores side by side (two
// PostgreSQL schemas, or two PGlite folders), each with its own server: one started with STATISTICS_UPKEEP=false,
// one with the upkeep as shipped (a round every 60 s). Each is fed 200 Patients with 3 CarePlans each (one active)
// through its server; once the second server's first round has analyzed its tables (its log says so),
// `CarePlan?patient=…&status=active` (a different patient each request) is measured on one, then the other, in turn,
// ROUNDS times: the machine is shared, and alternating short runs shares its noise between the two better than one
// run each. Last, the cost of a round that finds nothing to do (the common case), timed in this process on the fed
// store after its server stopped.
// `npm run bench` runs it after the validation phase (measureStatisticsUpkeep()); by itself (after `npm run build`):
//   node bench/statistics-upkeep.mjs                       prints the results
//   node bench/statistics-upkeep.mjs --into <results.json> also stores them as `statisticsUpkeep` in that run's
//                                                          results file and writes docs/PERFORMANCE.md again from it
//   BENCH_UPKEEP_DATABASES  postgres,pglite (default both)
//   BENCH_UPKEEP_ROUNDS     measurements of each server, alternating (default 3)
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DATABASES } from './databases.mjs';
import { accessToken, call, childEnv, CONNECTIONS, load, log, machine, PIN, pinned, root, SECONDS } from './harness.mjs';

const PATIENTS = 200;
const STATUSES = ['active', 'completed', 'revoked'];
const WANTED = (process.env.BENCH_UPKEEP_DATABASES ?? 'postgres,pglite').split(',').map((name) => name.trim()).filter(Boolean);
const UNCHANGED_ROUNDS = 200;
const ROUNDS = Number(process.env.BENCH_UPKEEP_ROUNDS ?? 3);
const SCOPE = 'system/*.cruds';

/** `count` calls at a time: the feed goes through the API like a client's, a little faster than one by one. */
async function inParallel(items, count, work) {
  const results = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: count }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i], i);
    }
  }));
  return results;
}

async function feed(base, token) {
  const patients = await inParallel(Array.from({ length: PATIENTS }, (_, i) => i), 4, async (i) =>
    (await call(base, token, 'POST', '/fhir/Patient', { resourceType: 'Patient', active: true, name: [{ family: `Upkeep${i}`, given: ['Bench'] }] }, [201])).body.id);
  await inParallel(patients.flatMap((patient) => STATUSES.map((status) => ({ patient, status }))), 4, ({ patient, status }) =>
    call(base, token, 'POST', '/fhir/CarePlan', { resourceType: 'CarePlan', status, intent: 'plan', subject: { reference: `Patient/${patient}` }, description: `upkeep benchmark plan (${status})` }, [201]));
  return patients;
}

/** Each connection walks all the patients from its own starting point: no two requests in a row ask the same. */
function searchEveryPatient(patients) {
  let connection = 0;
  return (client) => {
    const start = (connection++ * 17) % patients.length;
    const ordered = [...patients.slice(start), ...patients.slice(0, start)];
    client.setRequests(ordered.map((patient) => ({ method: 'GET', path: `/fhir/CarePlan?patient=Patient/${patient}&status=active` })));
  };
}

/**
 * The real server on core 1 like harness.mjs's startServer, but logging at info, so the bench can see the upkeep's
 * rounds; resolves with its base URL, the bootstrap client's secret, the count of rounds that analyzed, and `stop`.
 */
function startLoggingServer(env) {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const [command, args] = pinned(1, 'node', ['dist/server/main.js']);
  const child = spawn(command, args, { cwd: root, env: childEnv({ ...env, PORT: String(port), LOG_LEVEL: 'info' }), stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const base = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
  };
  const analyzing = () => output.split('\n').filter((line) => line.includes('statistics upkeep: tables analyzed')).map((line) => JSON.parse(line));
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 60_000;
    const poll = async () => {
      const secret = /client_id local-admin\s+client_secret (\S+)/.exec(output)?.[1];
      if (secret && (await fetch(`${base}/fhir/metadata`).then((r) => r.ok, () => false))) return resolve({ base, secret, stop, analyzing });
      if (Date.now() > deadline || child.exitCode !== null) {
        await stop();
        return reject(new Error(`the server did not start:\n${output.slice(-4000)}`));
      }
      setTimeout(poll, 250);
    };
    poll();
  });
}

async function until(condition, what, seconds = 60) {
  const deadline = Date.now() + seconds * 1000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`statistics upkeep bench: ${what} did not happen within ${seconds} s`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** reltuples of the tables the search reads (-1: never analyzed), from a connection or PGlite of this process. */
async function plannerRows(query) {
  const rows = await query(`SELECT relname, reltuples::float8 AS reltuples FROM pg_class
    WHERE relnamespace = current_schema()::regnamespace AND relname IN ('resource', 'search_reference', 'search_token') ORDER BY relname`);
  return Object.fromEntries(rows.map((row) => [row.relname, row.reltuples]));
}

/** Milliseconds per upkeep round that finds nothing to do, on the fed database, in this process. */
async function unchangedRound(db) {
  const { createStatisticsUpkeep } = await import(path.join(root, 'dist/server/store/statistics-upkeep.js'));
  const upkeep = createStatisticsUpkeep(db, { enabled: true, intervalMs: 3_600_000 });
  const first = await upkeep.round();
  // With nothing written, every round after the first is the cheap path.
  for (let i = 0; i < 20; i++) await upkeep.round();
  const started = performance.now();
  for (let i = 0; i < UNCHANGED_ROUNDS; i++) {
    const round = await upkeep.round();
    if (round.outcome !== 'unchanged') throw new Error(`statistics upkeep bench: a round with nothing written did ${JSON.stringify(round)}`);
  }
  return { firstOutcome: first.outcome, msPerRound: (performance.now() - started) / UNCHANGED_ROUNDS };
}

/**
 * The search's database time alone, in this process: the server's own search code (dist/) asked for each patient's
 * active plans in turn, `passes` times over, without HTTP, tokens or audit; and the plan's shape for one patient.
 */
async function searchInProcess(db, patients, passes = 5) {
  const dist = (file) => import(path.join(root, 'dist/server', file));
  const [{ parseSearch }, { R4_REGISTRY }, { querySearch }, { compileSearch }] = await Promise.all([
    dist('search/query/parse.js'),
    dist('search/registry.js'),
    dist('store/search.js'),
    dist('search/sql/compile.js'),
  ]);
  const queryOf = (patient) => parseSearch({ patient: [`Patient/${patient}`], status: ['active'] }, ['CarePlan'], R4_REGISTRY, { defaultCount: 20, maxCount: 1000 });
  for (const patient of patients.slice(0, 20)) await querySearch(db, queryOf(patient));
  const started = performance.now();
  for (let pass = 0; pass < passes; pass++) for (const patient of patients) await querySearch(db, queryOf(patient));
  const page = compileSearch(queryOf(patients[0])).page;
  const [plan] = await db.query(`EXPLAIN (FORMAT JSON) ${page.sql}`, page.params);
  const nodes = [];
  const walk = (node) => {
    if (node['Relation Name'] || node['Index Name']) nodes.push(`${node['Node Type']} ${node['Index Name'] ?? node['Relation Name']}`);
    for (const child of node.Plans ?? []) walk(child);
  };
  walk((typeof plan['QUERY PLAN'] === 'string' ? JSON.parse(plan['QUERY PLAN']) : plan['QUERY PLAN'])[0].Plan);
  return { msPerSearch: (performance.now() - started) / (passes * patients.length), plan: nodes };
}

/** Median by req/s of a list of autocannon summaries. */
const median = (runs) => [...runs].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond)[Math.floor(runs.length / 2)];

async function benchDatabase(name) {
  const { label, open } = DATABASES[name];
  const stores = { off: await open(), on: await open() };
  const servers = {};
  const result = { name, label, runs: { off: [], on: [] } };
  try {
    servers.off = await startLoggingServer({ ...stores.off.env, STATISTICS_UPKEEP: 'false' });
    servers.on = await startLoggingServer({ ...stores.on.env, STATISTICS_UPKEEP: undefined, STATISTICS_UPKEEP_INTERVAL: undefined });
    const patients = {};
    for (const side of ['off', 'on']) {
      const feeding = Date.now();
      patients[side] = await feed(servers[side].base, await accessToken(servers[side].base, 'local-admin', servers[side].secret, SCOPE));
      result.fed = { patients: PATIENTS, carePlans: PATIENTS * STATUSES.length, seconds: (Date.now() - feeding) / 1000 };
      log(`upkeep ${label}: ${PATIENTS} patients, ${PATIENTS * STATUSES.length} CarePlans through the API of the upkeep-${side} server in ${result.fed.seconds.toFixed(0)} s`);
    }
    // The first round comes a minute after the start; it must have seen the whole feed.
    const fedAt = Date.now();
    await until(() => servers.on.analyzing().some((line) => line.time >= fedAt), 'the first round after the feed', 120);
    result.firstRound = servers.on.analyzing().at(-1);
    log(`upkeep ${label}: the upkeep's round analyzed ${result.firstRound.tables.length} tables in ${result.firstRound.ms} ms`);

    for (let round = 0; round < ROUNDS; round++) {
      for (const side of ['off', 'on']) {
        const server = servers[side];
        const token = await accessToken(server.base, 'local-admin', server.secret, SCOPE);
        const before = server.analyzing().length;
        const measured = await load(`${server.base}/fhir/CarePlan`, token, { setupClient: searchEveryPatient(patients[side]) });
        // Every request writes its AuditEvent, so a round falling in the load finds the audit's tables drifting.
        result.runs[side].push({ ...measured, roundsAnalyzing: server.analyzing().length - before });
        log(`upkeep ${label}: upkeep ${side}: ${measured.requestsPerSecond.toFixed(0)} req/s, p95 ${measured.latency.p95} ms`);
      }
    }
    result.off = median(result.runs.off);
    result.on = median(result.runs.on);

    for (const side of ['off', 'on']) await servers[side].stop();
    const { openDatabase } = await import(path.join(root, 'dist/server/store/open.js'));
    for (const side of ['off', 'on']) {
      const db = await openDatabase({ databaseUrl: stores[side].env.DATABASE_URL, dataDir: stores[side].env.DATA_DIR });
      try {
        result[side === 'off' ? 'reltuplesOff' : 'reltuplesOn'] = await plannerRows((text) => db.query(text));
        result[side === 'off' ? 'inProcessOff' : 'inProcessOn'] = await searchInProcess(db, patients[side]);
        if (side === 'on') result.unchangedRound = await unchangedRound(db);
      } finally {
        await db.close();
      }
    }
    log(`upkeep ${label}: the search in process: upkeep off ${result.inProcessOff.msPerSearch.toFixed(2)} ms (${result.inProcessOff.plan.join(', ')}), on ${result.inProcessOn.msPerSearch.toFixed(2)} ms (${result.inProcessOn.plan.join(', ')})`);
    log(`upkeep ${label}: a round with nothing to do: ${result.unchangedRound.msPerRound.toFixed(3)} ms`);
  } finally {
    for (const side of ['off', 'on']) {
      await servers[side]?.stop();
      await stores[side].drop();
    }
  }
  return result;
}

export async function measureStatisticsUpkeep() {
  const unknown = WANTED.filter((name) => !DATABASES[name]);
  if (unknown.length) throw new Error(`BENCH_UPKEEP_DATABASES: ${unknown.join(', ')}: choose among ${Object.keys(DATABASES).join(', ')}`);
  const databases = [];
  for (const name of WANTED) databases.push(await benchDatabase(name));
  return { measuredAt: new Date().toISOString(), machine: machine(), pinned: PIN, seconds: SECONDS, connections: CONNECTIONS, patients: PATIENTS, rounds: ROUNDS, databases };
}

// `node bench/statistics-upkeep.mjs [--into bench/results/<run>.json]`
if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const into = process.argv.indexOf('--into') > 0 ? process.argv[process.argv.indexOf('--into') + 1] : undefined;
  // The load generator on the first core, the servers on the second, as in `npm run bench`.
  if (PIN) execFileSync('taskset', ['-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });
  const statisticsUpkeep = await measureStatisticsUpkeep();
  if (into) {
    const { writeReport } = await import('./report.mjs');
    const results = JSON.parse(readFileSync(into, 'utf8'));
    results.statisticsUpkeep = statisticsUpkeep;
    writeFileSync(into, `${JSON.stringify(results, null, 2)}\n`);
    writeReport(root, into, results);
    log(`statistics upkeep results in ${into} and docs/PERFORMANCE.md`);
  } else {
    console.log(JSON.stringify(statisticsUpkeep, null, 2));
  }
}
