import type { ChannelType, FocusRef, SubscriptionSpec, SubscriptionStatusCode } from '../subscriptions/model.js';
import { Statement } from '../search/sql/statement.js';
import type { Database } from './database.js';
import { lockQueue, setSubscriptionStatus } from './subscription-state.js';

/**
 * The queue of notifications (migration 013, `subscription_notification`) as the delivery engines work it: claimed
 * under a lease, then settled. Several processes share it: a claim locks what it takes with SKIP LOCKED and leases
 * it, so no transaction stays open over the network call, and a lease whose process died expires and is taken again.
 */

export type NotificationKind = 'handshake' | 'heartbeat' | 'event';

export interface ClaimedNotification {
  /** The queue row's id (a bigint, as text). */
  id: string;
  /** For an event: its number for this subscription, its focus and when it happened. */
  eventNumber?: number;
  focus?: FocusRef;
  occurredAt?: string;
}

/** What one send is about: a subscription's next notification, or for events its next ones in order up to its maxCount. */
export interface ClaimedDelivery {
  subscription: SubscriptionSpec;
  status: SubscriptionStatusCode;
  /** The highest event number given so far. */
  eventsNumbered: number;
  kind: NotificationKind;
  /** In order: the first is the subscription's lowest waiting one. */
  notifications: ClaimedNotification[];
  /** Attempts at the first notification, this one included. */
  attempts: number;
  /** When its attempts began to fail (the retry window counts from there), if they have. */
  failingSince?: Date;
}

export interface ClaimOptions {
  /** Who holds the lease: this process's engine. */
  holder: string;
  /** How long the lease lasts: longer than any send may take, or another process sends the same notification again. */
  leaseSeconds: number;
  /** Most deliveries to claim. */
  limit: number;
  /** Only subscriptions of these channels (the ones this process has). */
  channels?: ChannelType[];
  /** Only these subscriptions (e.g. the websockets connected to this process). */
  subscriptionIds?: string[];
}

/** Claims take turns per schema: each then sees the leases the one before took, so an endpoint gets one at a time. */
const CLAIM_LOCK = `SELECT pg_advisory_xact_lock(hashtextextended('ccp subscription claim ' || current_schema(), 0))`;

/**
 * `head`: each live subscription's first waiting notification (a handshake before anything else, then in order), with
 * its endpoint; `busy`: the endpoints with a notification in flight under a lease that has not expired.
 */
function headCtes(sql: Statement, options: Pick<ClaimOptions, 'channels' | 'subscriptionIds'>): string[] {
  const where = [`s.status IN ('requested', 'active')`, '(s.ends_at IS NULL OR s.ends_at > now())'];
  if (options.channels) where.push(`s.channel = ANY(${sql.param(options.channels)}::text[])`);
  if (options.subscriptionIds) where.push(`s.id = ANY(${sql.param(options.subscriptionIds)}::text[])`);
  return [
    `head AS MATERIALIZED (
       SELECT n.id, s.endpoint_key, n.due_at, n.lease_until
         FROM subscription_state s
         CROSS JOIN LATERAL (
           SELECT id, due_at, lease_until FROM subscription_notification n
            WHERE n.subscription_id = s.id AND n.outcome IS NULL
            ORDER BY n.precedence, n.id LIMIT 1) n
        WHERE ${where.join(' AND ')})`,
    `busy AS (SELECT endpoint_key, max(lease_until) AS until FROM head WHERE lease_until > now() GROUP BY endpoint_key)`,
  ];
}

interface HeadRow {
  id: string;
  subscription_id: string;
  kind: NotificationKind;
  event_number: string | null;
  focus_type: string | null;
  focus_id: string | null;
  occurred_at: Date | null;
  attempts: number;
  failing_since: Date | null;
  spec: SubscriptionSpec;
  status: SubscriptionStatusCode;
  numbered: string;
}

type FollowerRow = Pick<HeadRow, 'id' | 'subscription_id' | 'event_number' | 'focus_type' | 'focus_id' | 'occurred_at'>;

const NOTIFICATION_COLUMNS = 'n.id::text AS id, n.subscription_id, n.event_number::text AS event_number, n.focus_type, n.focus_id, n.occurred_at';

/**
 * The notifications to send now, leased to `holder`: of each endpoint at most one in flight, and of each subscription
 * only its lowest waiting one (with, for events, the ones after it up to its maxCount, sent together in order), and
 * only when due (a failed one waits for its retry time). An expired lease counts as none.
 */
