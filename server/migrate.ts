import { ConfigError, loadConfig } from './config/config.js';
import { MIGRATIONS } from './store/migrations/index.js';
import { addAuditPartitions } from './store/audit-partitions.js';
import { migrate } from './store/migrate.js';
import { openPglite } from './store/pglite.js';
import { openPostgres } from './store/postgres.js';

/**
 * `npm run migrate`: brings the configured database's schema up to date and stops, as every server start does
 * first. For deployments whose server role may only read and write the tables (docs/DEPLOY.md): the role that owns
 * the schema runs this before the servers start, at installation and at each upgrade.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const db = config.databaseUrl ? openPostgres(config.databaseUrl, 1) : await openPglite(config.dataDir);
  try {
    const applied = await migrate(db);
    await addAuditPartitions(db);
    const names = MIGRATIONS.filter((migration) => applied.includes(migration.version)).map((migration) => `${migration.version} ${migration.name}`);
    console.log(applied.length ? `applied ${applied.length} migrations: ${names.join(', ')}` : `the schema is up to date (${MIGRATIONS.length} migrations)`);
  } finally {
    await db.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : `migrate failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
