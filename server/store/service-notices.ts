import type { Communication } from 'fhir/r4';
import { isCurrentNotice, NOTICE_KIND_SYSTEM, NOTICE_KINDS, readServiceNotice, type ServiceNotice } from '../conformance/notice-vocabulary.js';
import type { Database } from './database.js';

/**
 * Storage's side of service notices (server/conformance/notice-vocabulary.ts): the notices in progress, for the
 * message of the day (server/http/) and the rounds (server/notices/rounds.ts), and the record that a scheduled
 * event of a notice happened (migration 014). Found through the search index's category tokens, so the query
 * stays small however many other Communications there are.
 */
const IN_PROGRESS = `
  SELECT r.content FROM resource r
   WHERE r.resource_type = 'Communication' AND NOT r.deleted AND r.content->>'status' = 'in-progress'
     AND r.rid IN (SELECT t.rid FROM search_token t
                    WHERE t.resource_type = 'Communication' AND t.param = 'category'
                      AND t.code = ANY($1::text[]) AND t.system = $2)
   ORDER BY r.last_updated DESC, r.id`;

/** Every service notice whose status is in-progress, the latest written first. */
export async function noticesInProgress(db: Database): Promise<Communication[]> {
  const rows = await db.query<{ content: Communication }>(IN_PROGRESS, [[...NOTICE_KINDS], NOTICE_KIND_SYSTEM], { prepared: true });
  return rows.map((row) => row.content);
}

export type OccurrenceKind = 'reminder' | 'completed';

/**
 * Claims the `kind` event of notice `id` due at `dueAt`, in the caller's transaction: true when this call made the
 * claim, false when it had been made (by another round, here or in another process). A claim made in a transaction
 * that rolls back is no claim, so the event and its claim commit together or not at all.
 */
export async function claimOccurrence(db: Database, id: string, kind: OccurrenceKind, dueAt: Date): Promise<boolean> {
  const rows = await db.query<{ claimed: boolean }>(
    `INSERT INTO notice_occurrence (notice_id, kind, due_at) VALUES ($1, $2, $3::timestamptz)
     ON CONFLICT DO NOTHING RETURNING true AS claimed`,
    [id, kind, dueAt.toISOString()],
  );
  return rows.length === 1;
}

/**
 * The notices current at `now` (in progress, and not past their window's end): the message of the day. Notices
 * that name no kind we know are left out rather than shown half-read.
 */
export async function currentNotices(db: Database, now: Date = new Date()): Promise<ServiceNotice[]> {
  return (await noticesInProgress(db)).map((resource) => readServiceNotice(resource)).filter((notice): notice is ServiceNotice => notice !== undefined && isCurrentNotice(notice, now));
}

/** The current version of each of `ids` that is a service notice (deleted ones and other Communications left out). */
export async function noticesById(db: Database, ids: readonly string[]): Promise<ServiceNotice[]> {
  if (!ids.length) return [];
  const rows = await db.query<{ content: Communication }>(
    `SELECT content FROM resource WHERE resource_type = 'Communication' AND id = ANY($1::text[]) AND NOT deleted ORDER BY last_updated, id`,
    [[...ids]],
  );
  return rows.map((row) => readServiceNotice(row.content)).filter((notice): notice is ServiceNotice => notice !== undefined);
}
