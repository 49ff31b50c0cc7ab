import type { NumberedEvent, SubscriptionSpec, SubscriptionStatusCode } from '../subscriptions/model.js';
import type { Database } from './database.js';
import { WAKE_ENGINES } from './subscription-wake.js';

/**
 * The delivery engine's view of each Subscription (migration 013, `subscription_state`), kept by the Subscription
 * write path in the transaction that writes the resource, and read by `$status` and `$events`.
 */

/** What `$status` reports of a subscription, as the engine knows it now. */
export interface SubscriptionState {
  subscription: SubscriptionSpec;
  status: SubscriptionStatusCode;
  /** The highest event number given so far (the IG's events-since-subscription-start). */
  eventsSinceSubscriptionStart: number;
  /** Why it is in error, and since when (ISO 8601), while it is. */
  error?: string;
  errorSince?: string;
}

/**
 * The queue a subscription's notifications wait in: one per place they go to, so a receiver that is away holds up
 * only the subscriptions sending to it. A websocket belongs to one subscription (its client binds to it).
 */
export function endpointKey(spec: SubscriptionSpec): string {
  if (spec.channel === 'websocket' || !spec.endpoint) return `${spec.channel} ${spec.id}`;
  return `${spec.channel} ${spec.channel === 'email' ? spec.endpoint.toLowerCase() : spec.endpoint}`;
}

/**
 * Creates or replaces the engine's record of a Subscription and moves it to `status` (see setSubscriptionStatus).
 * A new subscription is told only of events recorded after it: those already in the outbox are not its business.
 * Its event numbers carry on across updates.
 */
export async function putSubscription(db: Database, spec: SubscriptionSpec, status: SubscriptionStatusCode): Promise<void> {
  await db.transaction(async (tx) => {
    await lockQueue(tx, spec.id);
    // Created in `off` (no queue, no heartbeat), then moved like any status change.
    await tx.query(
      `INSERT INTO subscription_state AS s (id, spec, topic, channel, status, endpoint_key, starts_after, ends_at)
       VALUES ($1, $2::jsonb, $3, $4, 'off', $5, (SELECT coalesce(max(seq), 0) FROM subscription_event), $6::timestamptz)
       ON CONFLICT (id) DO UPDATE SET spec = EXCLUDED.spec, topic = EXCLUDED.topic, channel = EXCLUDED.channel,
         endpoint_key = EXCLUDED.endpoint_key, ends_at = EXCLUDED.ends_at`,
      [spec.id, JSON.stringify(spec), spec.topic, spec.channel, endpointKey(spec), spec.end ?? null],
    );
    await setSubscriptionStatus(tx, spec.id, status);
  });
}

/**
 * Moves a subscription to `status`:
 * - `requested`: a handshake is queued (unless one is already waiting) and the engines woken; once it is delivered
 *   the subscription is `active` (server/store/subscription-queue.ts `markDelivered`).
 * - `active`: events are numbered for it from now on, and its heartbeat runs.
 * - `error` (with the reason) or `off`: nothing more is numbered or sent; what was waiting is settled as abandoned,
 *   and its numbered events stay for `$events`.
 * Returns false when there is no such subscription.
 */
