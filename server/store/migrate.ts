import { type Database, SQLSTATE, sqlState } from './database.js';
import { MIGRATIONS, type Migration } from './migrations/index.js';

/** Any constant works; it only has to be the same in every server process sharing the database. */
const MIGRATION_LOCK = 7_041_905_821;

const LEDGER = `CREATE TABLE IF NOT EXISTS schema_migration (
  version    integer PRIMARY KEY,
  name       text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
)`;

/**
 * Brings the schema up to date. Several server processes may start at once against one PostgreSQL: an
 * advisory lock held for the transaction lets exactly one of them apply each migration.
 */
export async function migrate(db: Database, migrations: Migration[] = MIGRATIONS): Promise<number[]> {
  const applied: number[] = [];
  for (const migration of migrations) {
    const done = await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      // Created only when missing: CREATE TABLE IF NOT EXISTS asks for the schema's CREATE privilege even when the
      // table is there, which a role that only reads and writes the tables lacks (docs/DEPLOY.md).
      const [ledger] = await tx.query<{ present: boolean }>(`SELECT to_regclass('schema_migration') IS NOT NULL AS present`);
      if (!ledger?.present) await tx.exec(LEDGER);
      const rows = await tx.query('SELECT 1 FROM schema_migration WHERE version = $1', [migration.version]);
      if (rows.length) return false;
      await tx.exec(migration.up).catch((error: unknown) => {
        throw sqlState(error) === SQLSTATE.insufficientPrivilege
          ? new Error(`migration ${migration.version} (${migration.name}) is due and this database role may not apply it (${(error as Error).message}): run it as the role that owns the schema (docs/DEPLOY.md)`)
          : error;
      });
      await tx.query('INSERT INTO schema_migration (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
      return true;
    });
    if (done) applied.push(migration.version);
  }
  return applied;
}
