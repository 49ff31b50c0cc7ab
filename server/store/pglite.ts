import { PGlite, type Transaction } from '@electric-sql/pglite';
import { Availability } from './availability.js';
import type { Database, DedicatedConnection } from './database.js';
import { type DataDirLock, lockDataDir } from './data-dir-lock.js';

/**
 * The embedded database: PostgreSQL compiled to WebAssembly, in this process, kept in `dataDir`
 * (in memory when `dataDir` is undefined, which the tests use). A folder belongs to one process at a time: its lock
 * is taken before anything in it is opened (a `DataDirLockedError` otherwise) and released when the database closes.
 * It cannot become unreachable; once closed (the server stopping) it refuses statements, which the availability
 * guard reports as the database being away.
 */
export async function openPglite(dataDir?: string, copyOf?: Blob): Promise<Database> {
  const lock = dataDir === undefined ? undefined : lockDataDir(dataDir);
  try {
    // `copyOf`: another database's files (PGlite's dumpDataDir), for the tests, which open hundreds of databases:
    // loading a migrated copy takes about a second, creating and migrating one several.
    const db = await PGlite.create(dataDir, copyOf ? { loadDataDir: copyOf } : {});
    return new PgliteDatabase(db, new Availability(), lock);
  } catch (error) {
    lock?.release();
    throw error;
  }
}

/** The files of a database `openPglite` opened, as one archive: what `openPglite(…, copyOf)` starts from. */
export async function dumpPglite(db: Database): Promise<Blob> {
  if (!(db instanceof PgliteDatabase)) throw new Error('only an embedded (PGlite) database can be dumped');
  return db.dumpFiles();
}

class PgliteDatabase implements Database {
  readonly dialect = 'pglite' as const;
  readonly root: Database;
  private readonly dedicated = new Set<DedicatedConnection>();

  constructor(
    private readonly target: PGlite | Transaction,
    readonly availability: Availability,
    private readonly lock?: DataDirLock,
    /** In a transaction: what runs after its COMMIT. */
    private readonly committed?: (() => Promise<void>)[],
    root?: Database,
  ) {
    this.root = root ?? this;
  }

  // PGlite runs in this process and keeps no statements per connection: `prepared` changes nothing here.
  async query<Row>(sql: string, params: unknown[] = []): Promise<Row[]> {
    const result = await this.availability.guard(() => this.target.query<Row>(sql, params));
    return result.rows;
  }

  async exec(sql: string): Promise<void> {
    await this.availability.guard(() => this.target.exec(sql));
  }

  async transaction<T>(work: (tx: Database) => Promise<T>): Promise<T> {
    const target = this.target;
    if (!(target instanceof PGlite)) return work(this);
    // Guarded as a whole: a closed PGlite refuses the transaction before any statement of it runs.
    const committed: (() => Promise<void>)[] = [];
    const result = await this.availability.guard(() => target.transaction((tx) => work(new PgliteDatabase(tx, this.availability, undefined, committed, this))));
    for (const effect of committed) await effect();
    return result;
  }

  async afterCommit(effect: () => Promise<void>): Promise<void> {
    if (this.committed) this.committed.push(effect);
    else await effect();
  }

  /** The one session, listening: PGlite hands a notification to its listeners before the committing call returns. */
  async dedicatedConnection(): Promise<DedicatedConnection> {
    const target = this.root === this ? this.target : undefined;
    if (!(target instanceof PGlite)) return (this.root as PgliteDatabase).dedicatedConnection();
    if (target.closed) throw new Error('the database is closed');
    const lostListeners: (() => void)[] = [];
    const unsubscribe: (() => void)[] = [];
    const connection: DedicatedConnection = {
      inProcess: true,
      query: async <Row>(sql: string, params: unknown[] = []) => (await target.query<Row>(sql, params)).rows,
      onNotification: (listener) => void unsubscribe.push(target.onNotification((channel, payload) => listener(channel, payload, 0))),
      onLost: (listener) => void lostListeners.push(listener),
      close: async () => {
        this.dedicated.delete(connection);
        for (const stop of unsubscribe) stop();
        for (const listener of lostListeners.splice(0)) listener();
      },
    };
    this.dedicated.add(connection);
    return connection;
  }

  /** The database's files as one archive, for `openPglite(…, copyOf)`. */
  async dumpFiles(): Promise<Blob> {
    if (!(this.target instanceof PGlite)) throw new Error('a transaction cannot be dumped');
    return this.target.dumpDataDir('none');
  }

  async close(): Promise<void> {
    if (!(this.target instanceof PGlite)) return;
    await Promise.all([...this.dedicated].map((connection) => connection.close()));
    try {
      await this.target.close();
    } finally {
      this.lock?.release();
    }
  }
}
