import { randomUUID } from 'node:crypto';
import type { Resource } from 'fhir/r4';
import { type Database, sqlState, SQLSTATE } from './database.js';
import type { IndexRows } from '../search/types.js';
import { queryHistory } from './history.js';
import { querySearch } from './search.js';
import type { ConsentGate, SearchQuery } from '../search/query/model.js';
import { findReferrers, resolveTargets, type Referrer, type ResourceKey, type TargetState } from './references.js';
import { AUDIT_EVENT, auditLinkCtes } from './audit-chain.js';
import { deleteIndexCtes, insertIndexCtes, insertIndexCtesOfMany, queuedAuditIndexRows } from './search-index-sql.js';
import { builtAlike } from '../search/index/audit-event.js';
import { stamp } from './stamp.js';
import { Statement } from '../search/sql/statement.js';
import { reportWrite } from './write-observers.js';
import { recordTopicEvent } from './subscription-outbox.js';
import { eventsFor, putSubscription, removeSubscription, statusOf, type SubscriptionState } from './subscription-state.js';
import type { NumberedEvent, SubscriptionSpec, SubscriptionStatusCode, TopicEvent } from '../subscriptions/model.js';
import type {
  DeleteResult,
  HistoryPage,
  HistoryQuery,
  NewResource,
  ReadResult,
  ResourceStore,
  SearchPage,
  UpdateOptions,
  UpdateResult,
} from './resource-store.js';

/** Search index rows of a resource version: how the store learns what to index, without knowing FHIRPath. */
export type Indexer = (resource: Resource) => IndexRows;

interface CurrentRow {
  rid: string;
  version_id: number;
  last_updated: Date;
  deleted: boolean;
}

interface ContentRow {
  version_id: number;
  last_updated: Date;
  content: Resource | null;
}

/** The statements of reads and writes by id: few texts, run on every request (Database.query's `prepared`). */
const PREPARED = { prepared: true };

/** Savepoint names only need to differ within one transaction; a process-wide counter does that. */
let savepoints = 0;

/** The ResourceStore on PostgreSQL (server or PGlite): current versions in `resource`, all versions in `resource_version`. */
export class SqlResourceStore implements ResourceStore {
  constructor(
    private readonly db: Database,
    private readonly index: Indexer,
  ) {}

