import { migrate } from '../../server/store/migrate.js';
import { MIGRATIONS } from '../../server/store/migrations/index.js';
import { openPostgres } from '../../server/store/postgres.js';
import { BACKENDS, createEmptySchema, itWithPostgres, reportBackends } from '../support/backends.js';
import { createReadWriteRole } from '../support/database-role.js';

reportBackends();

describe.each(BACKENDS)('migrations on $name', (backend) => {
  it('are applied once: a second run, and concurrent runs, apply nothing more', async () => {
    const { db, close } = await backend.open();
    try {
      expect(await migrate(db)).toEqual([]);
      const runs = await Promise.all([migrate(db), migrate(db), migrate(db)]);
      expect(runs).toEqual([[], [], []]);
      const rows = await db.query<{ version: number }>('SELECT version FROM schema_migration ORDER BY version');
      expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
    } finally {
      await close();
    }
  });

  it('a failing migration rolls back whole and is not recorded', async () => {
    const { db, close } = await backend.open();
    try {
      const broken = { version: 9999, name: 'broken', up: 'CREATE TABLE half_done (x int); SELECT no_such_function();' };
      await expect(migrate(db, [...MIGRATIONS, broken])).rejects.toThrow();
      const table = await db.query("SELECT 1 FROM information_schema.tables WHERE table_name = 'half_done'");
      expect(table).toHaveLength(0);
      expect(await db.query('SELECT 1 FROM schema_migration WHERE version = 9999')).toHaveLength(0);
    } finally {
      await close();
    }
  });
});

describe('migrations run by a role that may only read and write the tables (docs/DEPLOY.md)', () => {
  itWithPostgres('find the schema up to date, and refuse a migration that is due, naming it', async (url) => {
    const schema = await createEmptySchema(url);
    await migrate(schema.db);
    const role = await createReadWriteRole(url, schema.schema, schema.url);
    const db = openPostgres(role.url);
    try {
      expect(await migrate(db)).toEqual([]);
      const next = { version: 9999, name: 'next', up: 'CREATE TABLE later (x int)' };
      await expect(migrate(db, [...MIGRATIONS, next])).rejects.toThrow(/^migration 9999 \(next\) is due and this database role may not apply it \(permission denied for schema/);
      expect(await db.query('SELECT 1 FROM schema_migration WHERE version = 9999')).toHaveLength(0);
    } finally {
      await db.close();
      await role.drop();
      await schema.close();
    }
  });
});
