// `npm run bench`: loads the Synthea patients into a fresh schema of a PostgreSQL server, starts the real server
// on it with access tokens on, and drives each scenario with autocannon at fixed concurrency for a fixed time,
// beside two ceilings measured in the same run: a bare node:http server answering a fixed resource (HTTP) and a
// primary-key lookup loop on the same PostgreSQL (storage). Results: bench/results/<time>.json and the table in
// docs/PERFORMANCE.md. Never part of `npm test`.
//
//   DATABASE_URL   PostgreSQL to benchmark on (default postgres://postgres@127.0.0.1:5432/test; a schema of its own)
//   BENCH_SECONDS  seconds per scenario (default 10)      BENCH_CONNECTIONS  concurrent connections (default 10)
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import { pkLoop } from './storage-ceiling.mjs';
import { performanceMarkdown } from './report.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const SYNTHEA = [path.resolve(root, '../shared/data/synthea-r4'), '/work/shared/data/synthea-r4'].find((dir) => existsSync(dir));
// The server on one core, the load generator on the other, where taskset exists (2-core machine).
const PIN = existsSync('/usr/bin/taskset') && os.cpus().length >= 2;
const pinned = (core, command, args) => (PIN ? ['taskset', ['-c', String(core), command, ...args]] : [command, args]);