  async lock(key: string): Promise<void> {
    await this.db.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [key]);
  }

  transaction<T>(work: (store: ResourceStore) => Promise<T>): Promise<T> {
    return this.db.transaction((tx) => work(new SqlResourceStore(tx, this.index)));
  }

  async recordTopicEvent(event: TopicEvent): Promise<void> {
    await recordTopicEvent(this.db, event);
  }

  putSubscription(spec: SubscriptionSpec, status: SubscriptionStatusCode): Promise<void> {
    return putSubscription(this.db, spec, status);
  }

  removeSubscription(id: string): Promise<boolean> {
    return removeSubscription(this.db, id);
  }

  subscriptionState(id: string): Promise<SubscriptionState | undefined> {
    return statusOf(this.db, id);
  }

  subscriptionEvents(id: string, from?: number, to?: number): Promise<NumberedEvent[]> {
    return eventsFor(this.db, id, from, to);
  }

  savepoint<T>(work: (store: ResourceStore) => Promise<T>): Promise<T> {
    return this.db.transaction(async (tx) => {
      const name = `store_${++savepoints}`;
      await tx.query(`SAVEPOINT ${name}`);
      try {
        const result = await work(new SqlResourceStore(tx, this.index));
        await tx.query(`RELEASE SAVEPOINT ${name}`);
        return result;
      } catch (error) {
        await tx.query(`ROLLBACK TO SAVEPOINT ${name}`);
        throw error;
      }
    });
  }

  async create(resource: Resource, assignedId: string = randomUUID()): Promise<Resource> {
    const [stored] = await this.createMany([{ resource, id: assignedId }]);
    return stored;
  }

  async createMany(resources: readonly NewResource[]): Promise<Resource[]> {
    if (!resources.length) return [];
    const at = new Date();
    const stored = resources.map(({ resource, id, lastUpdated }) => {
      const copy = stamp(resource, id ?? randomUUID(), 1, lastUpdated ?? at);
      builtAlike(resource, copy);
      return copy;
    });
    // The trail has its own tables (migration 007): a mixed batch (an import's Bundle) is two statements, one
    // transaction, so still all stored or none.
    const events = stored.filter((r) => r.resourceType === AUDIT_EVENT);
    const clinical = events.length ? stored.filter((r) => r.resourceType !== AUDIT_EVENT) : stored;
    if (!events.length) await this.insertClinical(this.db, clinical);
    else if (!clinical.length) await this.insertAuditEvents(this.db, events);
    else {
      await this.db.transaction(async (tx) => {
        await this.insertClinical(tx, clinical);
        await this.insertAuditEvents(tx, events);
      });
    }
    return stored;
  }

  /** One statement writes the current rows, the versions and the search index: they cannot part. */
  private async insertClinical(db: Database, stored: Resource[]): Promise<void> {
    const sql = new Statement();
    const [types, ids, times, contents] = [
      stored.map((r) => r.resourceType),
      stored.map((r) => r.id),
      stored.map((r) => r.meta!.lastUpdated),
      stored.map((r) => JSON.stringify(r)),
    ].map(sql.param);
    await db.query(
      sql.with(
        [
          `input AS (SELECT * FROM unnest(${types}::text[], ${ids}::text[], ${times}::timestamptz[], ${contents}::jsonb[])
             WITH ORDINALITY AS i(resource_type, id, last_updated, content, ord))`,
          `inserted AS (INSERT INTO resource (resource_type, id, version_id, last_updated, content)
             SELECT resource_type, id, 1, last_updated, content FROM input RETURNING rid, resource_type, id)`,
          `version AS (INSERT INTO resource_version (resource_type, id, version_id, last_updated, method, created, content)
             SELECT resource_type, id, 1, last_updated, 'POST', true, content FROM input)`,
          `owner AS (SELECT input.ord, inserted.rid, inserted.resource_type FROM input JOIN inserted USING (resource_type, id))`,
          ...insertIndexCtesOfMany(stored.map((r) => this.index(r)), 'owner', sql.param),
        ],
        'SELECT count(*) FROM inserted',
      ),
      sql.params,
      PREPARED,
    );
  }

  /**
   * AuditEvents into the audit tables: the event (one version: append-only), its queued index rows (migration 011)
   * and its chain link, in one statement. The link hashes the content as this statement stores it.
   */
  private async insertAuditEvents(db: Database, stored: Resource[]): Promise<void> {
    const sql = new Statement();
    const [ids, times, contents] = [stored.map((r) => r.id), stored.map((r) => r.meta!.lastUpdated), stored.map((r) => JSON.stringify(r))].map(sql.param);
    await db.query(
      sql.with(
        [
          `input AS (SELECT * FROM unnest(${ids}::text[], ${times}::timestamptz[], ${contents}::jsonb[]) WITH ORDINALITY AS i(id, last_updated, content, ord))`,
          `inserted AS (INSERT INTO audit_event (id, last_updated, content) SELECT id, last_updated, content FROM input ORDER BY ord
             RETURNING rid, resource_type, id, last_updated)`,
          `owner AS (SELECT input.ord, inserted.rid, inserted.resource_type, inserted.last_updated FROM input JOIN inserted USING (id))`,
          // Its index rows wait in the queue, moved into the index tables before any search reads them.
          `queued AS (INSERT INTO audit_index_queue (rid, last_updated, rows)
             SELECT o.rid, o.last_updated, q.rows FROM owner o
             JOIN unnest(${sql.param(stored.map((r) => queuedAuditIndexRows(this.index(r))))}::jsonb[]) WITH ORDINALITY AS q(rows, ord) ON q.ord = o.ord)`,
          // Every AuditEvent joins the tamper-evident chain in the statement that stores it.
          ...auditLinkCtes('input'),
        ],
        'SELECT count(*) FROM inserted',
        true,
      ),
      sql.params,
      PREPARED,
    );
  }

  async read(resourceType: string, id: string): Promise<ReadResult> {
    if (resourceType === AUDIT_EVENT) return this.readAuditEvent(id);
    const rows = await this.db.query<ContentRow>(
      'SELECT version_id, last_updated, content FROM resource WHERE resource_type = $1 AND id = $2',
      [resourceType, id],
      PREPARED,
    );
    return toReadResult(rows[0]);
  }

  async vread(resourceType: string, id: string, versionId: string): Promise<ReadResult> {
    const version = Number(versionId);
    if (!Number.isSafeInteger(version) || version < 1) return { kind: 'missing' };
    // An AuditEvent has one version, its only row.
    if (resourceType === AUDIT_EVENT) return version === 1 ? this.readAuditEvent(id) : { kind: 'missing' };
    const rows = await this.db.query<ContentRow>(
      `SELECT version_id, last_updated, content FROM resource_version
       WHERE resource_type = $1 AND id = $2 AND version_id = $3`,
      [resourceType, id, version],
      PREPARED,
    );
    return toReadResult(rows[0]);
  }

  private async readAuditEvent(id: string): Promise<ReadResult> {
    const rows = await this.db.query<ContentRow>('SELECT version_id, last_updated, content FROM audit_event WHERE id = $1', [id], PREPARED);
    return toReadResult(rows[0]);
  }

  update(resource: Resource & { id: string }, options: UpdateOptions): Promise<UpdateResult> {
    appendOnly(resource.resourceType);
    return this.db.transaction(async (tx) => {
      for (;;) {
        const current = await lockCurrent(tx, resource.resourceType, resource.id, 'NO KEY UPDATE');
        if (!current) {
          if (!options.allowCreate) return { kind: 'create-not-allowed' };
          if (options.ifMatch !== undefined) return { kind: 'version-conflict' };
          const created = await insertFirstVersion(tx, resource, this.index);
          // Another writer created it between our look and our insert: take it from the top, now as an update.
          if (created) return { kind: 'created', resource: created };
          continue;
        }
        if (options.ifMatch !== undefined && options.ifMatch !== String(current.version_id)) {
          return { kind: 'version-conflict', currentVersionId: String(current.version_id) };
        }
        const stored = stamp(resource, resource.id, current.version_id + 1, after(current.last_updated));
        await writeVersion(tx, current.rid, stored, current.deleted, this.index(stored), options.method ?? 'PUT');
        await reportWrite(tx, resource.resourceType);
        return { kind: current.deleted ? 'created' : 'updated', resource: stored };
      }
    });
  }

  delete(resourceType: string, id: string, options: { ifMatch?: string } = {}): Promise<DeleteResult> {
    appendOnly(resourceType);
    return this.db.transaction(async (tx) => {
      const current = await lockCurrent(tx, resourceType, id, 'UPDATE');
      // If-Match is false when there is no current version at all (RFC 9110 §13.1.1).
      if (!current) return options.ifMatch !== undefined ? { kind: 'version-conflict' } : { kind: 'missing' };
      if (options.ifMatch !== undefined && options.ifMatch !== String(current.version_id)) {
        return { kind: 'version-conflict', currentVersionId: String(current.version_id) };
      }
      if (current.deleted) return { kind: 'already-deleted' };
      const versionId = current.version_id + 1;
      const sql = new Statement();
      const [type, rid, version, at] = [resourceType, current.rid, versionId, after(current.last_updated).toISOString()].map(sql.param);
      const identity = `resource_type = ${type} AND id = ${sql.param(id)}`;
      await tx.query(
        sql.with(
          [
            `version AS (INSERT INTO resource_version (resource_type, id, version_id, last_updated, method, created, content)
               SELECT resource_type, id, ${version}, ${at}, 'DELETE', false, NULL FROM resource WHERE ${identity})`,
            ...deleteIndexCtes(rid),
          ],
          `UPDATE resource SET version_id = ${version}, last_updated = ${at}, deleted = true, content = NULL WHERE ${identity}`,
        ),
        sql.params,
      );
      await reportWrite(tx, resourceType);
      return { kind: 'deleted', versionId: String(versionId) };
    });
  }

  resolveTargets(targets: readonly ResourceKey[], consent?: ConsentGate): Promise<Map<string, TargetState>> {
    return resolveTargets(this.db, targets, consent);
  }

  findReferrers(targets: readonly ResourceKey[], consent?: ConsentGate): Promise<Referrer[]> {
    return findReferrers(this.db, targets, consent);
  }

  history(query: HistoryQuery): Promise<HistoryPage> {
    return queryHistory(this.db, query);
  }

  search(query: SearchQuery): Promise<SearchPage> {
    return querySearch(this.db, query);
  }
}

