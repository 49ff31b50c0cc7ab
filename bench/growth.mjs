// Growth: how search latency changes as the data grows (issue 7: 10k, 100k and 1M stored resources). For each
// level, synthetic CCP patients (bench/generate) are loaded through the in-process import path until
// `SELECT count(*) FROM resource` reaches it, then autocannon drives three searches against the running server:
//   CarePlan?patient=…&status=active     the backend token (not held by consent)
//   Patient?identifier=…                 the backend token
//   CarePlan?patient=…&status=active     a partner's token: consent-gated by the registrations' `_access` rows
// Each scenario rotates over up to 50 patients spread over everything loaded, so it does not measure one hot row.
// Every request records an AuditEvent, so the count grows during a measurement too: both counts are reported.
//
// After each load the schema's tables are ANALYZEd (`analyze: false` to leave that out): autovacuum, which would
// do it in production, is off on this machine's PostgreSQL, and without statistics the planner drives a search
// from its least selective condition (every active CarePlan, then the patient), so cost grows with the data.
//
//   node bench/growth.mjs [--levels 10000,100000] [--seconds 10] [--connections 10] [--concurrency 4] [--keep] [--skip-analyze]
// runs it on a fresh schema of DATABASE_URL (default this machine's test database) and prints the results as JSON.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import pg from 'pg';
import { DEFAULT_SEED, HOST, MRN_SYSTEM, mrnOf, partnerIds, todayUtc } from './generate/bundles.mjs';
import { analyzeTables, loadPatients, nextPatientIndex } from './generate/load.mjs';
import { patientResources } from './generate/patient.mjs';
import { accessToken, call, log as logLine, PIN, startServer } from './harness.mjs';

/** Resources a synthetic patient adds, as measured: 19.9 of its own and the import's AuditEvent per 25 patients. */
const RESOURCES_PER_PATIENT = 19.9;
const SAMPLE = 50;
const PARTNER = partnerIds[0];
/** A scenario whose one request takes longer than this is not driven with autocannon. */
const TOO_SLOW_MS = 1000;
const SINGLE_TIMEOUT_MS = 120_000;
const WARM_UP_SECONDS = 3;

/**
 * Loads up to each level and measures the searches. `server` is a running server on `databaseUrl` (`{ base,
 * secret }`, the bootstrap client's secret), or `startServer(databaseUrl)` starts one (and it is stopped at the
 * end). Tokens are taken afresh per scenario from the secret (backend tokens last five minutes). Resolves with
 * JSON-able results, one entry per level.
 */
