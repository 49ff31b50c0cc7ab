import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { currentHolder, DataDirLockedError, LOCK_FILE, lockDataDir, readHolder, type LockHolder } from '../../server/store/data-dir-lock.js';
import { migratedDataDir } from '../support/data-dir.js';
import { childEnv, freePort, PROJECT_ROOT, type ServerProcess, startServerProcess } from '../support/server-process.js';

/**
 * The embedded database belongs to one process (server/store/data-dir-lock.ts), tested with real processes:
 * `node dist/server/main.js` and the CLIs as npm runs them (dist is built by jest's global setup).
 */

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function runCli(script: string, args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(PROJECT_ROOT, 'dist/server', script), ...args], { env: childEnv({ LOG_LEVEL: 'warn', ...env }), timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

async function createPatient(server: ServerProcess, family: string): Promise<void> {
  const response = await fetch(`${server.fhir}/Patient`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/fhir+json' },
    body: JSON.stringify({ resourceType: 'Patient', name: [{ family }] }),
  });
  await response.arrayBuffer();
  expect(response.status).toBe(201);
}

async function patientFamilies(server: ServerProcess): Promise<string[]> {
  const response = await fetch(`${server.fhir}/Patient?_count=100&_elements=name`);
  expect(response.status).toBe(200);
  const bundle = (await response.json()) as { entry?: { resource: { name: { family: string }[] } }[] };
  return (bundle.entry ?? []).map((entry) => entry.resource.name[0].family).sort();
}

/** Runs `node -e` until it exits: its pid is then free (a reuse later is told apart by the start time). */
function deadPid(): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', () => resolve(child.pid!));
  });
}

function writeLock(dataDir: string, holder: LockHolder): void {
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(path.join(dataDir, LOCK_FILE), JSON.stringify(holder));
}