export async function claimDue(db: Database, options: ClaimOptions): Promise<ClaimedDelivery[]> {
  return db.transaction(async (tx) => {
    await tx.query(CLAIM_LOCK);
    const sql = new Statement();
    const ctes = headCtes(sql, options);
    const lease = `now() + ${sql.param(options.leaseSeconds)}::float8 * interval '1 second'`;
    const holder = sql.param(options.holder);
    const heads = await tx.query<HeadRow>(
      sql.with(
        [
          ...ctes,
          `ready AS (
             SELECT DISTINCT ON (endpoint_key) id, due_at FROM head
              WHERE due_at <= now() AND (lease_until IS NULL OR lease_until <= now())
                AND endpoint_key NOT IN (SELECT endpoint_key FROM busy)
              ORDER BY endpoint_key, due_at, id)`,
          // Re-checked under the row lock: a notification settled or leased since the statement began is left alone.
          `picked AS (
             SELECT n.id FROM subscription_notification n JOIN ready r ON r.id = n.id
              WHERE n.outcome IS NULL AND (n.lease_until IS NULL OR n.lease_until <= now())
              ORDER BY r.due_at, r.id LIMIT ${sql.param(options.limit)}
              FOR UPDATE OF n SKIP LOCKED)`,
        ],
        `UPDATE subscription_notification n SET lease_holder = ${holder}, lease_until = ${lease}, attempts = n.attempts + 1
           FROM picked, subscription_state s
          WHERE n.id = picked.id AND s.id = n.subscription_id
          RETURNING ${NOTIFICATION_COLUMNS}, n.kind, n.attempts, n.failing_since, s.spec, s.status, s.events_numbered::text AS numbered`,
      ),
      sql.params,
    );
    const batched = heads.filter((head) => head.kind === 'event' && head.spec.maxCount > 1);
    const followers = batched.length ? await leaseFollowers(tx, batched, options) : [];
    return heads.map((head) => ({
      subscription: head.spec,
      status: head.status,
      eventsNumbered: Number(head.numbered),
      kind: head.kind,
      notifications: [head, ...followers.filter((row) => row.subscription_id === head.subscription_id)].map(claimedNotification),
      attempts: head.attempts,
      ...(head.failing_since ? { failingSince: head.failing_since } : {}),
    }));
  });
}

/** The events waiting after each claimed first one, up to its subscription's maxCount in all, leased with it. */
async function leaseFollowers(tx: Database, heads: HeadRow[], options: ClaimOptions): Promise<FollowerRow[]> {
  const rows = await tx.query<FollowerRow>(
    `UPDATE subscription_notification n SET lease_holder = $4, lease_until = now() + $5::float8 * interval '1 second', attempts = n.attempts + 1
       FROM (SELECT f.id FROM unnest($1::bigint[], $2::text[], $3::int[]) AS h(id, subscription_id, max_count)
              CROSS JOIN LATERAL (
                SELECT id FROM subscription_notification f
                 WHERE f.subscription_id = h.subscription_id AND f.outcome IS NULL AND f.precedence = 1 AND f.id > h.id
                 ORDER BY f.precedence, f.id LIMIT h.max_count - 1) f) following
      WHERE n.id = following.id AND n.kind = 'event'
      RETURNING ${NOTIFICATION_COLUMNS}`,
    [heads.map((head) => head.id), heads.map((head) => head.subscription_id), heads.map((head) => head.spec.maxCount), options.holder, options.leaseSeconds],
  );
  return rows.sort((a, b) => Number(a.event_number) - Number(b.event_number));
}

function claimedNotification(row: FollowerRow): ClaimedNotification {
  return {
    id: row.id,
    ...(row.event_number !== null ? { eventNumber: Number(row.event_number) } : {}),
    ...(row.focus_type !== null && row.focus_id !== null ? { focus: { type: row.focus_type, id: row.focus_id } } : {}),
    ...(row.occurred_at ? { occurredAt: row.occurred_at.toISOString() } : {}),
  };
}

/**
 * Delivered: settled, and the subscription's heartbeat counts from now; a delivered handshake makes a `requested`
 * subscription `active`. A delivery is a fact, so it is recorded even when the lease had passed to another process
 * or the subscription went to error meanwhile. Returns how many it settled now (0 when they already were).
 */
export async function markDelivered(db: Database, ids: string[]): Promise<number> {
  const [row] = await db.query<{ settled: number }>(
    `WITH done AS (
       UPDATE subscription_notification SET outcome = 'delivered', settled_at = now(), lease_holder = NULL, lease_until = NULL
        WHERE id = ANY($1::bigint[]) AND (outcome IS NULL OR outcome = 'abandoned')
        RETURNING subscription_id, kind),
     activated AS (
       UPDATE subscription_state s SET
         status = CASE WHEN s.status = 'requested' AND d.handshake THEN 'active' ELSE s.status END,
         heartbeat_due = CASE WHEN (s.status = 'active' OR (s.status = 'requested' AND d.handshake)) AND s.spec->>'heartbeatSeconds' IS NOT NULL
                              THEN now() + (s.spec->>'heartbeatSeconds')::float8 * interval '1 second' END
         FROM (SELECT subscription_id, bool_or(kind = 'handshake') AS handshake FROM done GROUP BY subscription_id) d
        WHERE s.id = d.subscription_id
        RETURNING s.id)
     SELECT count(*)::int AS settled FROM done`,
    [ids],
  );
  return row.settled;
}

