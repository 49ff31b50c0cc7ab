import type { Communication } from 'fhir/r4';
import type { Logger } from 'pino';
import { readServiceNotice, type ServiceNotice } from '../conformance/notice-vocabulary.js';
import type { Database } from '../store/database.js';
import { periodicRound, type PeriodicRound } from '../store/periodic-round.js';
import { claimOccurrence, noticesInProgress, type OccurrenceKind } from '../store/service-notices.js';
import { type Indexer, SqlResourceStore } from '../store/sql-resource-store.js';
import { TOPIC_BASE, type TopicEvent } from '../subscriptions/model.js';

/** NOTICE_REMINDER_HOURS: how long before a planned downtime starts its reminder goes out. */
export const DEFAULT_NOTICE_REMINDER_HOURS = 24;
/** NOTICE_ROUND_INTERVAL: seconds between two rounds. A reminder or completion is at most this late. */
export const DEFAULT_NOTICE_ROUND_SECONDS = 60;

export interface NoticeRoundsOptions {
  /** The search index of what the round writes (a notice's completed version), as the store's. */
  index: Indexer;
  /** Time between the end of one round and the start of the next. */
  intervalMs: number;
  /** Hours before a planned downtime's start that its reminder is due (DEFAULT_NOTICE_REMINDER_HOURS). */
  reminderHours?: number;
  logger?: Logger;
  /** The time a round takes as now (tests). */
  clock?: () => Date;
}

/** What one round recorded: the ids of the notices reminded of and completed. */
export interface NoticeRound {
  reminded: string[];
  completed: string[];
}

/**
 * The service notices' scheduled events (issue 20, seed 002): for every planned downtime in progress, a `reminder`
 * topic event `reminderHours` before its start, and once its end has passed a `completed` event together with a
 * new version of the notice with status completed (written through the store, so it is versioned and indexed like
 * any; not audited as a REST interaction: the server writes it, nobody asked). The events an administrator's writes
 * cause (posted, changed) are the write's own (server/notifications/topic-events.ts).
 *
 * Exactly once, whatever the number of processes running rounds: each occurrence is claimed in migration 014's
 * table, keyed by notice, kind and due time, in the transaction that records its outbox row, and the notice's lock
 * (the one every write of it takes) is held while the notice is read again, so an administrator ending or moving the
 * downtime meanwhile is seen. A reminder is not sent when the notice was posted within the reminder's lead (the
 * posting said it already) or once the downtime has begun; a downtime whose end passed while no process ran is
 * completed at the next round, with its reminder skipped.
 *
 * Started by the server's composition (server/main.ts) with `start()`, stopped with `stop()` before the database
 * closes, as the other rounds (server/store/periodic-round.ts).
 */
export function createNoticeRounds(db: Database, options: NoticeRoundsOptions): PeriodicRound<NoticeRound> {
  const leadMs = (options.reminderHours ?? DEFAULT_NOTICE_REMINDER_HOURS) * 3600_000;
  const clock = options.clock ?? (() => new Date());
  return periodicRound<NoticeRound>({
    name: 'service notice rounds',
    intervalMs: options.intervalMs,
    logger: options.logger,
    run: () => noticeRound(db, options.index, leadMs, clock()),
    report(result, ms) {
      if (result.reminded.length || result.completed.length) options.logger?.info({ ...result, ms }, 'service notice rounds: events recorded');
    },
  });
}

/** What is due of `notice` at `now`, if anything: its completion first (a reminder past its start is moot). */
function dueOf(notice: ServiceNotice, now: Date, leadMs: number): { kind: OccurrenceKind; dueAt: Date } | undefined {
  if (notice.kind !== 'planned-downtime' || notice.status !== 'in-progress') return undefined;
  const start = Date.parse(notice.window?.start ?? '');
  const end = Date.parse(notice.window?.end ?? '');
  if (Number.isNaN(start) || Number.isNaN(end)) return undefined;
  if (end <= now.getTime()) return { kind: 'completed', dueAt: new Date(end) };
  const reminderAt = start - leadMs;
  if (reminderAt > now.getTime() || start <= now.getTime()) return undefined;
  const sent = Date.parse(notice.sent ?? '');
  if (!Number.isNaN(sent) && sent >= reminderAt) return undefined;
  return { kind: 'reminder', dueAt: new Date(reminderAt) };
}

async function noticeRound(db: Database, index: Indexer, leadMs: number, now: Date): Promise<NoticeRound> {
  const result: NoticeRound = { reminded: [], completed: [] };
  for (const candidate of await noticesInProgress(db)) {
    const notice = readServiceNotice(candidate);
    if (!notice?.id || !dueOf(notice, now, leadMs)) continue;
    const recorded = await db.transaction((tx) => recordDue(tx, index, notice.id!, leadMs, now));
    if (recorded === 'reminder') result.reminded.push(notice.id);
    if (recorded === 'completed') result.completed.push(notice.id);
  }
  return result;
}

/** Under the notice's lock: what is due of it now, claimed and recorded, or nothing when it was already. */
async function recordDue(tx: Database, index: Indexer, id: string, leadMs: number, now: Date): Promise<OccurrenceKind | undefined> {
  const store = new SqlResourceStore(tx, index);
  await store.lock(`Communication/${id}`);
  const found = await store.read('Communication', id);
  if (found.kind !== 'found') return undefined;
  const current = found.resource as Communication & { id: string };
  const notice = readServiceNotice(current);
  const due = notice && dueOf(notice, now, leadMs);
  if (!due || !(await claimOccurrence(tx, id, due.kind, due.dueAt))) return undefined;
  let occurredAt = now.toISOString();
  if (due.kind === 'completed') {
    const completed: Communication & { id: string } = { ...current, status: 'completed' };
    const written = await store.update(completed, { allowCreate: false, ifMatch: current.meta?.versionId });
    if (written.kind !== 'updated') throw new Error(`service notice rounds: Communication/${id} changed under its lock (${written.kind})`);
    occurredAt = written.resource.meta?.lastUpdated ?? occurredAt;
  }
  const event: TopicEvent = { topic: `${TOPIC_BASE}/service-notice`, focus: { type: 'Communication', id }, trigger: due.kind, occurredAt };
  await store.recordTopicEvent(event);
  return due.kind;
}
