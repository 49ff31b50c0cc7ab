import pg from 'pg';
import { createHash } from 'node:crypto';
import { Availability } from './availability.js';
import type { Database, DedicatedConnection, QueryOptions } from './database.js';
import { openDedicated } from './dedicated-connection.js';

/**
 * How long a request waits for a connection (a new one, or a turn in the pool) before it is told the database
 * is unavailable: an unreachable server must not hold requests open for as long as the operating system tries.
 */
const CONNECT_TIMEOUT_MS = 5000;

/** A PostgreSQL server through a `pg` pool. */
export function openPostgres(connectionString: string, poolSize = 10): Database {
  const pool = new pg.Pool({
    connectionString: withoutJit(connectionString),
    max: poolSize,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    // A peer that vanished without closing the connection is found by TCP keepalive (probing after 10 s idle),
    // not by a statement waiting for an answer that never comes.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  });
  // An idle client losing its connection (a server restart) must not crash the process: the pool drops it and
  // connects anew when asked; the first request that finds the database away reports the outage.
  pool.on('error', () => undefined);

  return new PostgresDatabase(pool, new Availability(), false, undefined, undefined, connectionString);
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
  readonly root: Database;
  private readonly dedicated = new Set<DedicatedConnection>();
  private closed = false;

  constructor(
    private readonly target: Queryable,
    readonly availability: Availability,
    private readonly inTransaction = false,
    /** In a transaction: what runs after its COMMIT. */
    private readonly committed?: (() => Promise<void>)[],
    root?: Database,
    private readonly connectionString?: string,
  ) {
    this.root = root ?? this;
  }

  async afterCommit(effect: () => Promise<void>): Promise<void> {
    if (this.committed) this.committed.push(effect);
    else await effect();
  }

  async dedicatedConnection(): Promise<DedicatedConnection> {
    if (this.root !== this) return (this.root as PostgresDatabase).dedicatedConnection();
    if (this.closed) throw new Error('the database is closed');
    const connection = await openDedicated(withoutJit(this.connectionString!), () => this.dedicated.delete(connection));
    if (this.closed) {
      await connection.close();
      throw new Error('the database is closed');
    }
    this.dedicated.add(connection);
    return connection;
  }

  async query<Row>(sql: string, params: unknown[] = [], options: QueryOptions = {}): Promise<Row[]> {
    const name = options.prepared ? statementName(sql) : undefined;
    const result = await this.availability.guard(() =>
      this.target.query(name ? { name, text: sql, values: params } : { text: sql, values: params }),
    );
    return result.rows as Row[];
  }

  async exec(sql: string): Promise<void> {
    await this.availability.guard(() => this.target.query(sql));
  }

  /**
   * A connection lost mid-transaction aborts it: the server rolls back what it never saw committed, and the
   * caller gets a DatabaseUnavailable (a COMMIT whose answer was lost may have committed; the server decided).
   */
  async transaction<T>(work: (tx: Database) => Promise<T>): Promise<T> {
    if (this.inTransaction) return work(this);
    // An idle connection handed out is no answer from the database: BEGIN is.
    const client = await this.availability.guard(() => (this.target as pg.Pool).connect(), { answers: false });
    // A checked-out client has no listener of the pool's: without this one, losing the connection between two
    // statements of the transaction would be an unhandled 'error' event, which ends the process.
    let broken = false;
    const onError = () => (broken = true);
    client.on('error', onError);
    const committed: (() => Promise<void>)[] = [];
    const tx = new PostgresDatabase(client, this.availability, true, committed, this);
    let result: T;
    try {
      await tx.exec('BEGIN');
      result = await work(tx);
      await tx.exec('COMMIT');
    } catch (error) {
      if (!broken) await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.off('error', onError);
      // A broken connection is destroyed rather than returned to the pool.
      client.release(broken);
    }
    for (const effect of committed) await effect();
    return result;
  }

  async close(): Promise<void> {
    if (this.inTransaction) return;
    this.closed = true;
    await Promise.all([...this.dedicated].map((connection) => connection.close()));
    await (this.target as pg.Pool).end();
  }
}
