// `npm run bench`: for each database (PostgreSQL, then PGlite) imports the Synthea patients into a fresh store,
// measures that store's ceiling, starts the real server on it with access tokens on, and drives each scenario with
// autocannon at fixed concurrency for a fixed time; beside them the HTTP ceiling (a bare node:http server answering
// a fixed resource), measured once. Then the profile validator's throughput (bench/validation.mjs), a search on an API-fed store with the server's statistics upkeep off and on (bench/statistics-upkeep.mjs), the write path's validation (bench/write-validation.mjs), notification latency and throughput with 100 rest-hook subscribers (bench/notifications.mjs), and last Bulk Data export throughput and the server's RSS at 1M stored resources (bench/export.mjs; BENCH_EXPORT=none leaves it out). Results: bench/results/<time>.json and the tables in docs/PERFORMANCE.md.
// Never part of `npm test`.
//
//   DATABASE_URL      PostgreSQL to benchmark on (default postgres://postgres@127.0.0.1:5432/test; a schema of its own)
//   BENCH_DATABASES   which to run, comma-separated (default postgres,pglite)
//   BENCH_SECONDS     seconds per scenario (default 10)      BENCH_CONNECTIONS  concurrent connections (default 10)
//   BENCH_GROWTH      stored-resource levels of the growth phase on PostgreSQL (default 10000,100000,1000000;
//                     `none` to leave it out): synthetic CCP patients loaded up to each, searches measured at each
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DATABASES } from './databases.mjs';
import { HOST_ORGANIZATION, setUpPartner } from './partner.mjs';
import { writeReport } from './report.mjs';
import { accessToken, childEnv, CONNECTIONS, httpCeiling, load, log, commitOf, machine, PIN, root, rssOf, SECONDS, startServer } from './harness.mjs';
import { createPlans, planPerConnection } from './update-scenario.mjs';

const SYNTHEA = [path.resolve(root, '../shared/data/synthea-r4'), '/work/shared/data/synthea-r4'].find((dir) => existsSync(dir));
const WANTED = (process.env.BENCH_DATABASES ?? 'postgres,pglite').split(',').map((name) => name.trim()).filter(Boolean);
// BENCH_EXTRAS=none leaves out the validation, statistics-upkeep, write-validation and notifications phases (about 15 minutes):
// the page then shows those sections, and the growth phase when it too was left out, as the last run that had them
// measured them, saying which.
const EXTRAS = process.env.BENCH_EXTRAS !== 'none';
// BENCH_EXPORT=none leaves out the bulk export phase (its store is seeded once, about 15 minutes at 1M, and kept).
const EXPORT = process.env.BENCH_EXPORT !== 'none';
const GROWTH = (process.env.BENCH_GROWTH ?? '10000,100000,1000000').split(',').map((level) => level.trim()).filter((level) => level && level !== 'none').map(Number);

