import { cpSync, readdirSync } from 'node:fs';

/**
 * A DATA_DIR holding a migrated, otherwise empty embedded database: a copy of the folder jest's global setup made
 * once per run (test/support/build-server.mjs). A server process or CLI started on an empty folder creates and
 * migrates the database itself, ~4.5 s of CPU each in WebAssembly; on the copy it finds the schema current, as it
 * would after its own first start was cut short before anything else (the guide, the terms, the first-start
 * accounts are still its own to write). What only an empty folder shows (the database created by the server
 * process) stays with the suites that start on one: test/auth/first-start.test.ts, and test/cli.test.ts's restarts.
 *
 * `dir` must be new or empty. Without the template (a run without the global setup) it is left empty.
 */
export function migratedDataDir(dir: string): string {
  const template = process.env.CCP_TEST_DATA_DIR_TEMPLATE;
  if (!template) return dir;
  try {
    if (readdirSync(dir).length) throw new Error(`${dir} is not empty: a migrated database is copied only into a new folder`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  cpSync(template, dir, { recursive: true });
  return dir;
}