/** Failed, to be tried again at `retryAt`: the lease is released and the reason kept (no content, ids only). */
export async function markFailed(db: Database, { ids, holder, reason, retryAt }: { ids: string[]; holder: string; reason: string; retryAt: Date }): Promise<void> {
  await db.query(
    `UPDATE subscription_notification
        SET due_at = $3::timestamptz, last_failure = $4, failing_since = coalesce(failing_since, now()), lease_holder = NULL, lease_until = NULL
      WHERE id = ANY($1::bigint[]) AND outcome IS NULL AND lease_holder = $2`,
    [ids, holder, retryAt.toISOString(), reason],
  );
}

/** What is left of a subscription's numbering once events were withdrawn from it. */
export interface Withdrawn {
  /** The subscription's waiting notifications whose numbers moved down, by queue id, with their new number. */
  renumbered: Map<string, number>;
  /** The highest event number given now (the IG's events-since-subscription-start). */
  eventsNumbered: number;
}

/**
 * Not sent, and never will be: the subscriber may no longer read these events' focus. They are taken out of the
 * subscription's numbering as if never numbered for it (issue 20: events a subscriber may not see leave no gap that
 * reveals them): removed from its queue, so `$events` does not list them either, and every later number moved down
 * to close the gap, the subscription's count with them. Nothing after the first of them has been delivered (a
 * subscription is sent in order, and the caller holds the lease on the first waiting one), so no number a
 * subscriber saw changes. Its waiting notifications are locked, then its row (the order of every settling of a
 * delivery), whose lock a fan-out numbering for it holds until it commits: the renumbering sees what it queued.
 * Why they were withdrawn is the audit trail's (server/delivery/deliver.ts reports the drop).
 */
export async function withdrawEvents(db: Database, { subscriptionId, ids }: { subscriptionId: string; ids: string[] }): Promise<Withdrawn> {
  return db.transaction(async (tx) => {
    await lockQueue(tx, subscriptionId);
    const [state] = await tx.query<{ numbered: string }>('SELECT events_numbered::text AS numbered FROM subscription_state WHERE id = $1 FOR UPDATE', [subscriptionId]);
    if (!state) return { renumbered: new Map(), eventsNumbered: 0 };
    const removed = await tx.query<{ number: string }>(
      `DELETE FROM subscription_notification WHERE subscription_id = $1 AND id = ANY($2::bigint[]) AND kind = 'event' AND outcome IS NULL
        RETURNING event_number::text AS number`,
      [subscriptionId, ids],
    );
    if (!removed.length) return { renumbered: new Map(), eventsNumbered: Number(state.numbered) };
    const numbers = removed.map((row) => Number(row.number));
    // Through negative numbers: the unique (subscription, number) is checked row by row, and a step down in place
    // could meet the next row's old number.
    await tx.query(
      `UPDATE subscription_notification n
          SET event_number = -(n.event_number - (SELECT count(*) FROM unnest($2::bigint[]) AS w(number) WHERE w.number < n.event_number))
        WHERE n.subscription_id = $1 AND n.event_number > $3`,
      [subscriptionId, numbers, Math.min(...numbers)],
    );
    const moved = await tx.query<{ id: string; number: string }>(
      `UPDATE subscription_notification SET event_number = -event_number WHERE subscription_id = $1 AND event_number < 0
        RETURNING id::text AS id, event_number::text AS number`,
      [subscriptionId],
    );
    const [count] = await tx.query<{ numbered: string }>(
      'UPDATE subscription_state SET events_numbered = events_numbered - $2 WHERE id = $1 RETURNING events_numbered::text AS numbered',
      [subscriptionId, numbers.length],
    );
    return { renumbered: new Map(moved.map((row) => [row.id, Number(row.number)])), eventsNumbered: Number(count.numbered) };
  });
}

/**
 * The retries are over (or the failure is not worth retrying): the subscription goes to `error` with the reason,
 * what waited for it is abandoned, and its numbered events stay for `$events`.
 */
export async function giveUp(db: Database, { subscriptionId, ids, reason }: { subscriptionId: string; ids: string[]; reason: string }): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query('UPDATE subscription_notification SET last_failure = $2 WHERE id = ANY($1::bigint[]) AND outcome IS NULL', [ids, reason]);
    await setSubscriptionStatus(tx, subscriptionId, 'error', reason);
  });
}

/**
 * Seconds until the engine has something to do among these subscriptions (a notification comes due, a lease expires,
 * a heartbeat is due), or undefined when nothing waits; 0 or less: now.
 */
export async function nextDueIn(db: Database, options: Pick<ClaimOptions, 'channels' | 'subscriptionIds'> = {}): Promise<number | undefined> {
  const sql = new Statement();
  const [row] = await db.query<{ seconds: number | null }>(
    sql.with(
      headCtes(sql, options),
      `SELECT extract(epoch FROM least(
         (SELECT min(greatest(h.due_at, coalesce(b.until, h.due_at))) FROM head h LEFT JOIN busy b ON b.endpoint_key = h.endpoint_key),
         (SELECT min(heartbeat_due) FROM subscription_state WHERE status = 'active'),
         (SELECT min(ends_at) FROM subscription_state WHERE status IN ('requested', 'active'))
       ) - now())::float8 AS seconds`,
    ),
    sql.params,
  );
  return row?.seconds ?? undefined;
}