export async function measureGrowth({
  databaseUrl,
  levels = [10_000, 100_000, 1_000_000],
  seconds = 10,
  connections = 10,
  // Four Bundles in flight, as npm run import does on PostgreSQL: faster than two (bench/analysis.md, Creates).
  concurrency = 4,
  analyze = true,
  server,
  startServer: start,
  log = logLine,
}) {
  const running = server ?? (await start(databaseUrl));
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  const count = async () => (await db.query('SELECT count(*)::int AS n FROM resource')).rows[0].n;
  const results = [];
  let partnerToken;
  try {
    for (const level of levels) {
      const before = await count();
      if (before > level) {
        log(`growth ${level}: skipped, ${before} resources stored already`);
        continue;
      }
      let load;
      if (before < level) {
        const offset = await nextPatientIndex(databaseUrl);
        const patients = Math.ceil((level - before) / RESOURCES_PER_PATIENT);
        log(`growth ${level}: loading patients ${offset} … ${offset + patients - 1} (${before} resources stored)`);
        let shown = 0;
        load = await loadPatients({
          databaseUrl,
          patients,
          offset,
          concurrency,
          analyze,
          onProgress: ({ resources, seconds: spent }) => {
            if (spent - shown < 60) return;
            shown = spent;
            log(`  ${resources} resources, ${(resources / spent).toFixed(0)}/s`);
          },
        });
        load = { patients, resources: load.resources, seconds: load.seconds, resourcesPerSecond: load.resourcesPerSecond };
        log(`  ${load.resources} resources in ${load.seconds.toFixed(0)} s: ${load.resourcesPerSecond.toFixed(0)}/s`);
      }
      const analyzeStarted = Date.now();
      const analyzed = analyze && (await analyzeTables(databaseUrl));
      if (analyzed) log(`  ANALYZE of ${analyzed} tables: ${((Date.now() - analyzeStarted) / 1000).toFixed(1)} s`);
      const stored = await count();
      const loadedPatients = await nextPatientIndex(databaseUrl);
      partnerToken ??= await partnerClient(running.base, running.secret);
      const ids = await samplePatients(db, loadedPatients);
      const adminToken = () => accessToken(running.base, 'local-admin', running.secret);
      const scenarios = [
        { name: 'search CarePlan?patient=…&status=active', token: adminToken, paths: ids.all.map((id) => `/fhir/CarePlan?patient=Patient/${id}&status=active`) },
        { name: 'search Patient?identifier=…', token: adminToken, paths: ids.mrns.map((mrn) => `/fhir/Patient?identifier=${encodeURIComponent(`${MRN_SYSTEM}|${mrn}`)}`) },
        { name: `partner search CarePlan?patient=…&status=active (consent-gated, ${PARTNER})`, token: partnerToken, paths: ids.partner.map((id) => `/fhir/CarePlan?patient=Patient/${id}&status=active`) },
      ];
      const measured = [];
      for (const scenario of scenarios) {
        const token = await scenario.token();
        const single = await singleRequest(running.base, scenario.paths[0], token);
        if (single.ms > TOO_SLOW_MS) {
          // Ten connections on a query this slow would keep PostgreSQL busy long after the measurement (and through
          // the next level's load): the single request's time is the measurement.
          const took = single.timedOut ? `did not answer within ${single.ms} ms` : `took ${single.ms} ms`;
          measured.push({ name: scenario.name, patients: scenario.paths.length, ...single, skipped: `one request ${took}: not driven with ${connections} connections` });
          log(`  ${stored} resources, ${scenario.name}: one request ${took}, too slow to drive`);
          continue;
        }
        // Unrecorded first: the first level would otherwise measure a freshly started server's warm-up too.
        await drive(running.base, scenario.paths, token, { seconds: WARM_UP_SECONDS, connections });
        const result = await drive(running.base, scenario.paths, token, { seconds, connections });
        measured.push({ name: scenario.name, patients: scenario.paths.length, ...single, ...result });
        // autocannon stops on time, not when the server has answered: let the requests still running finish
        // before the next scenario or load.
        await new Promise((resolve) => setTimeout(resolve, Math.min(connections * single.ms, 30_000)));
        log(`  ${stored} resources, ${scenario.name}: one request ${single.ms} ms; ${result.requestsPerSecond.toFixed(0)} req/s, p50 ${result.latency.p50} ms, p95 ${result.latency.p95} ms, p99 ${result.latency.p99} ms, errors ${result.errors + result.non2xx}`);
      }
      // `resources` is the level's count when measuring began; `resourcesAfter` adds the AuditEvents the measurement wrote.
      results.push({ level, resources: stored, resourcesAfter: await count(), patients: loadedPatients, ...(load ? { load } : {}), analyzed: Boolean(analyzed), scenarios: measured });
    }
  } finally {
    await db.end();
    if (!server) await running.stop();
  }
  return results;
}

/**
 * Up to SAMPLE patients spread evenly over those loaded (ids looked up by MRN, so either id mode works), and as
 * many with a current registration of PARTNER and no directive (from the generator: the data is a function of the
 * seed and the day, DEFAULT_SEED and today as the loader used).
 */
async function samplePatients(db, loaded) {
  const stride = Math.max(1, Math.floor(loaded / SAMPLE));
  const indices = Array.from({ length: Math.min(SAMPLE, loaded) }, (_, k) => k * stride + (k % stride));
  const anchor = todayUtc();
  const partnerIndices = [];
  for (let index = 0; index < loaded && partnerIndices.length < SAMPLE; index += Math.max(1, Math.floor(stride / 8))) {
    const { partners, withheldFrom } = patientResources(index, { seed: DEFAULT_SEED, anchor });
    if (partners.includes(PARTNER) && !withheldFrom) partnerIndices.push(index);
  }
  const idOf = async (index) =>
    (await db.query(`SELECT r.id FROM search_token t JOIN resource r ON r.rid = t.rid WHERE t.resource_type = 'Patient' AND t.param = 'identifier' AND t.system = $1 AND t.code = $2`, [MRN_SYSTEM, mrnOf(index)])).rows[0]?.id;
  // One query at a time: one client.
  const ids = async (list) => {
    const found = [];
    for (const index of list) found.push(await idOf(index));
    return found.filter(Boolean);
  };
  return { all: await ids(indices), mrns: indices.map(mrnOf), partner: await ids(partnerIndices) };
}

