import type { AccessCheck, AccessMoment, SubscriptionSpec, TopicEvent } from '../subscriptions/model.js';
import type { Database } from './database.js';
import { WAKE_ENGINES } from './subscription-wake.js';

/**
 * The outbox of topic events (migration 013) and its fan-out into numbered notifications (docs/NOTIFICATIONS.md,
 * DESIGN rule 7). The subscriptions' records are ./subscription-state.ts, the queue the engine sends from
 * ./subscription-queue.ts, its upkeep ./subscription-upkeep.ts; all are re-exported here.
 */
export * from './subscription-state.js';
export * from './subscription-queue.js';
export * from './subscription-upkeep.js';
export { OUTBOX_CHANNEL } from './subscription-wake.js';


/**
 * Records `event` in the caller's transaction: it exists exactly when the change that caused it commits. The NOTIFY
 * is transactional too, so listening engines wake at that COMMIT and never for a rollback. Returns its sequence.
 */
export async function recordTopicEvent(db: Database, event: TopicEvent): Promise<string> {
  const [row] = await db.query<{ seq: string }>(
    `WITH recorded AS (
       INSERT INTO subscription_event (topic, focus_type, focus_id, patient, organization, trigger, occurred_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7::timestamptz) RETURNING seq)
     SELECT seq::text AS seq, ${WAKE_ENGINES}::text AS notified FROM recorded`,
    [event.topic, event.focus.type, event.focus.id, event.patient ?? null, event.organization ?? null, event.trigger, event.occurredAt],
    { prepared: true },
  );
  return row.seq;
}

export interface FanOutOptions {
  /** Whether the subscription's filters accept the event (the topic's rules: server/subscriptions/). */
  match(spec: SubscriptionSpec, event: TopicEvent): boolean;
  /** Whether the subscription's owner may read the event's focus now. */
  access: AccessCheck;
  /** Most events one call takes (100). */
  limit?: number;
}

export interface FanOutResult {
  /** Events this call fanned out. */
  events: number;
  /** Notifications queued for them. */
  notifications: number;
  /** Whether the outbox may hold more (the call found as many as its limit): call again. */
  more: boolean;
}

interface EventRow {
  seq: string;
  topic: string;
  focus_type: string;
  focus_id: string;
  patient: string | null;
  organization: string | null;
  trigger: string;
  occurred_at: Date;
}

interface CandidateRow {
  id: string;
  spec: SubscriptionSpec;
  topic: string;
  starts_after: string;
  ends_at: Date | null;
}

/** One process numbers events at a time, per schema: the order of numbers is the order of the outbox. */
const FAN_OUT_LOCK = `SELECT pg_advisory_xact_lock(hashtextextended('ccp subscription fan-out ' || current_schema(), 0))`;

/**
 * Takes the next events of the outbox in sequence order and queues a notification of each for every active
 * subscription of its topic that was there when it was recorded, whose filters match, and whose owner may read its
 * focus now; each such subscription numbers it next (1, 2, 3 … with no gap: an event a subscriber may not see gets
 * no number from it).
 *
 * The decisions are made before the transaction: the access check reads the database through its own handle, and
 * on PGlite a statement outside a transaction waits for the transaction to end. The transaction then takes the
 * fan-out lock, keeps only the events still waiting (another process may have numbered them meanwhile) and the
 * subscriptions still active, numbers and queues them, and marks the events fanned out: all or nothing.
 */
