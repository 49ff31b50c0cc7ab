import { execFile } from 'node:child_process';
import path from 'node:path';
import type { Bundle, Resource } from 'fhir/r4';
import { childEnv, PROJECT_ROOT } from '../support/server-process.js';

/** What a command printed and how it ended. */
export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `node scripts/NAME ARGS` as `npm run …` runs it (dist/ is built by jest's global setup). */
export function runScript(name: string, args: string[], env: Record<string, string> = {}, timeoutMs = 240_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(PROJECT_ROOT, 'scripts', name), ...args], { cwd: PROJECT_ROOT, env: childEnv({ LOG_LEVEL: 'warn', ...env }), timeout: timeoutMs }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** `node dist/server/import.js ARGS`, as `npm run import -- ARGS` runs it. */
export function runImport(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(PROJECT_ROOT, 'dist/server/import.js'), ...args], { cwd: PROJECT_ROOT, env: childEnv({ LOG_LEVEL: 'warn', ...env }), timeout: 180_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * The `export NAME='value'` lines of the demo's output, in order, as a shell would read them after `eval`. A line
 * starting with `export ` in any other shape fails: the walk-throughs eval every such line.
 */
export function exportsOf(stdout: string): Array<[string, string]> {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('export '))
    .map((line) => {
      const match = /^export ([A-Z_]+)=(?:'([^']*)'|([^'\s]+))$/.exec(line);
      if (!match) throw new Error(`not a shell assignment a walk-through can eval: ${line}`);
      return [match[1], match[2] ?? match[3]];
    });
}

/** A GET (or other request) to the FHIR API with a bearer token: status and parsed body. */
export async function fhir<T = Resource>(url: string, token: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
  const response = await fetch(url, { ...init, headers: { Authorization: `Bearer ${token}`, Accept: 'application/fhir+json', ...(init.body ? { 'Content-Type': 'application/fhir+json' } : {}), ...init.headers } });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

/** The resources of a search answer's `match` entries. */
export function matches<T extends Resource>(bundle: Bundle): T[] {
  return (bundle.entry ?? []).filter((entry) => entry.search?.mode !== 'include').map((entry) => entry.resource as T);
}
