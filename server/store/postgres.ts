import pg from 'pg';
import { createHash } from 'node:crypto';
import type { Database, QueryOptions } from './database.js';

/** A PostgreSQL server through a `pg` pool. */
export function openPostgres(connectionString: string, poolSize = 10): Database {
  const pool = new pg.Pool({ connectionString: withoutJit(connectionString), max: poolSize });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', () => undefined);

  return new PostgresDatabase(pool);
}

/**
 * The connection string with `jit=off` added to the session options (keeping any others, such as a search_path).
 * JIT compilation pays off for long analytic queries, not for ours: it fires on the planner's cost estimate, and
 * the nested EXISTS of a partner's consent-gated search estimate high while running in milliseconds, so compiling
 * them cost ~0.5 s a query.
 */
function withoutJit(connectionString: string): string {
  const url = new URL(connectionString);
  const options = url.searchParams.get('options');
  url.searchParams.set('options', `${options ? `${options} ` : ''}-c jit=off`);
  return url.toString();
}

type Queryable = pg.Pool | pg.PoolClient;

/** Prepared statements live as long as their connection: a bound on how many texts each connection keeps. */
const MAX_PREPARED = 200;
const names = new Map<string, string>();

/** The name a statement text is prepared under (the same text, the same name), or none once the bound is reached. */
function statementName(sql: string): string | undefined {
  let name = names.get(sql);
  if (!name && names.size < MAX_PREPARED) {
    name = `s_${createHash('sha256').update(sql).digest('base64url').slice(0, 24)}`;
    names.set(sql, name);
  }
  return name;
}

class PostgresDatabase implements Database {
  readonly dialect = 'postgres' as const;

  constructor(
    private readonly target: Queryable,
    private readonly inTransaction = false,
  ) {}

  async query<Row>(sql: string, params: unknown[] = [], options: QueryOptions = {}): Promise<Row[]> {
    const name = options.prepared ? statementName(sql) : undefined;
    const result = await this.target.query(name ? { name, text: sql, values: params } : { text: sql, values: params });
    return result.rows as Row[];
  }

  async exec(sql: string): Promise<void> {
    await this.target.query(sql);
  }

  async transaction<T>(work: (tx: Database) => Promise<T>): Promise<T> {
    if (this.inTransaction) return work(this);
    const client = await (this.target as pg.Pool).connect();
    try {
      await client.query('BEGIN');
      const result = await work(new PostgresDatabase(client, true));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    if (!this.inTransaction) await (this.target as pg.Pool).end();
  }
}