export async function setSubscriptionStatus(db: Database, id: string, status: SubscriptionStatusCode, error?: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    await lockQueue(tx, id);
    const heartbeat = `(spec->>'heartbeatSeconds')::float8 * interval '1 second'`;
    const updated = await tx.query(
      `UPDATE subscription_state SET
         error = CASE WHEN $2::text = 'error' THEN $3::text END,
         error_since = CASE WHEN $2::text = 'error' THEN CASE WHEN status = 'error' THEN error_since ELSE now() END END,
         heartbeat_due = CASE WHEN $2::text = 'active' AND spec->>'heartbeatSeconds' IS NOT NULL
                              THEN CASE WHEN status = 'active' THEN coalesce(heartbeat_due, now() + ${heartbeat}) ELSE now() + ${heartbeat} END END,
         status = $2::text
       WHERE id = $1 RETURNING id`,
      [id, status, status === 'error' ? (error ?? 'error') : null],
    );
    if (!updated.length) return false;
    if (status === 'requested') {
      await tx.query(
        `INSERT INTO subscription_notification (subscription_id, kind)
         SELECT $1, 'handshake' WHERE NOT EXISTS (
           SELECT 1 FROM subscription_notification WHERE subscription_id = $1 AND kind = 'handshake' AND outcome IS NULL)`,
        [id],
      );
      // The handshake goes out as soon as this commits, from whichever process is free.
      await tx.query(`SELECT ${WAKE_ENGINES}::text AS notified`);
    } else if (status === 'active') {
      // Made active without one (a client that bound its websocket): a handshake still waiting is not needed.
      await tx.query(
        `UPDATE subscription_notification SET outcome = 'abandoned', settled_at = now(), lease_holder = NULL, lease_until = NULL
         WHERE subscription_id = $1 AND kind = 'handshake' AND outcome IS NULL`,
        [id],
      );
    } else {
      await tx.query(
        `UPDATE subscription_notification SET outcome = 'abandoned', settled_at = now(), lease_holder = NULL, lease_until = NULL
         WHERE subscription_id = $1 AND outcome IS NULL`,
        [id],
      );
    }
    return true;
  });
}

/**
 * The subscription's waiting notifications locked before its row: the order the engine takes them in when it settles
 * a delivery (server/store/subscription-queue.ts `markDelivered`), so that the two never wait for each other.
 */
export async function lockQueue(tx: Database, id: string): Promise<void> {
  await tx.query('SELECT id FROM subscription_notification WHERE subscription_id = $1 AND outcome IS NULL ORDER BY id FOR UPDATE', [id]);
}

/** The Subscription was deleted: its queue and its events go with it. */
export async function removeSubscription(db: Database, id: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    await lockQueue(tx, id);
    return (await tx.query('DELETE FROM subscription_state WHERE id = $1 RETURNING id', [id])).length > 0;
  });
}

/** What `$status` reports, or undefined when the engine has no such subscription. */
export async function statusOf(db: Database, id: string): Promise<SubscriptionState | undefined> {
  const [row] = await db.query<{ spec: SubscriptionSpec; status: SubscriptionStatusCode; numbered: string; error: string | null; error_since: Date | null }>(
    'SELECT spec, status, events_numbered::text AS numbered, error, error_since FROM subscription_state WHERE id = $1',
    [id],
  );
  if (!row) return undefined;
  return {
    subscription: row.spec,
    status: row.status,
    eventsSinceSubscriptionStart: Number(row.numbered),
    ...(row.error !== null ? { error: row.error } : {}),
    ...(row.error_since ? { errorSince: row.error_since.toISOString() } : {}),
  };
}

/**
 * The events numbered for a subscription from `from` to `to` (both included, either open), in order: what `$events`
 * answers with, for as long as the retention keeps them (whether delivered, waiting, or abandoned when the
 * subscription went to error). Whether the caller may still see each focus is the caller's decision.
 */
export async function eventsFor(db: Database, subscriptionId: string, from?: number, to?: number): Promise<NumberedEvent[]> {
  const rows = await db.query<{ number: string; occurred_at: Date; focus_type: string; focus_id: string }>(
    `SELECT event_number::text AS number, occurred_at, focus_type, focus_id FROM subscription_notification
      WHERE subscription_id = $1 AND kind = 'event'
        AND ($2::bigint IS NULL OR event_number >= $2::bigint) AND ($3::bigint IS NULL OR event_number <= $3::bigint)
      ORDER BY event_number`,
    [subscriptionId, from ?? null, to ?? null],
  );
  return rows.map((row) => ({
    eventNumber: Number(row.number),
    timestamp: row.occurred_at.toISOString(),
    focus: { type: row.focus_type, id: row.focus_id },
  }));
}