/** AuditEvents are only ever created (and purged by retention, server/audit/purge.ts): the REST API answers 405 before this. */
function appendOnly(resourceType: string): void {
  if (resourceType === AUDIT_EVENT) throw new Error('AuditEvents are append-only: they cannot be updated or deleted');
}

/**
 * The current row, locked until the transaction ends, so concurrent writers to one resource take turns. An update
 * takes the lock that leaves the row's key alone (NO KEY UPDATE): writes that refer to the resource, which hold it
 * with KEY SHARE while they commit (server/store/references.ts), then wait only for its delete, not its updates.
 */
async function lockCurrent(tx: Database, resourceType: string, id: string, lock: 'UPDATE' | 'NO KEY UPDATE'): Promise<CurrentRow | undefined> {
  const rows = await tx.query<CurrentRow>(
    `SELECT rid::text AS rid, version_id, last_updated, deleted FROM resource WHERE resource_type = $1 AND id = $2 FOR ${lock}`,
    [resourceType, id],
    PREPARED,
  );
  return rows[0];
}

/** Creates version 1 under a client-chosen id; undefined if another writer got there first. */
async function insertFirstVersion(tx: Database, resource: Resource & { id: string }, index: Indexer): Promise<Resource | undefined> {
  const stored = stamp(resource, resource.id, 1, new Date());
  const sql = new Statement();
  const [type, id, at, content] = [stored.resourceType, stored.id, stored.meta!.lastUpdated, JSON.stringify(stored)].map(sql.param);
  // ON CONFLICT leaves `inserted` empty, and then nothing that depends on it is written either.
  const rows = await tx.query(
    sql.with(
      [
        `inserted AS (INSERT INTO resource (resource_type, id, version_id, last_updated, content)
           VALUES (${type}, ${id}, 1, ${at}, ${content}::jsonb) ON CONFLICT (resource_type, id) DO NOTHING RETURNING rid)`,
        `version AS (INSERT INTO resource_version (resource_type, id, version_id, last_updated, method, created, content)
           SELECT ${type}, ${id}, 1, ${at}, 'PUT', true, ${content}::jsonb FROM inserted)`,
        ...insertIndexCtes(index(stored), { rid: 'inserted.rid', from: 'inserted' }, stored.resourceType, sql.param),
      ],
      'SELECT rid FROM inserted',
    ),
    sql.params,
  );
  return rows.length ? stored : undefined;
}