export async function fanOut(db: Database, { match, access, limit = 100 }: FanOutOptions): Promise<FanOutResult> {
  const events = await db.query<EventRow>(
    `SELECT seq::text AS seq, topic, focus_type, focus_id, patient, organization, trigger, occurred_at
       FROM subscription_event e WHERE NOT fanned_out ORDER BY e.seq LIMIT $1`,
    [limit],
  );
  if (!events.length) return { events: 0, notifications: 0, more: false };
  const more = events.length === limit;
  const candidates = await db.query<CandidateRow>(
    `SELECT id, spec, topic, starts_after::text AS starts_after, ends_at FROM subscription_state
      WHERE status = 'active' AND topic = ANY($1::text[]) ORDER BY id`,
    [[...new Set(events.map((event) => event.topic))]],
  );

  const decided: { seq: string; subscription: string }[] = [];
  // One moment for the whole step: each owner is looked up once, not once per subscription and event.
  const moment: AccessMoment = new Map();
  for (const row of events) {
    const event = topicEvent(row);
    const eligible = candidates.filter(
      (candidate) =>
        candidate.topic === row.topic &&
        BigInt(row.seq) > BigInt(candidate.starts_after) &&
        (!candidate.ends_at || candidate.ends_at > row.occurred_at) &&
        match(candidate.spec, event),
    );
    const allowed = await Promise.all(eligible.map((candidate) => access(candidate.spec.owner, event.focus, moment)));
    eligible.forEach((candidate, i) => allowed[i] && decided.push({ seq: row.seq, subscription: candidate.id }));
  }

  return db.transaction(async (tx) => {
    await tx.query(FAN_OUT_LOCK);
    const waiting = await tx.query<{ seq: string }>(
      'SELECT seq::text AS seq FROM subscription_event WHERE seq = ANY($1::bigint[]) AND NOT fanned_out',
      [events.map((event) => event.seq)],
    );
    if (!waiting.length) return { events: 0, notifications: 0, more };
    const still = new Set(waiting.map((row) => row.seq));
    const kept = decided.filter((pair) => still.has(pair.seq));

    // Each subscription's share, then its numbers taken in one step: base + 1 … base + count, in outbox order.
    const counts = new Map<string, number>();
    for (const pair of kept) counts.set(pair.subscription, (counts.get(pair.subscription) ?? 0) + 1);
    const bases = new Map<string, number>();
    if (counts.size) {
      const numbered = await tx.query<{ id: string; base: string }>(
        `UPDATE subscription_state s SET events_numbered = s.events_numbered + c.n
           FROM unnest($1::text[], $2::int[]) AS c(id, n)
          WHERE s.id = c.id AND s.status = 'active'
          RETURNING s.id, (s.events_numbered - c.n)::text AS base`,
        [[...counts.keys()], [...counts.values()]],
      );
      for (const row of numbered) bases.set(row.id, Number(row.base));
    }
    const subscriptions: string[] = [];
    const numbers: number[] = [];
    const seqs: string[] = [];
    for (const pair of kept) {
      const base = bases.get(pair.subscription);
      if (base === undefined) continue;
      bases.set(pair.subscription, base + 1);
      subscriptions.push(pair.subscription);
      numbers.push(base + 1);
      seqs.push(pair.seq);
    }
    if (subscriptions.length) {
      // In number order, so that the queue's ids follow the numbers (the claim takes the lowest id first).
      await tx.query(
        `INSERT INTO subscription_notification (subscription_id, kind, event_number, event_seq, focus_type, focus_id, occurred_at)
         SELECT p.subscription_id, 'event', p.number, e.seq, e.focus_type, e.focus_id, e.occurred_at
           FROM unnest($1::text[], $2::bigint[], $3::bigint[]) WITH ORDINALITY AS p(subscription_id, number, seq, ord)
           JOIN subscription_event e ON e.seq = p.seq
          ORDER BY p.ord`,
        [subscriptions, numbers, seqs],
      );
    }
    await tx.query('UPDATE subscription_event SET fanned_out = true WHERE seq = ANY($1::bigint[])', [[...still]]);
    return { events: still.size, notifications: subscriptions.length, more };
  });
}

function topicEvent(row: EventRow): TopicEvent {
  return {
    topic: row.topic,
    focus: { type: row.focus_type, id: row.focus_id },
    ...(row.patient !== null ? { patient: row.patient } : {}),
    ...(row.organization !== null ? { organization: row.organization } : {}),
    trigger: row.trigger,
    occurredAt: row.occurred_at.toISOString(),
  };
}