function log(message) {
  process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${message}\n`);
}

async function main() {
  if (!SYNTHEA) throw new Error('the Synthea data (../shared/data/synthea-r4) is not there');
  // This process (the load generator) on the first core; the servers go on the second. PostgreSQL's own processes
  // are not ours to pin: they share both cores.
  if (PIN) execFileSync('taskset', ['-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });
  log('building the server');
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });

  const schema = `bench_${Date.now().toString(36)}`;
  const admin = new pg.Pool({ connectionString: BASE_URL, max: 1 });
  await admin.query(`CREATE SCHEMA ${schema}`);
  const url = new URL(BASE_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  const databaseUrl = url.toString();
  const results = { machine: machine(), startedAt: new Date().toISOString(), seconds: SECONDS, connections: CONNECTIONS, pinned: PIN, scenarios: [] };
  let server;
  try {
    log(`importing the Synthea patients into schema ${schema}`);
    const started = Date.now();
    execFileSync('node', ['dist/server/import.js', SYNTHEA], { cwd: root, env: { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn' }, stdio: ['ignore', 'ignore', 'inherit'] });
    const db = new pg.Pool({ connectionString: databaseUrl, max: 1 });
    const [{ n }] = (await db.query("SELECT count(*)::int AS n FROM resource WHERE resource_type <> 'AuditEvent'")).rows;
    results.dataset = { resources: n, importSeconds: (Date.now() - started) / 1000 };
    log(`${n} resources in ${results.dataset.importSeconds.toFixed(0)} s`);

    server = await startServer(databaseUrl);
    const token = await accessToken(server.base, server.secret);
    const ids = await sampleIds(db);
    await db.end();

    const ceiling = await httpCeiling();
    results.ceilings = { http: ceiling };
    log(`HTTP ceiling: ${ceiling.requestsPerSecond.toFixed(0)} req/s`);
    results.ceilings.storage = await pkLoop(databaseUrl, ids.patient, SECONDS, CONNECTIONS);
    log(`storage ceiling: ${results.ceilings.storage.requestsPerSecond.toFixed(0)} lookups/s`);

    for (const scenario of scenarios(ids)) {
      const measured = await load(`${server.base}/fhir/${scenario.path}`, token, scenario);
      const rssMb = rssOf(server.pid);
      results.scenarios.push({
        name: scenario.name,
        ...measured,
        rssMb,
        ratioToHttpCeiling: measured.requestsPerSecond / ceiling.requestsPerSecond,
        ratioToStorageCeiling: measured.requestsPerSecond / results.ceilings.storage.requestsPerSecond,
      });
      log(`${scenario.name}: ${measured.requestsPerSecond.toFixed(0)} req/s, p95 ${measured.latency.p95} ms, errors ${measured.errors + measured.non2xx}`);
    }
  } finally {
    server?.stop();
    await admin.query(`DROP SCHEMA ${schema} CASCADE`).catch(() => undefined);
    await admin.end();
  }
  mkdirSync(path.join(root, 'bench/results'), { recursive: true });
  const file = path.join(root, 'bench/results', `${results.startedAt.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(path.join(root, 'docs/PERFORMANCE.md'), performanceMarkdown(results, path.relative(root, file)));
  log(`results in ${path.relative(root, file)} and docs/PERFORMANCE.md`);
}

/** The scenarios of the benchmarks issue that this runner measures so far, on ids taken from the loaded data. */
function scenarios(ids) {
  const carePlan = {
    resourceType: 'CarePlan',
    status: 'draft',
    intent: 'plan',
    subject: { reference: `Patient/${ids.patient}` },
    description: 'benchmark plan',
  };
  return [
    { name: 'read Patient by id', path: `Patient/${ids.patient}` },
    { name: 'vread Patient', path: `Patient/${ids.patient}/_history/1` },
    { name: 'search CarePlan?patient=…&status=active', path: `CarePlan?patient=Patient/${ids.carePlanPatient}&status=active` },
    { name: 'search … &_include=CarePlan:care-team', path: `CarePlan?patient=Patient/${ids.carePlanPatient}&status=active&_include=CarePlan:care-team` },
    { name: 'search Patient?identifier=…', path: `Patient?identifier=${encodeURIComponent(ids.identifier)}` },
    { name: 'create CarePlan (validated, audited)', path: 'CarePlan', method: 'POST', body: JSON.stringify(carePlan) },
  ];
}

async function load(target, token, { method = 'GET', body }) {
  const result = await autocannon({
    url: target,
    method,
    body,
    connections: CONNECTIONS,
    duration: SECONDS,
    headers: { authorization: `Bearer ${token}`, accept: 'application/fhir+json', ...(body ? { 'content-type': 'application/fhir+json' } : {}) },
  });
  return {
    requestsPerSecond: result.requests.average,
    requests: result.requests.total,
    latency: { p50: result.latency.p50, p95: percentile(result.latency, 95), p99: result.latency.p99 },
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

/** autocannon reports p90 and p97.5 but not p95: the nearer upper one, so the figure is never flattering. */
function percentile(latency, p) {
  return latency[`p${p}`] ?? latency.p97_5;
}

/** The real server on the benchmark schema, pinned to the second core; resolves with its base URL and bootstrap secret. */
function startServer(databaseUrl) {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const [command, args] = pinned(1, 'node', ['dist/server/main.js']);
  const child = spawn(command, args, { cwd: root, env: { ...process.env, DATABASE_URL: databaseUrl, PORT: String(port), LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  const base = `http://127.0.0.1:${port}`;
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 60_000;
    const poll = async () => {
      const secret = /client_id local-admin\s+client_secret (\S+)/.exec(output)?.[1];
      const up = await fetch(`${base}/fhir/metadata`).then((r) => r.ok, () => false);
      if (up && secret) return resolve({ base, secret, pid: child.pid, stop: () => child.kill('SIGTERM') });
      if (Date.now() > deadline || child.exitCode !== null) return reject(new Error(`the server did not start:\n${output}`));
      setTimeout(poll, 250);
    };
    poll();
  });
}

async function accessToken(base, secret) {
  const response = await fetch(`${base}/auth/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`local-admin:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials&scope=system%2F*.cruds',
  });
  const body = await response.json();
  if (!body.access_token) throw new Error(`no access token: ${JSON.stringify(body)}`);
  // Backend tokens live five minutes: long enough for a run of this size, so one is enough.
  return body.access_token;
}

/** A patient, a patient with an active CarePlan, and a patient identifier, from the loaded data. */
async function sampleIds(db) {
  const one = async (sql) => (await db.query(sql)).rows[0];
  const patient = (await one("SELECT id FROM resource WHERE resource_type = 'Patient' AND NOT deleted ORDER BY rid LIMIT 1 OFFSET 50")).id;
  const carePlanPatient = (await one(`SELECT i.target_id AS id FROM search_reference i JOIN search_token s ON s.rid = i.rid AND s.param = 'status' AND s.code = 'active'
    WHERE i.resource_type = 'CarePlan' AND i.param = 'patient' LIMIT 1`)).id;
  const identifier = await one(`SELECT system, code FROM search_token WHERE resource_type = 'Patient' AND param = 'identifier' AND system IS NOT NULL AND code IS NOT NULL LIMIT 1`);
  return { patient, carePlanPatient, identifier: `${identifier.system}|${identifier.code}` };
}

/** The HTTP ceiling: a bare node:http server answering a fixed Patient, on the same core the FHIR server used. */
async function httpCeiling() {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const [command, args] = pinned(1, 'node', [path.join(root, 'bench/ceiling-http.mjs'), String(port)]);
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve) => child.stdout.once('data', resolve));
  try {
    return await load(`http://127.0.0.1:${port}/fhir/Patient/1`, 'none', {});
  } finally {
    child.kill('SIGTERM');
  }
}

function rssOf(pid) {
  try {
    const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
    return Math.round(kb / 1024);
  } catch {
    return undefined;
  }
}

function machine() {
  const pgVersion = (() => {
    try {
      return execFileSync('psql', ['--version'], { encoding: 'utf8' }).trim();
    } catch {
      return undefined;
    }
  })();
  return { cores: os.cpus().length, cpu: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, postgres: pgVersion, os: `${os.type()} ${os.release()}` };
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