async function main() {
  if (!SYNTHEA) throw new Error('the Synthea data (../shared/data/synthea-r4) is not there');
  const unknown = WANTED.filter((name) => !DATABASES[name]);
  if (unknown.length || !WANTED.length) throw new Error(`BENCH_DATABASES: ${unknown.join(', ') || '(none)'}: choose among ${Object.keys(DATABASES).join(', ')}`);
  if (GROWTH.some((level) => !Number.isSafeInteger(level) || level <= 0)) throw new Error(`BENCH_GROWTH: whole numbers of resources, comma-separated, or none (got ${process.env.BENCH_GROWTH})`);
  // This process (the load generator) on the first core; the servers go on the second. PostgreSQL's own processes
  // are not ours to pin: they share both cores.
  if (PIN) execFileSync('taskset', ['-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });
  log('building the server');
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });

  const results = { commit: commitOf(), machine: machine(), startedAt: new Date().toISOString(), seconds: SECONDS, connections: CONNECTIONS, pinned: PIN, ceilings: {}, databases: [] };
  results.ceilings.http = await httpCeiling();
  log(`HTTP ceiling: ${results.ceilings.http.requestsPerSecond.toFixed(0)} req/s`);
  for (const name of WANTED) results.databases.push(await benchDatabase(name, results.ceilings.http));

  if (GROWTH.length) results.growth = await benchGrowth(GROWTH);
  if (EXTRAS) {
    // The profile validator's throughput, in this process (bench/validation.mjs): it uses dist/, built above.
    results.validation = await (await import('./validation.mjs')).measureValidation();
    // A search on an API-fed database with the server's statistics upkeep off, then on (bench/statistics-upkeep.mjs).
    results.statisticsUpkeep = await (await import('./statistics-upkeep.mjs')).measureStatisticsUpkeep();
    // The write path's validation before and after the base-definition check (bench/write-validation.mjs).
    results.writeValidation = await (await import('./write-validation.mjs')).measureWriteValidation();
    // Notification latency and throughput with 100 rest-hook subscribers (bench/notifications.mjs).
    results.notifications = await (await import('./notifications.mjs')).measureNotifications();
    // Bulk export throughput and the server's RSS at BENCH_EXPORT_RESOURCES stored resources (bench/export.mjs).
    if (EXPORT) results.bulkExport = await (await import('./export.mjs')).measureBulkExport();
  } else {
    carryOver(results);
  }

  mkdirSync(path.join(root, 'bench/results'), { recursive: true });
  const file = path.join(root, 'bench/results', `${results.startedAt.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  writeReport(root, file, results);
  log(`results in ${path.relative(root, file)} and docs/PERFORMANCE.md`);
}


/** The sections this run left out, from the latest saved run that measured each, named in `carriedOver`. */
function carryOver(results) {
  const folder = path.join(root, 'bench/results');
  const runs = existsSync(folder) ? readdirSync(folder).filter((name) => name.endsWith('.json')).sort().reverse() : [];
  results.carriedOver = {};
  for (const section of ['validation', 'statisticsUpkeep', 'writeValidation', 'notifications', ...(results.bulkExport ? [] : ['bulkExport']), ...(results.growth ? [] : ['growth'])]) {
    for (const name of runs) {
      const earlier = JSON.parse(readFileSync(path.join(folder, name), 'utf8'));
      if (!earlier[section]) continue;
      results[section] = earlier[section];
      if (section === 'growth' && earlier.growthStartedAt) results.growthStartedAt = earlier.growthStartedAt;
      results.carriedOver[section] = `bench/results/${name}`;
      break;
    }
  }
}

/** Import, storage ceiling and every scenario on one database. */
async function benchDatabase(name, httpCeilingResult) {
  const { label, open } = DATABASES[name];
  const database = await open();
  const result = { name, label, scenarios: [] };
  let server;
  try {
    log(`${label}: importing the Synthea patients into ${database.where}`);
    // The import runs alone, before the server: the embedded database takes one process at a time.
    const started = Date.now();
    try {
      execFileSync('node', ['dist/server/import.js', SYNTHEA], { cwd: root, env: childEnv({ ...database.env, LOG_LEVEL: 'warn' }), stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 64 * 2 ** 20 });
    } catch (error) {
      // Its progress lines go to stderr: shown only when it fails, with the reasons at their end.
      throw new Error(`the import failed:\n${String(error.stderr ?? error.message).slice(-4000)}`);
    }
    const importSeconds = (Date.now() - started) / 1000;
    const { ids, ceiling } = await database.probe(SECONDS, CONNECTIONS);
    result.dataset = { resources: ids.count, importSeconds };
    result.ceilings = { storage: ceiling };
    log(`${label}: ${ids.count} resources in ${importSeconds.toFixed(0)} s; storage ceiling ${ceiling.requestsPerSecond.toFixed(0)} lookups/s`);

    server = await startServer({ ...database.env, HOSTING_ORGANIZATION: HOST_ORGANIZATION });
    const hostToken = () => accessToken(server.base, 'local-admin', server.secret);
    const partnerToken = await setUpPartner(server, ids);
    const plans = await createPlans(server.base, await hostToken(), ids.patient, CONNECTIONS);

    for (const scenario of scenarios(ids, plans)) {
      const token = await (scenario.partner ? partnerToken() : hostToken());
      const measured = await load(`${server.base}/fhir/${scenario.path}`, token, scenario);
      result.scenarios.push({
        name: scenario.name,
        ...measured,
        rssMb: rssOf(server.pid),
        ratioToHttpCeiling: measured.requestsPerSecond / httpCeilingResult.requestsPerSecond,
        ratioToStorageCeiling: measured.requestsPerSecond / ceiling.requestsPerSecond,
      });
      log(`${label}: ${scenario.name}: ${measured.requestsPerSecond.toFixed(0)} req/s, p95 ${measured.latency.p95} ms, errors ${measured.errors}, non-2xx ${measured.non2xx}`);
    }
  } finally {
    await server?.stop();
    await database.drop();
  }
  return result;
}

/** Search latency as synthetic CCP patients fill a fresh PostgreSQL schema up to each level (bench/growth.mjs). */
async function benchGrowth(levels) {
  // Loaded only now: the generator builds its records with the server's own modules, from dist/, which this run
  // has just built (a fresh clone has none before).
  const [{ HOST }, { measureGrowth }] = await Promise.all([import('./generate/bundles.mjs'), import('./growth.mjs')]);
  const database = await DATABASES.postgres.open();
  let server;
  try {
    log(`growth: levels ${levels.join(', ')} in ${database.where}`);
    // The generated data's hosting organization: its partners' searches are the consent-gated ones.
    server = await startServer({ ...database.env, HOSTING_ORGANIZATION: HOST });
    return await measureGrowth({ databaseUrl: database.env.DATABASE_URL, levels, seconds: SECONDS, connections: CONNECTIONS, server });
  } finally {
    await server?.stop();
    await database.drop();
  }
}

/**
 * The scenarios of the benchmarks issue, on ids taken from the loaded data. The first six and the update run with
 * the bootstrap backend client (no organization: not held by consent); `partner` ones with the partner's token.
 */
function scenarios(ids, plans) {
  const carePlan = {
    resourceType: 'CarePlan',
    status: 'draft',
    intent: 'plan',
    subject: { reference: `Patient/${ids.patient}` },
    description: 'benchmark plan',
  };
  const search = (patient) => `CarePlan?patient=Patient/${patient}&status=active`;
  return [
    { name: 'read Patient by id', path: `Patient/${ids.patient}` },
    { name: 'vread Patient', path: `Patient/${ids.patient}/_history/1` },
    // The host's read of the plan the partner reads: what the partner's consent-gated read is held against.
    { name: 'read CarePlan by id', path: `CarePlan/${ids.carePlan}` },
    { name: 'search CarePlan?patient=…&status=active', path: search(ids.carePlanPatient) },
    { name: 'search … &_include=CarePlan:care-team', path: `${search(ids.carePlanPatient)}&_include=CarePlan:care-team` },
    { name: 'search Patient?identifier=…', path: `Patient?identifier=${encodeURIComponent(ids.identifier)}` },
    { name: 'create CarePlan (validated, audited)', path: 'CarePlan', method: 'POST', body: JSON.stringify(carePlan) },
    { name: 'update CarePlan with If-Match (own plan per connection)', path: 'CarePlan', setupClient: planPerConnection(plans) },
    { name: 'partner: read CarePlan by id (consent permits)', path: `CarePlan/${ids.carePlan}`, partner: true },
    { name: 'partner: search CarePlan?patient=…&status=active (consent permits)', path: search(ids.carePlanPatient), partner: true },
    { name: 'partner: same search, patient not registered (consent says no: total 0)', path: search(ids.unregisteredPatient), partner: true },
  ];
}

main().catch((error) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
});
