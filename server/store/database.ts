import type { Availability } from './availability.js';

/**
 * The one SQL dialect the server speaks (PostgreSQL), reached either through a PostgreSQL server (`pg`) or the
 * embedded PGlite. Everything above this interface is unaware of which one it talks to.
 */
export interface Database {
  readonly dialect: 'postgres' | 'pglite';
  /**
   * Whether the database answered lately. While it is away (unreachable, restarting, closed) every method rejects
   * with a DatabaseUnavailable (./unavailable.ts) instead of the driver's error.
   */
  readonly availability: Availability;
  /**
   * `prepared`: one of the few statement texts run on every request (a read, a token lookup, a write's insert).
   * PostgreSQL keeps it parsed per connection, and planned once a generic plan proves as good: planning was most of
   * their database time.
   */
  query<Row = Record<string, unknown>>(sql: string, params?: unknown[], options?: QueryOptions): Promise<Row[]>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
  /** Runs `work` in one transaction: committed if it resolves, rolled back if it throws. Nested calls join the outer one. */
  transaction<T>(work: (tx: Database) => Promise<T>): Promise<T>;
  /**
   * Runs `effect` once what this handle wrote is committed: after the outermost transaction's COMMIT, before
   * `transaction` returns (never after a rollback); at once outside a transaction. For a process's own caches of
   * database state (server/auth/caller-cache.ts), which must forget it before the changing request returns.
   */
  afterCommit(effect: () => Promise<void>): Promise<void>;
  /** The database this handle belongs to (itself outside a transaction): the key of state kept per database. */
  readonly root: Database;
  /**
   * A connection of its own, outside the pool, for LISTEN (server/auth/auth-changes.ts); closed with the database.
   * PGlite has one session only: its "connection" is that session, shared (`inProcess`).
   */
  dedicatedConnection(): Promise<DedicatedConnection>;
  close(): Promise<void>;
}

/** A connection outside the pool: NOTIFY messages arrive on it; `lost` is called once when it ends. */
export interface DedicatedConnection {
  /**
   * PGlite: the one process's own session. Its notifications are delivered before the statement (or transaction)
   * that committed them returns, and no other process shares the database.
   */
  readonly inProcess: boolean;
  query<Row = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<Row[]>;
  onNotification(listener: (channel: string, payload: string, processId: number) => void): void;
  onLost(listener: () => void): void;
  close(): Promise<void>;
}

export interface QueryOptions {
  prepared?: boolean;
}

/** SQLSTATE codes the store reacts to. */
export const SQLSTATE = {
  uniqueViolation: '23505',
  serializationFailure: '40001',
  insufficientPrivilege: '42501',
} as const;

export function sqlState(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}
