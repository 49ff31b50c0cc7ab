import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Database } from '../../server/store/database.js';
import { migrate } from '../../server/store/migrate.js';
import { openDatabase } from '../../server/store/open.js';
import { openPglite } from '../../server/store/pglite.js';
import { openPostgres } from '../../server/store/postgres.js';

/**
 * The databases every storage-touching suite runs against: the embedded PGlite always, and PostgreSQL too
 * when TEST_DATABASE_URL is set (CI sets it). Each opened database is private to its suite: PGlite in memory,
 * PostgreSQL in a schema of its own that is dropped afterwards.
 */
export interface Backend {
  name: 'pglite' | 'postgres';
  open(): Promise<TestDatabase>;
}

export interface TestDatabase {
  db: Database;
  /** For PostgreSQL: a connection string that reaches the same private schema (for server processes). */
  url?: string;
  close(): Promise<void>;
}

const pglite: Backend = {
  name: 'pglite',
  async open() {
    const db = await openMigratedPglite();
    return { db, close: () => db.close() };
  },
};

/** jest's global setup (build-server.mjs) dumps a migrated empty PGlite once per run; each suite starts from a copy. */
const TEMPLATE = process.env.CCP_TEST_PGLITE_TEMPLATE;
let template: Blob | undefined;

async function openMigratedPglite(): Promise<Database> {
  if (!TEMPLATE) return openDatabase({});
  template ??= new Blob([readFileSync(TEMPLATE)]);
  const db = await openPglite(undefined, template);
  await migrate(db); // nothing to do unless the migrations changed since the dump: then it catches up
  return db;
}

export function postgresBackend(baseUrl: string): Backend {
  return {
    name: 'postgres',
    async open() {
      const schema = await createEmptySchema(baseUrl);
      await migrate(schema.db);
      return schema;
    },
  };
}

/** A schema of its own on a PostgreSQL server, created empty (not migrated), dropped by `close`. */
export interface EmptySchema extends TestDatabase {
  schema: string;
  /** Connection string whose sessions use the schema (DATABASE_URL for a server process). */
  url: string;
}

export async function createEmptySchema(baseUrl: string): Promise<EmptySchema> {
  const schema = `test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const admin = openPostgres(baseUrl, 1);
  await admin.exec(`CREATE SCHEMA ${schema}`);
  const url = withSearchPath(baseUrl, schema);
  const db = openPostgres(url);
  return {
    schema,
    url,
    db,
    async close() {
      await db.close();
      await admin.exec(`DROP SCHEMA ${schema} CASCADE`);
      await admin.close();
    },
  };
}

/** A connection string whose sessions use `schema` (libpq's `options` parameter, which `pg` passes on). */
export function withSearchPath(url: string, schema: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set('options', `-c search_path=${schema}`);
  return parsed.toString();
}

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL?.trim() || undefined;

export const BACKENDS: Backend[] = [pglite, ...(TEST_DATABASE_URL ? [postgresBackend(TEST_DATABASE_URL)] : [])];

/** Said once per suite that depends on it, so a run without PostgreSQL says so instead of passing quietly. */
export function reportBackends(): void {
  if (!TEST_DATABASE_URL) {
    console.warn('TEST_DATABASE_URL is not set: this suite runs on PGlite only, not on PostgreSQL.');
  }
}

/**
 * A suite that needs PostgreSQL (a server process, a TCP proxy, two pools on one schema). Without TEST_DATABASE_URL
 * it does not run and says so: a warning naming what is left out, and one test recording why in the results.
 */
export function describeWithPostgres(title: string, leftOut: string, suite: (url: string) => void): void {
  const url = TEST_DATABASE_URL;
  if (url) return void describe(title, () => suite(url));
  describe(title, () => {
    console.warn(`TEST_DATABASE_URL is not set: ${leftOut} do NOT run. Set TEST_DATABASE_URL=postgres://… to run them.`);
    it('does not run without TEST_DATABASE_URL (skipped on purpose, see the warning above)', () => {
      expect(TEST_DATABASE_URL).toBeUndefined();
    });
  });
}

/** One test that needs PostgreSQL, in a suite that otherwise does not: without TEST_DATABASE_URL it says why it did not run. */
export function itWithPostgres(name: string, test: (url: string) => Promise<void>, timeoutMs?: number): void {
  const url = TEST_DATABASE_URL;
  if (url) return void it(name, () => test(url), timeoutMs);
  it(`${name}: not run, it needs PostgreSQL and TEST_DATABASE_URL is not set`, () => {
    expect(TEST_DATABASE_URL).toBeUndefined();
  });
}
