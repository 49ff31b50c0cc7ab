import { randomUUID } from 'node:crypto';
import type { Database, DedicatedConnection } from '../store/database.js';
import { observeWrites } from '../store/write-observers.js';

/** Where changes of access are announced: migration 009's triggers and `changed` below (payload: schema [id]). */
const CHANNEL = 'ccp_access';
/** Where each listening process answers an announcement carrying an id, once it has forgotten what it changed. */
const ACK_CHANNEL = 'ccp_access_ack';
/** How long a changing request waits for the other processes to answer (a process that hangs must not hang it). */
const ACK_TIMEOUT_MS = 2000;
/** A listener that failed to connect is tried again on demand, not sooner than this. */
const RETRY_MS = 1000;
/** The resources a caller is derived from (its role, organization, practitioner): writing one may change a caller. */
const CALLER_RESOURCES = new Set(['PractitionerRole', 'Practitioner', 'Organization']);

/**
 * The rule that lets a process keep the callers of tokens in memory (caller-cache.ts) and still stop a revoked
 * token, a deactivated user, client, role or organization on the very next request: a generation number that moves
 * on every change of access, and a cached caller only counts while the generation it was read at is current.
 *
 * - In this process: `changed` moves it after the changing transaction commits, before that request returns.
 * - Across processes (PostgreSQL): the change NOTIFYs in its transaction (delivered at COMMIT); every process
 *   LISTENs on a connection of its own, moves its generation on hearing it and answers on ACK_CHANNEL; the changing
 *   request returns once every listening process of this schema has answered (or ACK_TIMEOUT_MS passed). While a
 *   process does not listen (not yet, or its connection was lost) it does not use its cache (`live` is false), and
 *   listening again moves the generation, since notifications may have been missed meanwhile.
 * - PGlite is one process (its DATA_DIR is locked) with one session: the same listener on that session, which
 *   PGlite hands each notification before the committing statement returns, so even a change made by SQL outside
 *   these code paths (migration 009's triggers) is heard in time; nobody else to wait for.
 */
export class AccessChanges {
  /** Moves on every change of access heard or made here. */
  generation = 0;
  private connection?: DedicatedConnection;
  private connecting?: Promise<void>;
  private retryAt = 0;
  private schema?: string;
  /** The announcements this process made, with the processes that have answered each. */
  private readonly answers = new Map<string, { pids: Set<number>; since: number; heard?: () => void }>();
  /** The acknowledgements sent so far, in order (`heard`). */
  private acknowledging: Promise<unknown> = Promise.resolve();
  /** Transactions that already announced a change: one announcement each is enough. */
  private readonly announced = new WeakSet<Database>();

  constructor(private readonly db: Database) {}

  /** Whether this process hears every change of access now; asking starts listening when it does not. */
  get live(): boolean {
    if (!this.connection) void this.listen();
    return this.connection !== undefined;
  }

  /**
   * Call in the transaction that changes access (or right after a statement that did, outside one): announces
   * it to the other processes at COMMIT, and once committed moves this process's generation and waits for the
   * others' answers, so that the request making the change returns after every process has forgotten.
   */
  async changed(tx: Database): Promise<void> {
    const inTransaction = tx !== tx.root;
    if (inTransaction && this.announced.has(tx)) return;
    if (inTransaction) this.announced.add(tx);
    if (this.db.dialect === 'pglite') {
      // One process: the step in this process is all (and listening from inside a transaction would wait for it).
      await tx.afterCommit(async () => void this.generation++);
      return;
    }
    // Listening before announcing, so that the answers are heard.
    await this.listen();
    const id = randomUUID();
    this.forgetOld();
    this.answers.set(id, { pids: new Set(), since: Date.now() });
    await tx.query(`SELECT pg_notify('${CHANNEL}', current_schema() || ' ' || $1)`, [id]);
    await tx.afterCommit(() => this.settle(id));
  }

