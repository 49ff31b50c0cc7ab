// The real server for a benchmark: started on a database, pinned to the second core where taskset exists, with
// helpers for the tokens a scenario needs (the bootstrap backend client's, and a partner's, which consent holds).
import { spawn, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const PINNED = existsSync('/usr/bin/taskset') && os.cpus().length >= 2;

/** Pins this process (the load generator) to the first core, leaving the second to the server. */
export function pinSelf() {
  if (PINNED) execFileSync('taskset', ['-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });
}

/**
 * `node dist/server/main.js` on `databaseUrl` at a free-looking port; resolves once it answers and has printed
 * the bootstrap client's secret (first start on that database) with `{ base, secret, pid, stop }`.
 */
export function startServer(databaseUrl, env = {}) {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const args = ['dist/server/main.js'];
  const child = PINNED
    ? spawn('taskset', ['-c', '1', 'node', ...args], { cwd: root, env: { ...process.env, DATABASE_URL: databaseUrl, PORT: String(port), LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'inherit'] })
    : spawn('node', args, { cwd: root, env: { ...process.env, DATABASE_URL: databaseUrl, PORT: String(port), LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  let printed = '';
  child.stdout.on('data', (chunk) => (printed += chunk));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  return new Promise((resolve, reject) => {
    const poll = async () => {
      const secret = /client_id local-admin\s+client_secret (\S+)/.exec(printed)?.[1];
      const answers = await fetch(`${base}/fhir/metadata`).then((response) => response.ok, () => false);
      if (answers && secret) return resolve({ base, secret, pid: child.pid, stop: () => child.kill('SIGTERM') });
      if (Date.now() > deadline || child.exitCode !== null) return reject(new Error(`the server did not start:\n${printed}`));
      setTimeout(poll, 250);
    };
    poll();
  });
}

/** A client_credentials token (backend tokens last five minutes: take a new one per measurement). */
export async function clientToken(base, clientId, secret, scope = 'system/*.cruds') {
  const response = await fetch(`${base}/auth/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope }).toString(),
  });
  const body = await response.json();
  if (!body.access_token) throw new Error(`no access token for ${clientId}: ${JSON.stringify(body)}`);
  return body.access_token;
}

/**
 * Registers (once) a backend client acting for `organization`, a partner: registrations and directives hold it
 * back (server/access/consent-gate.ts). The Organization must be stored already. Resolves with a function that
 * issues a fresh token for it.
 */
export async function partnerClient(base, adminSecret, organization, clientId = `bench-${organization}`) {
  const admin = await clientToken(base, 'local-admin', adminSecret, 'admin');
  const response = await fetch(`${base}/auth/admin/clients`, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      client_id: clientId,
      client_name: `Benchmark partner (${organization})`,
      kind: 'backend',
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'system/CarePlan.rs system/Goal.rs system/CareTeam.rs system/Condition.rs system/Patient.rs',
      organization: `Organization/${organization}`,
    }),
  });
  const body = await response.json();
  if (!body.client_secret) throw new Error(`the partner client was not registered: ${JSON.stringify(body)}`);
  return () => clientToken(base, clientId, body.client_secret, 'system/CarePlan.rs');
}
