// Jest global setup: compile the server once (incremental tsc into dist/) before any suite starts, so suites
// that run `node dist/server/main.js` as a real process test the current sources and never build concurrently.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
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
 */
async function makePgliteTemplate(root) {
  const { openDatabase } = await import(path.join(root, 'dist/server/store/open.js'));
  const { dumpPglite } = await import(path.join(root, 'dist/server/store/pglite.js'));
  const db = await openDatabase({});
  try {
    const file = path.join(root, 'dist', 'test-pglite-template.tar');
    writeFileSync(file, Buffer.from(await (await dumpPglite(db)).arrayBuffer()));
    process.env.CCP_TEST_PGLITE_TEMPLATE = file;
  } finally {
    await db.close();
  }
}
