import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is test/support/server-process.ts). */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A port nobody listens on right now (the OS picks it; it is released again before being returned). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => (port ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

/** `node dist/server/main.js` in a child process, listening on 127.0.0.1:`port`. */
export interface ServerProcess {
  name: string;
  port: number;
  /** http://127.0.0.1:port */
  origin: string;
  /** http://127.0.0.1:port/fhir */
  fhir: string;
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far (for failure messages). */
  output(): string;
  /** Resolves when GET /readyz answers 200; rejects if the process exits first or `timeoutMs` passes. */
  ready(timeoutMs?: number): Promise<void>;
  /** SIGTERM, then waits for the exit (SIGKILL after `graceMs`). Resolves with the exit code or signal. */
  stop(graceMs?: number): Promise<number | NodeJS.Signals | null>;
}

export function startServerProcess(name: string, port: number, env: Record<string, string>): ServerProcess {
  const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'dist', 'server', 'main.js')], {
    cwd: PROJECT_ROOT,
    // Plain FHIR behaviour is tested without tokens; suites about authorization pass AUTH_DISABLED: 'false'.
    env: childEnv({ HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn', AUTH_DISABLED: 'true', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode ?? child.signalCode);
    child.once('exit', (code, signal) => resolve(code ?? signal));
  });
  const origin = `http://127.0.0.1:${port}`;

  return {
    name,
    port,
    origin,
    fhir: `${origin}/fhir`,
    child,
    output: () => output,
    async ready(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(`server ${name} exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${output}`);
        }
        try {
          const response = await fetch(`${origin}/readyz`);
          await response.arrayBuffer();
          if (response.status === 200) return;
        } catch {
          // not listening yet
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`server ${name} was not ready within ${timeoutMs} ms:\n${output}`);
    },
    async stop(graceMs = 10_000) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** The test's environment minus what only makes sense inside jest (NODE_OPTIONS=--experimental-vm-modules). */
export function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env.NODE_OPTIONS;
  delete env.JEST_WORKER_ID;
  return env;
}