describe('the embedded database folder belongs to one process', () => {
  const work = mkdtempSync(path.join(os.tmpdir(), 'ccp-lock-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('refuses a second server, an import, a reindex and a purge while a server holds DATA_DIR, and loses nothing', async () => {
    const dataDir = migratedDataDir(path.join(work, 'held'));
    const first = startServerProcess('first', await freePort(), { DATA_DIR: dataDir });
    try {
      await first.ready(60_000);
      for (const family of ['Alpha', 'Bravo', 'Charlie']) await createPatient(first, family);

      const second = startServerProcess('second', await freePort(), { DATA_DIR: dataDir });
      // It exits by itself, before it listens (no signal from us).
      expect(await exitOf(second.child)).toBe(1);
      const refusal = `The embedded database in ${dataDir} is in use by process ${first.child.pid} (node main.js), started `;
      expect(second.output()).toContain(refusal);
      expect(second.output()).toMatch(/started \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\. Stop it first/);
      expect(second.output()).not.toMatch(/\bat .+\.js:\d+/);

      const patients = path.join(work, 'patients.ndjson');
      writeFileSync(patients, `${JSON.stringify({ resourceType: 'Patient', id: 'imported', name: [{ family: 'Imported' }] })}\n`);
      const imported = await runCli('import.js', [patients], { DATA_DIR: dataDir });
      expect(imported.code).toBe(1);
      expect(imported.stderr).toContain(`import failed: The embedded database in ${dataDir} is in use by process ${first.child.pid} (node main.js)`);
      const reindexed = await runCli('reindex.js', [], { DATA_DIR: dataDir });
      expect(reindexed.code).toBe(1);
      expect(reindexed.stderr).toContain(`reindex failed: The embedded database in ${dataDir} is in use by process ${first.child.pid}`);
      const purged = await runCli('purge-audit.js', [], { DATA_DIR: dataDir, AUDIT_RETENTION_DAYS: '1' });
      expect(purged.code).toBe(1);
      expect(purged.stderr).toContain(`purge-audit failed: The embedded database in ${dataDir} is in use by process ${first.child.pid}`);

      // The holder kept its lock and keeps serving.
      expect(readHolder(path.join(dataDir, LOCK_FILE))?.pid).toBe(first.child.pid);
      await createPatient(first, 'Delta');
    } finally {
      expect(await first.stop()).toBe(0);
    }
    // Released on a normal stop.
    expect(existsSync(path.join(dataDir, LOCK_FILE))).toBe(false);

    const again = startServerProcess('again', await freePort(), { DATA_DIR: dataDir });
    try {
      await again.ready(60_000);
      expect(await patientFamilies(again)).toEqual(['Alpha', 'Bravo', 'Charlie', 'Delta']);
    } finally {
      expect(await again.stop()).toBe(0);
    }
  });

  it("takes over the lock a SIGKILLed server left behind", async () => {
    const dataDir = migratedDataDir(path.join(work, 'killed'));
    const killed = startServerProcess('killed', await freePort(), { DATA_DIR: dataDir });
    try {
      await killed.ready(60_000);
    } finally {
      killed.child.kill('SIGKILL');
      expect(await killed.stop()).toBe('SIGKILL');
    }
    expect(readHolder(path.join(dataDir, LOCK_FILE))?.pid).toBe(killed.child.pid);

    const next = startServerProcess('next', await freePort(), { DATA_DIR: dataDir });
    try {
      await next.ready(60_000);
      expect(readHolder(path.join(dataDir, LOCK_FILE))?.pid).toBe(next.child.pid);
    } finally {
      expect(await next.stop()).toBe(0);
    }
    expect(existsSync(path.join(dataDir, LOCK_FILE))).toBe(false);
  });

  it('tells a live holder from a process that merely reuses its id, by the start time', async () => {
    // This test's own process is alive: recorded with its true start time it holds the folder ...
    const dataDir = migratedDataDir(path.join(work, 'reused'));
    const me = currentHolder();
    expect(me.startTicks).toEqual(expect.any(Number)); // Linux: /proc/<pid>/stat is there
    writeLock(dataDir, { ...me, pid: process.pid, command: 'some holder' });
    const refused = await runCli('reindex.js', [], { DATA_DIR: dataDir });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`is in use by process ${process.pid} (some holder), started ${me.startedAt}`);

    // ... recorded with another start time, the id was reused by this process and the lock is stale.
    writeLock(dataDir, { ...me, pid: process.pid, startTicks: me.startTicks! - 1, command: 'some holder' });
    const taken = await runCli('reindex.js', [], { DATA_DIR: dataDir });
    expect(taken.stderr).toBe('');
    expect(taken.code).toBe(0);
    expect(taken.stdout).toMatch(/reindexed \d+ resources/);
    expect(existsSync(path.join(dataDir, LOCK_FILE))).toBe(false);
  });

  it('refuses a second open in the same process and releases on close', () => {
    const dataDir = path.join(work, 'in-process');
    const lock = lockDataDir(dataDir);
    expect(() => lockDataDir(dataDir)).toThrow(DataDirLockedError);
    lock.release();
    expect(existsSync(lock.file)).toBe(false);
    const again = lockDataDir(dataDir);
    again.release();
    lock.release(); // twice: harmless, and it must not remove a lock that is no longer its own
  });

  it('lets exactly one of several processes racing for one stale lock win, in every round', async () => {
    const moduleUrl = pathToFileURL(path.join(PROJECT_ROOT, 'dist/server/store/data-dir-lock.js')).href;
    // Each taker loads the module, says ready, waits for "go", tries, reports, and holds what it won until stdin ends.
    const taker = `
      import { lockDataDir } from ${JSON.stringify(moduleUrl)};
      process.stdout.write('ready\\n');
      process.stdin.once('data', () => {
        try {
          lockDataDir(process.argv[1]);
          process.stdout.write(JSON.stringify({ won: true }) + '\\n');
        } catch (error) {
          process.stdout.write(JSON.stringify({ won: false, message: error.message }) + '\\n');
        }
        process.stdin.resume();
      });
    `;
    const rounds = 8;
    const takers = 4;
    for (let round = 0; round < rounds; round++) {
      const dataDir = path.join(work, `race-${round}`);
      writeLock(dataDir, { ...currentHolder(), pid: await deadPid(), startTicks: 1, command: 'killed' });
      const children: ChildProcess[] = [];
      const lines: Promise<string>[][] = [];
      for (let i = 0; i < takers; i++) {
        const child = spawn(process.execPath, ['--input-type=module', '-e', taker, dataDir], { env: childEnv({}), stdio: ['pipe', 'pipe', 'inherit'] });
        children.push(child);
        lines.push(nextLines(child, 2));
      }
      try {
        await Promise.all(lines.map((child) => child[0]));
        for (const child of children) child.stdin!.write('go\n');
        const results = (await Promise.all(lines.map((child) => child[1]))).map((line) => JSON.parse(line) as { won: boolean; message?: string });
        const winners = children.filter((_, i) => results[i].won).map((child) => child.pid);
        expect(winners).toHaveLength(1);
        const winner = winners[0];
        expect(readHolder(path.join(dataDir, LOCK_FILE))?.pid).toBe(winner);
        for (const result of results.filter((r) => !r.won)) {
          // A loser names the winner: as the holder, or as the one taking the stale lock over.
          expect(result.message).toMatch(new RegExp(`is (in use|being taken over) by process ${winner} `));
        }
      } finally {
        for (const child of children) child.stdin!.end();
        await Promise.all(children.map(exitOf));
      }
      // The winner released on exit; nothing but the lock's own files was ever there.
      expect(existsSync(path.join(dataDir, LOCK_FILE))).toBe(false);
    }
  });
});

/** The child's exit code (or signal), once it exits on its own. */
function exitOf(child: ChildProcess): Promise<number | NodeJS.Signals | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode ?? child.signalCode);
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
}

/** The first `count` lines a child writes to stdout, each as its own promise. */
function nextLines(child: ChildProcess, count: number): Promise<string>[] {
  const resolvers: ((line: string) => void)[] = [];
  const promises = Array.from({ length: count }, () => new Promise<string>((resolve) => resolvers.push(resolve)));
  let buffer = '';
  let seen = 0;
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0 && seen < count) {
      resolvers[seen++](buffer.slice(0, newline));
      buffer = buffer.slice(newline + 1);
    }
  });
  return promises;
}