  private async settle(id: string): Promise<void> {
    this.generation++;
    const waiting = this.answers.get(id);
    try {
      if (!waiting || !this.connection || !this.schema) return;
      // Every process listening on this schema, this one included: the application name each listener sets.
      const rows = await this.db.query<{ pid: number }>(
        'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = left($1, 63)',
        [listenerName(this.schema)],
      );
      const expected = rows.map((row) => row.pid);
      const all = () => expected.every((pid) => waiting.pids.has(pid));
      if (all()) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ACK_TIMEOUT_MS);
        waiting.heard = () => {
          if (!all()) return;
          clearTimeout(timer);
          resolve();
        };
      });
    } catch {
      // The change is committed and this process has forgotten; the others hear the NOTIFY whatever happens here.
    } finally {
      this.answers.delete(id);
    }
  }

  /** Announcements of transactions that rolled back are never settled. */
  private forgetOld(): void {
    const old = Date.now() - 60_000;
    for (const [id, waiting] of this.answers) if (waiting.since < old) this.answers.delete(id);
  }

  private listen(): Promise<void> {
    if (this.connection || Date.now() < this.retryAt) return Promise.resolve();
    return (this.connecting ??= this.connect().finally(() => (this.connecting = undefined)));
  }

  private async connect(): Promise<void> {
    let connection: DedicatedConnection | undefined;
    try {
      connection = await this.db.dedicatedConnection();
      const opened = connection;
      opened.onLost(() => this.lost(opened));
      const [{ schema }] = await opened.query<{ schema: string }>('SELECT current_schema() AS schema');
      opened.onNotification((channel, payload, pid) => this.heard(opened, schema, channel, payload, pid));
      await opened.query(`LISTEN ${CHANNEL}`);
      if (!opened.inProcess) {
        await opened.query(`LISTEN ${ACK_CHANNEL}`);
        // Named once listening: whoever finds this name in pg_stat_activity may count on an answer.
        await opened.query("SELECT set_config('application_name', left($1, 63), false)", [listenerName(schema)]);
      }
      this.schema = schema;
      // Whatever was cached before may have changed unheard.
      this.generation++;
      this.connection = opened;
    } catch {
      this.retryAt = Date.now() + RETRY_MS;
      await connection?.close();
    }
  }

  private lost(connection: DedicatedConnection): void {
    if (this.connection !== connection) return;
    this.connection = undefined;
    this.generation++;
    this.retryAt = Date.now() + RETRY_MS;
  }

  private heard(connection: DedicatedConnection, schema: string, channel: string, payload: string, pid: number): void {
    if (channel === ACK_CHANNEL) {
      const waiting = this.answers.get(payload);
      if (waiting) {
        waiting.pids.add(pid);
        waiting.heard?.();
      }
      return;
    }
    const [changedSchema, id] = payload.split(' ');
    if (changedSchema !== schema) return;
    this.generation++;
    // One statement at a time on the listening connection: notifications arrive faster than answers go out, and a
    // pg client must not be handed a query while it runs another.
    if (id && !connection.inProcess) {
      this.acknowledging = this.acknowledging.then(() => connection.query(`SELECT pg_notify('${ACK_CHANNEL}', $1)`, [id])).catch(() => undefined);
    }
  }
}

function listenerName(schema: string): string {
  return `ccp-access ${schema}`;
}

const perDatabase = new WeakMap<Database, AccessChanges>();

/** The changes of access of `db`'s database, one per database in a process; the store reports its writes to it. */
export function accessChangesOf(db: Database): AccessChanges {
  let changes = perDatabase.get(db.root);
  if (!changes) {
    const created = new AccessChanges(db.root);
    changes = created;
    perDatabase.set(db.root, created);
    observeWrites(db.root, (tx, resourceType) => (CALLER_RESOURCES.has(resourceType) ? created.changed(tx) : Promise.resolve()));
  }
  return changes;
}

/** Call where access is ended or altered (see AccessChanges.changed): revocations, deactivations, role changes. */
export function accessChanged(db: Database): Promise<void> {
  return accessChangesOf(db).changed(db);
}
