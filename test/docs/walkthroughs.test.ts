import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { curlCount, docBlocks, PRELUDE, type ExpectedAnswer, type ShellBlock } from '../support/doc-walkthroughs.js';
import { migratedDataDir } from '../support/data-dir.js';
import { childEnv, freePort, PROJECT_ROOT, startServerProcess, type ServerProcess } from '../support/server-process.js';

/**
 * Every curl walk-through of the README and the docs, run literally, in page order, by bash against a real
 * server on a fresh demo world — as a new user would after `npm run demo` and pasting the lines it printed. The
 * pages write `http://localhost:8080`; here the server listens on a free port, so that one string is replaced.
 * The pages run in this order on one world: later pages may rely on what earlier ones did (the audit trail).
 */
const PAGES = ['docs/DEMO.md', 'README.md', 'docs/CCP.md', 'docs/CONSENT.md', 'docs/SECURITY.md', 'docs/AUDIT.md', 'docs/NOTIFICATIONS.md', 'docs/BULK.md'];
const DOCUMENTED_ORIGIN = 'http://localhost:8080';

describe('the walk-throughs of the docs, on the demo world', () => {
  const dataDir = migratedDataDir(mkdtempSync(path.join(os.tmpdir(), 'ccp-walk-')));
  let server: ServerProcess;
  let exports = '';

  beforeAll(async () => {
    const demo = spawnSync(process.execPath, [path.join(PROJECT_ROOT, 'scripts/demo.mjs')], {
      cwd: PROJECT_ROOT,
      env: childEnv({ DATA_DIR: dataDir, LOG_LEVEL: 'warn' }),
      encoding: 'utf8',
      timeout: 240_000,
    });
    if (demo.status !== 0) throw new Error(`npm run demo failed (${demo.status}):\n${demo.stdout}\n${demo.stderr}`);
    exports = demo.stdout.split('\n').filter((line) => line.startsWith('export ')).join('\n');
    expect(exports).toMatch(/export COORDINATOR_PASSWORD=/);

    const port = await freePort();
    // Loopback rest-hooks, as docs/NOTIFICATIONS.md tells its readers to start the server: its sample receiver
    // listens on 127.0.0.1.
    server = startServerProcess('walk-throughs', port, {
      DATA_DIR: dataDir,
      AUTH_DISABLED: 'false',
      HOSTING_ORGANIZATION: 'host',
      LOG_LEVEL: 'warn',
      SUBSCRIPTION_ALLOW_LOOPBACK: 'true',
    });
    await server.ready(60_000);
  }, 300_000);

  afterAll(async () => {
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it.each(PAGES)('%s: each curl in a block that runs has its documented answer', (page) => {
    const blocks = docBlocks(PROJECT_ROOT, page);
    expect(blocks.filter((block) => block.run).length).toBeGreaterThan(0);
    for (const block of blocks.filter((b) => b.run)) {
      expect({ line: block.line, curls: curlCount(block.code) }).toEqual({ line: block.line, curls: block.expected.length });
    }
  });

  // Sequential on purpose: one world, in the order a reader goes through the pages.
  for (const page of PAGES) {
    it(`${page}: every step answers as the page says`, async () => {
      const blocks = docBlocks(PROJECT_ROOT, page).filter((block) => block.run);
      const walkDir = mkdtempSync(path.join(os.tmpdir(), 'ccp-walk-calls-'));
      try {
        const run = await runBash(script(blocks, server.origin), { WALK_DIR: walkDir, CCP_URL: server.origin });
        const calls = recordedCalls(walkDir);
        const expected = blocks.flatMap((block) => block.expected);
        const context = `${page}, bash exit ${run.code}\n--- stderr ---\n${run.stderr.slice(-4000)}\n--- server ---\n${server.output().slice(-2000)}`;
        if (run.code !== 0 || calls.length !== expected.length) {
          throw new Error(`${context}\n--- calls made: ${calls.length} of ${expected.length} ---\n${calls.map(describeCall).join('\n')}`);
        }
        calls.forEach((call, n) => expectAnswer(page, expected[n]!, call));
      } finally {
        rmSync(walkDir, { recursive: true, force: true });
      }
    }, 180_000);
  }

  function script(blocks: ShellBlock[], origin: string): string {
    const steps = blocks.map((block) => `WALK_LINE=${block.line}\n${block.code.split(DOCUMENTED_ORIGIN).join(origin)}`);
    return [PRELUDE, exports, `export CCP_URL=${origin}`, ...steps].join('\n');
  }
});

interface Call {
  n: number;
  blockLine: string;
  status: string;
  body: string;
}

function recordedCalls(walkDir: string): Call[] {
  const count = Number(readFileSync(path.join(walkDir, 'count'), 'utf8').trim());
  return Array.from({ length: count }, (_, i) => {
    const n = i + 1;
    const read = (name: string) => (existsSync(path.join(walkDir, `${name}.${n}`)) ? readFileSync(path.join(walkDir, `${name}.${n}`), 'utf8') : '');
    return { n, blockLine: read('line').trim(), status: read('status').trim(), body: read('body') };
  });
}

const describeCall = (call: Call) => `call ${call.n} (block at line ${call.blockLine}): ${call.status} ${call.body.slice(0, 300)}`;

function expectAnswer(page: string, expected: ExpectedAnswer, call: Call): void {
  const where = `${page}:${expected.line}`;
  if (call.status !== String(expected.status)) {
    throw new Error(`${where} documents ${expected.status}, the server answered ${describeCall(call)}`);
  }
  for (const fragment of expected.contains) {
    if (!call.body.includes(fragment)) throw new Error(`${where} documents an answer containing ${fragment}; got ${describeCall(call)}`);
  }
}

function runBash(text: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', text], { cwd: PROJECT_ROOT, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
