import type { Database } from './database.js';

/**
 * What the delivery engine does besides fanning out and sending (migration 013): heartbeats, subscriptions that
 * reached their end, and the retention of settled notifications. Each is one statement, safe in several processes.
 */

/**
 * Queues a heartbeat for each active subscription whose heartbeat is due and that has nothing waiting (a subscription
 * with something waiting is about to hear from us anyway); either way its next heartbeat counts from now. Returns
 * how many were queued.
 */
export async function queueHeartbeats(db: Database): Promise<number> {
  const [row] = await db.query<{ queued: number }>(
    `WITH due AS (
       SELECT s.id, NOT EXISTS (SELECT 1 FROM subscription_notification n WHERE n.subscription_id = s.id AND n.outcome IS NULL) AS idle
         FROM subscription_state s
        WHERE s.status = 'active' AND s.heartbeat_due <= now() AND s.spec->>'heartbeatSeconds' IS NOT NULL
          AND (s.ends_at IS NULL OR s.ends_at > now())
        FOR UPDATE OF s SKIP LOCKED),
     bumped AS (
       UPDATE subscription_state s SET heartbeat_due = now() + (s.spec->>'heartbeatSeconds')::float8 * interval '1 second'
         FROM due WHERE s.id = due.id
        RETURNING s.id, due.idle),
     queued AS (
       INSERT INTO subscription_notification (subscription_id, kind) SELECT id, 'heartbeat' FROM bumped WHERE idle RETURNING id)
     SELECT count(*)::int AS queued FROM queued`,
  );
  return row.queued;
}

/**
 * Subscriptions past their `end` are `off`: nothing more is sent to them (what waited is abandoned with that reason).
 * Returns their ids.
 */
export async function endExpired(db: Database): Promise<string[]> {
  const rows = await db.query<{ id: string }>(
    `WITH ended AS (
       UPDATE subscription_state SET status = 'off', heartbeat_due = NULL, error = NULL, error_since = NULL
        WHERE status IN ('requested', 'active') AND ends_at <= now()
        RETURNING id),
     abandoned AS (
       UPDATE subscription_notification n
          SET outcome = 'abandoned', settled_at = now(), last_failure = 'the subscription ended', lease_holder = NULL, lease_until = NULL
         FROM ended WHERE n.subscription_id = ended.id AND n.outcome IS NULL)
     SELECT id FROM ended`,
  );
  return rows.map((row) => row.id);
}

export interface PurgeResult {
  notifications: number;
  events: number;
}

/**
 * Forgets settled notifications older than `retentionSeconds` (so `$events` reaches back that far) and outbox events
 * fanned out that long ago. The numbering goes on from the subscription's count, so numbers are never reused.
 */
export async function purgeSettled(db: Database, retentionSeconds: number): Promise<PurgeResult> {
  const [row] = await db.query<PurgeResult>(
    `WITH notifications AS (
       DELETE FROM subscription_notification
        WHERE outcome IS NOT NULL AND settled_at < now() - $1::float8 * interval '1 second'
        RETURNING 1),
     events AS (
       DELETE FROM subscription_event
        WHERE fanned_out AND occurred_at < now() - $1::float8 * interval '1 second'
        RETURNING 1)
     SELECT (SELECT count(*) FROM notifications)::int AS notifications, (SELECT count(*) FROM events)::int AS events`,
    [retentionSeconds],
  );
  return row;
}
