import { randomUUID } from 'node:crypto';
import type { Resource } from 'fhir/r4';
import { type Database, sqlState, SQLSTATE } from './database.js';
import { queryHistory } from './history.js';
import type {
  DeleteResult,
  HistoryPage,
  HistoryQuery,
  ReadResult,
  ResourceStore,
  UpdateOptions,
  UpdateResult,
} from './resource-store.js';

interface CurrentRow {
  version_id: number;
  last_updated: Date;
  deleted: boolean;
}

interface ContentRow {
  version_id: number;
  last_updated: Date;
  content: Resource | null;
}

/** The ResourceStore on PostgreSQL (server or PGlite): current versions in `resource`, all versions in `resource_version`. */
export class SqlResourceStore implements ResourceStore {
  constructor(private readonly db: Database) {}

  transaction<T>(work: (store: ResourceStore) => Promise<T>): Promise<T> {
    return this.db.transaction((tx) => work(new SqlResourceStore(tx)));
  }

  async create(resource: Resource): Promise<Resource> {
    const stored = stamp(resource, randomUUID(), 1, new Date());
    // One statement writes both tables, so the version and the current row cannot part.
    await this.db.query(
      `WITH version AS (
         INSERT INTO resource_version (resource_type, id, version_id, last_updated, method, created, content)
         VALUES ($1, $2, 1, $3, 'POST', true, $4::jsonb))
       INSERT INTO resource (resource_type, id, version_id, last_updated, content) VALUES ($1, $2, 1, $3, $4::jsonb)`,
      [stored.resourceType, stored.id, stored.meta!.lastUpdated, JSON.stringify(stored)],
    );
    return stored;
  }

  async read(resourceType: string, id: string): Promise<ReadResult> {
    const rows = await this.db.query<ContentRow>(
      'SELECT version_id, last_updated, content FROM resource WHERE resource_type = $1 AND id = $2',
      [resourceType, id],
    );
    return toReadResult(rows[0]);
  }

  async vread(resourceType: string, id: string, versionId: string): Promise<ReadResult> {
    const version = Number(versionId);
    if (!Number.isSafeInteger(version) || version < 1) return { kind: 'missing' };
    const rows = await this.db.query<ContentRow>(
      `SELECT version_id, last_updated, content FROM resource_version
       WHERE resource_type = $1 AND id = $2 AND version_id = $3`,
      [resourceType, id, version],
    );
    return toReadResult(rows[0]);
  }

  update(resource: Resource & { id: string }, options: UpdateOptions): Promise<UpdateResult> {
    return this.db.transaction(async (tx) => {
      for (;;) {
        const current = await lockCurrent(tx, resource.resourceType, resource.id);
        if (!current) {
          if (!options.allowCreate) return { kind: 'create-not-allowed' };
          if (options.ifMatch !== undefined) return { kind: 'version-conflict' };
          const created = await insertFirstVersion(tx, resource);
          // Another writer created it between our look and our insert: take it from the top, now as an update.
          if (created) return { kind: 'created', resource: created };
          continue;
        }
        if (options.ifMatch !== undefined && options.ifMatch !== String(current.version_id)) {
          return { kind: 'version-conflict', currentVersionId: String(current.version_id) };
        }
        const stored = stamp(resource, resource.id, current.version_id + 1, after(current.last_updated));
        await writeVersion(tx, stored, current.deleted);
        return { kind: current.deleted ? 'created' : 'updated', resource: stored };
      }
    });
  }

  delete(resourceType: string, id: string, options: { ifMatch?: string } = {}): Promise<DeleteResult> {
    return this.db.transaction(async (tx) => {
      const current = await lockCurrent(tx, resourceType, id);
      // If-Match is false when there is no current version at all (RFC 9110 §13.1.1).
      if (!current) return options.ifMatch !== undefined ? { kind: 'version-conflict' } : { kind: 'missing' };
      if (options.ifMatch !== undefined && options.ifMatch !== String(current.version_id)) {
        return { kind: 'version-conflict', currentVersionId: String(current.version_id) };
      }
      if (current.deleted) return { kind: 'already-deleted' };
      const versionId = current.version_id + 1;
      const lastUpdated = after(current.last_updated).toISOString();
      await tx.query(
        `WITH version AS (
           INSERT INTO resource_version (resource_type, id, version_id, last_updated, method, created, content)
           VALUES ($1, $2, $3, $4, 'DELETE', false, NULL))
         UPDATE resource SET version_id = $3, last_updated = $4, deleted = true, content = NULL
         WHERE resource_type = $1 AND id = $2`,
        [resourceType, id, versionId, lastUpdated],
      );
      return { kind: 'deleted', versionId: String(versionId) };
    });
  }

  history(query: HistoryQuery): Promise<HistoryPage> {
    return queryHistory(this.db, query);
  }
}

/** The current row, locked until the transaction ends, so concurrent writers to one resource take turns. */
async function lockCurrent(tx: Database, resourceType: string, id: string): Promise<CurrentRow | undefined> {
  const rows = await tx.query<CurrentRow>(
    'SELECT version_id, last_updated, deleted FROM resource WHERE resource_type = $1 AND id = $2 FOR UPDATE',
    [resourceType, id],
  );
  return rows[0];
}

/** Creates version 1 under a client-chosen id; undefined if another writer got there first. */
async function insertFirstVersion(tx: Database, resource: Resource & { id: string }): Promise<Resource | undefined> {
  const stored = stamp(resource, resource.id, 1, new Date());
  const params = [stored.resourceType, stored.id, stored.meta!.lastUpdated, JSON.stringify(stored)];
  const inserted = await tx.query(
    `INSERT INTO resource (resource_type, id, version_id, last_updated, content) VALUES ($1, $2, 1, $3, $4::jsonb)
     ON CONFLICT (resource_type, id) DO NOTHING RETURNING 1`,
    params,
  );
  if (!inserted.length) return undefined;
  await tx.query(
    `INSERT INTO resource_version (resource_type, id, version_id, last_updated, method, created, content)
     VALUES ($1, $2, 1, $3, 'PUT', true, $4::jsonb)`,
    params,
  );
  return stored;
}

/** Version n+1 by PUT; `created` when it follows a delete. */
async function writeVersion(tx: Database, stored: Resource, created: boolean): Promise<void> {
  try {
    await tx.query(
      `WITH version AS (
         INSERT INTO resource_version (resource_type, id, version_id, last_updated, method, created, content)
         VALUES ($1, $2, $3, $4, 'PUT', $5, $6::jsonb))
       UPDATE resource SET version_id = $3, last_updated = $4, deleted = false, content = $6::jsonb
       WHERE resource_type = $1 AND id = $2`,
      [stored.resourceType, stored.id, Number(stored.meta!.versionId), stored.meta!.lastUpdated, created, JSON.stringify(stored)],
    );
  } catch (error) {
    // The row lock makes this unreachable; the primary key on (type, id, version) is the last guard.
    if (sqlState(error) === SQLSTATE.uniqueViolation) throw new Error('version already written by another writer');
    throw error;
  }
}

/** The resource as stored: server-owned id, meta.versionId and meta.lastUpdated; every other meta element kept. */
function stamp(resource: Resource, id: string, versionId: number, lastUpdated: Date): Resource {
  const { resourceType, id: _ignored, meta, ...rest } = resource;
  return {
    resourceType,
    id,
    ...rest,
    meta: { ...meta, versionId: String(versionId), lastUpdated: lastUpdated.toISOString() },
  } as Resource;
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
