import { PGlite, type Transaction } from '@electric-sql/pglite';
import type { Database } from './database.js';

/**
 * The embedded database: PostgreSQL compiled to WebAssembly, in this process, kept in `dataDir`
 * (in memory when `dataDir` is undefined, which the tests use).
 */
export async function openPglite(dataDir?: string): Promise<Database> {
  const db = await PGlite.create(dataDir);
  return new PgliteDatabase(db);
}

class PgliteDatabase implements Database {
  readonly dialect = 'pglite' as const;

  constructor(private readonly target: PGlite | Transaction) {}

  // PGlite runs in this process and keeps no statements per connection: `prepared` changes nothing here.
  async query<Row>(sql: string, params: unknown[] = []): Promise<Row[]> {
    const result = await this.target.query<Row>(sql, params);
    return result.rows;
  }

  async exec(sql: string): Promise<void> {
    await this.target.exec(sql);
  }

  async transaction<T>(work: (tx: Database) => Promise<T>): Promise<T> {
    if (!(this.target instanceof PGlite)) return work(this);
    return this.target.transaction((tx) => work(new PgliteDatabase(tx)));
  }

  async close(): Promise<void> {
    if (this.target instanceof PGlite) await this.target.close();
  }
}
