import type { Resource } from 'fhir/r4';
import { AUDIT_EVENT } from './audit-chain.js';
import type { Database } from './database.js';
import { keysetPage } from './keyset-page.js';
import type { HistoryEntry, HistoryPage, HistoryQuery } from './resource-store.js';

interface VersionRow {
  resource_type: string;
  id: string;
  version_id: number;
  last_updated: Date;
  method: HistoryEntry['method'];
  created: boolean;
  content: Resource | null;
  seq: string;
}

/**
 * History at system, type or instance level, newest first, paged by insertion sequence (keyset) so that a
 * page deep in a long history costs the same as the first.
 */
export async function queryHistory(db: Database, query: HistoryQuery): Promise<HistoryPage> {
  // AuditEvents have one version each, in their own table (migration 007); their rid orders them as seq does versions.
  const audit = query.resourceType === AUDIT_EVENT;
  const versions = audit
    ? `(SELECT resource_type, id, version_id, last_updated, 'POST' AS method, true AS created, content, rid AS seq FROM audit_event)`
    : 'resource_version';
  const where: string[] = [];
  const params: unknown[] = [];
  const param = (value: unknown) => `$${params.push(value)}`;

  if (query.resourceType) where.push(`v.resource_type = ${param(query.resourceType)}`);
  else if (query.excludeTypes?.length) where.push(`v.resource_type <> ALL(${param(query.excludeTypes)}::text[])`);
  if (query.id) where.push(`v.id = ${param(query.id)}`);
  if (query.since) where.push(`v.last_updated >= ${param(query.since)}`);
  if (query.at && audit) where.push(`v.last_updated <= ${param(query.at.end)}`);
  else if (query.at) {
    // Current at some point in [start, end]: written by the end, and not replaced by a newer version before the start.
    where.push(`v.last_updated <= ${param(query.at.end)}`);
    where.push(`NOT EXISTS (SELECT 1 FROM resource_version n
      WHERE n.resource_type = v.resource_type AND n.id = v.id AND n.version_id = v.version_id + 1
        AND n.last_updated <= ${param(query.at.start)})`);
  }

  const cursor = query.cursor;
  const backwards = cursor?.direction === 'previous';
  if (cursor) {
    where.push(`v.seq ${backwards ? '>' : '<'} ${param(cursor.seq)}::bigint`);
    where.push(`v.seq <= ${param(cursor.ceiling)}::bigint`);
  }

  const rows = await db.query<VersionRow>(
    `SELECT v.resource_type, v.id, v.version_id, v.last_updated, v.method, v.created, v.content, v.seq::text AS seq
     FROM ${versions} v
     ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY v.seq ${backwards ? 'ASC' : 'DESC'}
     LIMIT ${param(query.count + 1)}`,
    params,
  );

  const { page, hasNext, hasPrevious } = keysetPage(rows, query.count, cursor?.direction);
  if (!page.length) return { entries: [] };
  const ceiling = cursor?.ceiling ?? page[0].seq;
  return {
    entries: page.map(toEntry),
    next: hasNext ? { direction: 'next', seq: page[page.length - 1].seq, ceiling } : undefined,
    previous: hasPrevious ? { direction: 'previous', seq: page[0].seq, ceiling } : undefined,
  };
}

function toEntry(row: VersionRow): HistoryEntry {
  return {
    resourceType: row.resource_type,
    id: row.id,
    versionId: String(row.version_id),
    lastUpdated: row.last_updated.toISOString(),
    method: row.method,
    created: row.created,
    ...(row.content ? { resource: row.content } : {}),
  };
}
