import type { Resource } from 'fhir/r4';
import type { ConsentGate } from '../search/query/model.js';
import { consentCondition } from '../search/sql/consent.js';
import { AUDIT_EVENT } from './audit-chain.js';
import type { Database } from './database.js';
import { Statement } from '../search/sql/statement.js';

/** A resource named by type and id. */
export interface ResourceKey {
  type: string;
  id: string;
}

/** What a reference finds: a current resource or the tombstone of a deleted one (absent: nothing, or hidden). */
export type TargetState = 'current' | 'deleted';

/** One current resource that refers to a target. */
export interface Referrer {
  /** The target, `Type/id`. */
  target: string;
  type: string;
  id: string;
  /** The element holding the reference, as a FHIRPath; empty for rows written before it was kept. */
  element: string;
  /** Whether the caller may see the referrer (the consent gate lets it through). */
  visible: boolean;
  /** The referrer's content, when `element` is empty, so that the element can be found again. */
  content?: Resource;
}

/**
 * Which of `targets` are there, in one statement: a VALUES list joined to the resource table, through the consent
 * gate when the caller is held by it (a hidden target is as absent as a missing one). The rows found are locked
 * (FOR KEY SHARE) until the transaction ends: a concurrent delete of a target (FOR UPDATE) waits for this write to
 * commit and then sees its reference, or this one waits for the delete and then finds a tombstone.
 */
export async function resolveTargets(db: Database, targets: readonly ResourceKey[], consent?: ConsentGate): Promise<Map<string, TargetState>> {
  const found = new Map<string, TargetState>();
  if (!targets.length) return found;
  const sql = new Statement();
  const types = sql.param(targets.map((t) => t.type));
  const ids = sql.param(targets.map((t) => t.id));
  const gate = consent ? `WHERE ${consentCondition(consent, sql, 'r', [...new Set(targets.map((t) => t.type))])}` : '';
  const rows = await db.query<{ resource_type: string; id: string; deleted: boolean }>(
    `SELECT r.resource_type, r.id, r.deleted
     FROM unnest(${types}::text[], ${ids}::text[]) AS v(resource_type, id)
     JOIN resource r ON r.resource_type = v.resource_type AND r.id = v.id
     ${gate}
     FOR KEY SHARE OF r`,
    sql.params,
  );
  for (const row of rows) found.set(`${row.resource_type}/${row.id}`, row.deleted ? 'deleted' : 'current');
  // AuditEvents are in their own table (migration 007), never deleted nor gated: asked only when one is named.
  const events = targets.filter((t) => t.type === AUDIT_EVENT).map((t) => t.id);
  if (events.length) {
    const stored = await db.query<{ id: string }>('SELECT id FROM audit_event WHERE id = ANY($1::text[])', [events]);
    for (const row of stored) found.set(`${AUDIT_EVENT}/${row.id}`, 'current');
  }
  return found;
}

/**
 * For each of `targets`, one current resource that refers to it (one the caller may see first), leaving out the
 * targets themselves: resources deleted together do not hold each other back.
 */
export async function findReferrers(db: Database, targets: readonly ResourceKey[], consent?: ConsentGate): Promise<Referrer[]> {
  if (!targets.length) return [];
  const sql = new Statement();
  const types = sql.param(targets.map((t) => t.type));
  const ids = sql.param(targets.map((t) => t.id));
  const visible = consent ? consentCondition(consent, sql, 'r') : 'true';
  const rows = await db.query<{ target_type: string; target_id: string; resource_type: string; id: string; param: string; visible: boolean; content: Resource | null }>(
    `SELECT DISTINCT ON (l.target_type, l.target_id) l.target_type, l.target_id, r.resource_type, r.id, l.param,
            ${visible} AS visible, CASE WHEN l.param = '' THEN r.content END AS content
     FROM unnest(${types}::text[], ${ids}::text[]) AS v(resource_type, id)
     JOIN resource_link l ON l.target_type = v.resource_type AND l.target_id = v.id
     JOIN resource r ON r.rid = l.rid
     WHERE NOT r.deleted
       AND NOT EXISTS (SELECT 1 FROM unnest(${types}::text[], ${ids}::text[]) AS d(resource_type, id)
                       WHERE d.resource_type = r.resource_type AND d.id = r.id)
     ORDER BY l.target_type, l.target_id, 6 DESC, r.rid`,
    sql.params,
  );
  return rows.map((row) => ({
    target: `${row.target_type}/${row.target_id}`,
    type: row.resource_type,
    id: row.id,
    element: row.param,
    visible: row.visible,
    ...(row.content ? { content: row.content } : {}),
  }));
}
