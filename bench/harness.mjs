// What run.mjs drives the scenarios with: the real server as a child process on its own core (on PostgreSQL or
// PGlite), the bare HTTP ceiling beside it, access tokens, set-up calls, and the load itself (autocannon).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
export const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
// The server on one core, the load generator on the other, where taskset exists (2-core machine).
export const PIN = existsSync('/usr/bin/taskset') && os.cpus().length >= 2;
export const pinned = (core, command, args) => (PIN ? ['taskset', ['-c', String(core), command, ...args]] : [command, args]);

export function log(message) {
  process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${message}\n`);
}

/** process.env with `env` over it; a key set to undefined is left out (DATABASE_URL for PGlite). */
export function childEnv(env) {
  const merged = { ...process.env, ...env };
  for (const key of Object.keys(merged)) if (merged[key] === undefined) delete merged[key];
  return merged;
}

/**
 * The real server, pinned to the second core, with `env` (DATABASE_URL or DATA_DIR, HOSTING_ORGANIZATION) and
 * `nodeArgs` for its node;
 * resolves with its base URL, the bootstrap client's secret (printed on the first start on an empty database),
 * its pid, and `stop`, which resolves once it has exited. The server refuses a HOSTING_ORGANIZATION its database
 * does not hold, so that Organization is written first (the scenarios' set-up and the generator write it again).
 */
export function startServer(env, { secret: knownSecret, nodeArgs: extraArgs = [] } = {}) {
  if (env.HOSTING_ORGANIZATION) storeOrganization(env, env.HOSTING_ORGANIZATION);
  const port = 20000 + Math.floor(Math.random() * 20000);
  // BENCH_SERVER_ARGS: node's own arguments for the server, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile it.
  // `nodeArgs`: a bench's own (bench/notifications.mjs loads bench/statement-counter.mjs).
  const nodeArgs = [...(process.env.BENCH_SERVER_ARGS ?? '').split(' ').filter(Boolean), ...extraArgs];
  // BENCH_SERVER_CORES: the cores the server may use (`0,1` for WORKERS=2), the second core otherwise.
  const [command, args] = pinned(process.env.BENCH_SERVER_CORES ?? 1, 'node', [...nodeArgs, 'dist/server/main.js']);
  const child = spawn(command, args, { cwd: root, env: childEnv({ ...env, PORT: String(port), LOG_LEVEL: 'warn' }), stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  const base = `http://127.0.0.1:${port}`;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 60_000;
    const poll = async () => {
      const secret = knownSecret ?? /client_id local-admin\s+client_secret (\S+)/.exec(output)?.[1];
      const up = await fetch(`${base}/fhir/metadata`).then((r) => r.ok, () => false);
      if (up && secret) {
        // Stopping waits for the exit: PGlite's data folder is one process's at a time.
        const stop = async () => {
          if (child.exitCode === null) child.kill('SIGTERM');
          await exited;
        };
        return resolve({ base, secret, pid: child.pid, stop });
      }
      if (Date.now() > deadline || child.exitCode !== null) {
        child.kill('SIGTERM');
        return reject(new Error(`the server did not start:\n${output}`));
      }
      setTimeout(poll, 250);
    };
    poll();
  });
}

/** Writes Organization/`id` into the database of `env` with the import (an ndjson line keeps its id: a PUT). */
function storeOrganization(env, id) {
  const folder = mkdtempSync(path.join(os.tmpdir(), 'bench-org-'));
  try {
    const file = path.join(folder, 'organization.ndjson');
    writeFileSync(file, `${JSON.stringify({ resourceType: 'Organization', id, active: true, name: id })}\n`);
    execFileSync('node', ['dist/server/import.js', file], { cwd: root, env: childEnv({ ...env, LOG_LEVEL: 'warn' }), stdio: ['ignore', 'ignore', 'pipe'] });
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

/** A client-credentials token (client_secret_basic). Backend tokens live five minutes: take one per scenario. */
export async function accessToken(base, clientId, secret, scope = 'system/*.cruds') {
  const response = await fetch(`${base}/auth/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope }).toString(),
  });
  const body = await response.json();
  if (!body.access_token) throw new Error(`no access token for ${clientId}: ${JSON.stringify(body)}`);
  return body.access_token;
}

/** One call to the FHIR API (or the admin API) during set-up; any status but the expected ones stops the run. */
export async function call(base, token, method, route, body, expected = [200, 201]) {
  const response = await fetch(`${base}${route}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      accept: 'application/fhir+json',
      ...(body ? { 'content-type': route.startsWith('/auth') ? 'application/json' : 'application/fhir+json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  if (!expected.includes(response.status)) throw new Error(`${method} ${route}: ${response.status} ${text.slice(0, 500)}`);
  return { status: response.status, etag: response.headers.get('etag'), body: text ? JSON.parse(text) : undefined };
}

/**
 * CONNECTIONS connections for SECONDS seconds against `target`. With `setupClient` (autocannon's per-connection
 * hook) each connection builds its own requests; without it every request is the same.
 */
export async function load(target, token, { method = 'GET', body, setupClient }) {
  const result = await autocannon({
    url: target,
    method,
    body,
    connections: CONNECTIONS,
    duration: SECONDS,
    headers: { authorization: `Bearer ${token}`, accept: 'application/fhir+json', ...(body || setupClient ? { 'content-type': 'application/fhir+json' } : {}) },
    ...(setupClient ? { setupClient } : {}),
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

/** The HTTP ceiling: a bare node:http server answering a fixed Patient, on the core the FHIR server uses. */
export async function httpCeiling() {
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

export function rssOf(pid) {
  try {
    const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
    return Math.round(kb / 1024);
  } catch {
    return undefined;
  }
}

/** The commit measured, with `+changes` when server/ differs from it, for telling runs apart. */
export function commitOf() {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'server'], { cwd: root, encoding: 'utf8' }).trim();
    return dirty ? `${commit}+changes` : commit;
  } catch {
    return undefined;
  }
}

export function machine() {
  const attempt = (read) => {
    try {
      return read();
    } catch {
      return undefined;
    }
  };
  return {
    cores: os.cpus().length,
    cpu: os.cpus()[0]?.model,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    postgres: attempt(() => execFileSync('psql', ['--version'], { encoding: 'utf8' }).trim()),
    pglite: attempt(() => JSON.parse(readFileSync(path.join(root, 'node_modules/@electric-sql/pglite/package.json'), 'utf8')).version),
    os: `${os.type()} ${os.release()}`,
  };
}
