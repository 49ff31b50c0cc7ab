// Jest global setup: compile the server once (incremental tsc into dist/) before any suite starts, so suites
// that run `node dist/server/main.js` as a real process test the current sources and never build concurrently.
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export default async function buildServer() {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, env, stdio: 'inherit' });
  await makePgliteTemplate(root);
}

/**
 * A migrated empty embedded database, dumped once per run for test/support/backends.ts to start each suite's PGlite
 * from (workers inherit the variable): creating and migrating one in WebAssembly takes seconds, loading a copy about one.
 * And the same as a DATA_DIR folder (loaded from the dump: about a second), which test/support/data-dir.ts copies:
 * a server process or CLI on a fresh folder spent ~4.5 s of CPU creating and migrating it.
 */
async function makePgliteTemplate(root) {
  const { openDatabase } = await import(path.join(root, 'dist/server/store/open.js'));
  const { dumpPglite, openPglite } = await import(path.join(root, 'dist/server/store/pglite.js'));
  const { LOCK_FILE } = await import(path.join(root, 'dist/server/store/data-dir-lock.js'));
  const db = await openDatabase({});
  let dump;
  try {
    dump = await dumpPglite(db);
    const file = path.join(root, 'dist', 'test-pglite-template.tar');
    writeFileSync(file, Buffer.from(await dump.arrayBuffer()));
    process.env.CCP_TEST_PGLITE_TEMPLATE = file;
  } finally {
    await db.close();
  }
  // The same database as a DATA_DIR folder, for test/support/data-dir.ts to copy for server processes and CLIs.
  const dir = path.join(root, 'dist', 'test-data-dir-template');
  rmSync(dir, { recursive: true, force: true });
  const folder = await openPglite(dir, dump);
  await folder.close();
  if (existsSync(path.join(dir, LOCK_FILE))) throw new Error(`${dir}: the data-dir lock was left behind`);
  process.env.CCP_TEST_DATA_DIR_TEMPLATE = dir;
}
