import type { Database } from './database.js';
import { openPglite } from './pglite.js';
import { openPostgres } from './postgres.js';
import { addAuditPartitions } from './audit-partitions.js';
import { migrate } from './migrate.js';

export interface DatabaseOptions {
  databaseUrl?: string;
  dataDir?: string;
}

/** Opens the configured database and brings its schema up to date. */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  const db = options.databaseUrl ? openPostgres(options.databaseUrl) : await openPglite(options.dataDir);
  try {
    await migrate(db);
    await addAuditPartitions(db);
    return db;
  } catch (error) {
    await db.close();
    throw error;
  }
}