/**
 * A backend client bound to PARTNER (admin API), so consent holds it: registrations and directives decide what it
 * sees. Resolves with a function giving a fresh token (they live five minutes).
 */
async function partnerClient(base, adminSecret) {
  const admin = await accessToken(base, 'local-admin', adminSecret, 'admin');
  const clientId = `bench-growth-${PARTNER}`;
  const registered = await call(base, admin, 'POST', '/auth/admin/clients', {
    client_id: clientId,
    client_name: `Benchmark growth partner (${PARTNER})`,
    kind: 'backend',
    token_endpoint_auth_method: 'client_secret_basic',
    scope: 'system/CarePlan.rs',
    organization: `Organization/${PARTNER}`,
  }, [201]);
  return () => accessToken(base, clientId, registered.body.client_secret, 'system/CarePlan.rs');
}

/**
 * One request alone, before the load: how many resources it finds (not counting includes; a scenario that finds
 * nothing measures little) and how long it took; past SINGLE_TIMEOUT_MS it is given up (`timedOut`).
 */
async function singleRequest(base, target, token) {
  const started = performance.now();
  let response;
  let body;
  try {
    response = await fetch(`${base}${target}`, { headers: { authorization: `Bearer ${token}`, accept: 'application/fhir+json' }, signal: AbortSignal.timeout(SINGLE_TIMEOUT_MS) });
    body = await response.json();
  } catch (error) {
    if (error?.name === 'TimeoutError') return { matches: null, ms: SINGLE_TIMEOUT_MS, timedOut: true };
    throw error;
  }
  const ms = Math.round(performance.now() - started);
  if (!response.ok) throw new Error(`${target}: ${response.status} ${JSON.stringify(body).slice(0, 300)}`);
  return { matches: (body.entry ?? []).filter((entry) => entry.search?.mode !== 'include').length, ms };
}

/** autocannon over `paths` in turn. p95 is autocannon's p97.5 (it reports no p95): never flattering, as in run.mjs. */
async function drive(base, paths, token, { seconds, connections }) {
  let next = 0;
  const result = await autocannon({
    url: base,
    connections,
    duration: seconds,
    headers: { authorization: `Bearer ${token}`, accept: 'application/fhir+json' },
    requests: [{ method: 'GET', setupRequest: (request) => ({ ...request, path: paths[next++ % paths.length] }) }],
  });
  // No answer within the time: there is no latency to report, and zeros would read as fast.
  const answered = result.requests.total > 0;
  return {
    requestsPerSecond: result.requests.average,
    requests: result.requests.total,
    latency: answered ? { p50: result.latency.p50, p95: result.latency.p97_5, p99: result.latency.p99 } : { p50: null, p95: null, p99: null },
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

async function main() {
  const { values } = parseArgs({
    options: {
      levels: { type: 'string', default: '10000,100000' },
      seconds: { type: 'string', default: '10' },
      connections: { type: 'string', default: '10' },
      concurrency: { type: 'string', default: '4' },
      out: { type: 'string' },
      keep: { type: 'boolean' },
      'skip-analyze': { type: 'boolean' },
    },
  });
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  // The loader and autocannon on the first core; harness.mjs puts the server on the second.
  if (PIN) execFileSync('taskset', ['-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
  const base = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const schema = `bench_growth_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  const url = new URL(base);
  url.searchParams.set('options', `-c search_path=${schema}`);
  try {
    const results = await measureGrowth({
      databaseUrl: url.toString(),
      levels: values.levels.split(',').map(Number),
      seconds: Number(values.seconds),
      connections: Number(values.connections),
      concurrency: Number(values.concurrency),
      analyze: !values['skip-analyze'],
      startServer: (databaseUrl) => startServer({ DATABASE_URL: databaseUrl, HOSTING_ORGANIZATION: HOST }),
    });
    const json = `${JSON.stringify({ startedAt: new Date().toISOString(), schema, results }, null, 2)}\n`;
    if (values.out) writeFileSync(values.out, json);
    process.stdout.write(json);
  } finally {
    if (values.keep) console.error(`schema ${schema} kept`);
    else await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().then(
    () => process.exit(0),
    (error) => {
      console.error(error instanceof Error ? error.stack : error);
      process.exit(1);
    },
  );
}