/** Version n+1 by PUT or PATCH, its search index replacing the previous one; `created` when it follows a delete. */
async function writeVersion(tx: Database, rid: string, stored: Resource, created: boolean, rows: IndexRows, method: 'PUT' | 'PATCH'): Promise<void> {
  const sql = new Statement();
  const [type, id, version, at, content] = [
    stored.resourceType,
    stored.id,
    Number(stored.meta!.versionId),
    stored.meta!.lastUpdated,
    JSON.stringify(stored),
  ].map(sql.param);
  const ridParam = sql.param(rid);
  try {
    await tx.query(
      sql.with(
        [
          `version AS (INSERT INTO resource_version (resource_type, id, version_id, last_updated, method, created, content)
             VALUES (${type}, ${id}, ${version}, ${at}, ${sql.param(method)}, ${sql.param(created)}, ${content}::jsonb))`,
          ...deleteIndexCtes(ridParam),
          ...insertIndexCtes(rows, { rid: `${ridParam}::bigint` }, stored.resourceType, sql.param),
        ],
        `UPDATE resource SET version_id = ${version}, last_updated = ${at}, deleted = false, content = ${content}::jsonb
         WHERE resource_type = ${type} AND id = ${id}`,
      ),
      sql.params,
      PREPARED,
    );
  } catch (error) {
    // The row lock makes this unreachable; the primary key on (type, id, version) is the last guard.
    if (sqlState(error) === SQLSTATE.uniqueViolation) throw new Error('version already written by another writer');
    throw error;
  }
}

/** Now, but never at or before the previous version's time, so versions of one resource sort by time as by number. */
function after(previous: Date): Date {
  const now = Date.now();
  return new Date(now > previous.getTime() ? now : previous.getTime() + 1);
}

function toReadResult(row: ContentRow | undefined): ReadResult {
  if (!row) return { kind: 'missing' };
  if (!row.content) {
    return { kind: 'deleted', versionId: String(row.version_id), lastUpdated: row.last_updated.toISOString() };
  }
  return { kind: 'found', resource: row.content };
}
