import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Bundle } from 'fhir/r4';
import type { Logger } from 'pino';
import type { Database } from '../store/database.js';
import { DatabaseUnavailable } from '../store/unavailable.js';
import { claimDue, endExpired, fanOut, nextDueIn, purgeSettled, queueHeartbeats } from '../store/subscription-outbox.js';
import type { AccessCheck, Channel, ChannelType, SubscriptionSpec, SubscriptionStatusReport, TopicEvent } from '../subscriptions/model.js';
import type { DeliveryAttempt } from './attempt.js';
import { DEFAULT_RETRY, type RetryPolicy } from './backoff.js';
import { type DeliveryContext, deliver } from './deliver.js';
import { type OutboxListener, listenToOutbox } from './outbox-listener.js';

export interface DeliveryEngineOptions {
  /** The channels this process sends on; subscriptions of the others are left to processes that have them. */
  channels: Partial<Record<ChannelType, Channel>>;
  /** The notification Bundle of a report (server/subscriptions/notification-bundle.ts). */
  build(report: SubscriptionStatusReport): Bundle;
  /** Whether a subscription's filters accept an event (its topic's rules). */
  match(spec: SubscriptionSpec, event: TopicEvent): boolean;
  /** Whether a subscription's owner may read a focus now: at fan-out, and again before each send. */
  access: AccessCheck;
  /**
   * The websocket Subscriptions whose clients are connected to this process: only their notifications are claimed
   * here (a websocket is held by one process; another claiming them could only fail). Absent: all of them.
   */
  boundWebsockets?: () => string[];
  /** Told of the subscriptions a round turned `off` because their `end` passed (the resource follows). */
  onEnded?(ids: string[]): void | Promise<void>;
  /** Told of every delivery, failed attempt and drop (for the audit trail); its failures are logged, not thrown. */
  onAttempt?(attempt: DeliveryAttempt): void | Promise<void>;
  logger?: Logger;
  /** Seconds between rounds when nothing wakes the engine sooner (5): the fallback when NOTIFY is not heard. */
  pollSeconds?: number;
  /** Whether to LISTEN for new events (true). */
  listen?: boolean;
  retry?: Partial<RetryPolicy>;
  /** How long a claimed notification is this process's alone: longer than any channel's timeout (120). */
  leaseSeconds?: number;
  /** Most sends in flight at once in this process (16), each to a different endpoint. */
  concurrency?: number;
  /** Most outbox events one fan-out step takes (100). */
  fanOutBatch?: number;
  /** How long settled notifications stay for `$events` (7 days), purged every `purgeSeconds` (3600). */
  retentionSeconds?: number;
  purgeSeconds?: number;
  /** The lease holder's name (host, process id and a random part). */
  holder?: string;
}

export interface DeliveryEngine {
  /** Listens and runs rounds from now on, the first at once (what was recorded while no engine ran goes out now). */
  start(): void;
  /** No more rounds or claims; resolves once the running round and every send in flight have ended. */
  stop(): Promise<void>;
  /** A round soon: an event was recorded in this process (LISTEN does this by itself where it is heard). */
  wake(): void;
  /** Resolves once no round runs and no send is in flight (tests, tools). */
  idle(): Promise<void>;
}

/** The shortest wait between rounds: something due now that a round could not claim is not worth a busy loop. */
const MIN_DELAY_MS = 50;

/**
 * The delivery engine of one server process (issue 20, "Delivery that is never lost"). A round: subscriptions past
 * their end are turned off, due heartbeats queued, the outbox fanned out into numbered notifications, settled ones
 * purged now and then, and then as many due notifications claimed as there are free send slots; each send runs on
 * its own and wakes the next round when it ends, so a slow or dead endpoint holds up only its own queue. Rounds run
 * when NOTIFY says an event committed, when a send ends, when something comes due, and at least every pollSeconds
 * (PGlite, a lost listener). Any number of processes share the work through the queue's leases.
 */
export function createDeliveryEngine(db: Database, options: DeliveryEngineOptions): DeliveryEngine {
  const holder = options.holder ?? `${hostname()} ${process.pid} ${randomUUID().slice(0, 8)}`;
  const pollMs = (options.pollSeconds ?? 5) * 1000;
  const leaseSeconds = options.leaseSeconds ?? 120;
  const concurrency = options.concurrency ?? 16;
  const retentionSeconds = options.retentionSeconds ?? 7 * 24 * 3600;
  const purgeMs = (options.purgeSeconds ?? 3600) * 1000;
  const channels = (Object.keys(options.channels) as ChannelType[]).filter((type) => options.channels[type]);
  const { logger } = options;
  const context: DeliveryContext = {
    db,
    holder,
    channels: options.channels,
    build: options.build,
    access: options.access,
    retry: { ...DEFAULT_RETRY, ...options.retry },
    onAttempt: options.onAttempt,
    logger,
  };

  const inFlight = new Set<Promise<void>>();
  let running: Promise<void> | undefined;
  let again = false;
  let started = false;
  let stopped = false;
  let failing = false;
  let timer: NodeJS.Timeout | undefined;
  let listener: OutboxListener | undefined;
  let purgedAt = 0;

  /** One round; returns how long to wait before the next unless something wakes it sooner. */
  const round = async (): Promise<number> => {
    const ended = await endExpired(db);
    if (ended.length) await tell(() => options.onEnded?.(ended));
    await queueHeartbeats(db);
    for (let more = true; more && !stopped; ) {
      more = (await fanOut(db, { match: options.match, access: options.access, limit: options.fanOutBatch })).more;
    }
    if (Date.now() - purgedAt >= purgeMs) {
      await purgeSettled(db, retentionSeconds);
      purgedAt = Date.now();
    }
    const queues = claimQueues();
    for (const queue of queues) {
      while (!stopped && inFlight.size < concurrency) {
        const free = concurrency - inFlight.size;
        const claimed = await claimDue(db, { holder, leaseSeconds, limit: free, ...queue });
        for (const delivery of claimed) track(deliver(context, delivery));
        if (claimed.length < free) break;
      }
    }
    // With every slot taken, the next round comes when a send ends.
    if (inFlight.size >= concurrency || !queues.length) return pollMs;
    const dues = await Promise.all(queues.map((queue) => nextDueIn(db, queue)));
    const dueIn = Math.min(...dues.map((due) => due ?? Infinity));
    return dueIn === Infinity ? pollMs : Math.min(pollMs, Math.max(MIN_DELAY_MS, dueIn * 1000));
  };

  /** What this process claims: every subscription of its channels, websockets only where their client is connected here. */
  const claimQueues = (): Array<{ channels: ChannelType[]; subscriptionIds?: string[] }> => {
    const others = channels.filter((type) => type !== 'websocket' || !options.boundWebsockets);
    const queues: Array<{ channels: ChannelType[]; subscriptionIds?: string[] }> = others.length ? [{ channels: others }] : [];
    if (channels.includes('websocket') && options.boundWebsockets) {
      const bound = options.boundWebsockets();
      if (bound.length) queues.push({ channels: ['websocket'], subscriptionIds: bound });
    }
    return queues;
  };

  /** A hook's failure is logged, never the round's: what the round did is done. */
  const tell = async (hook: () => void | Promise<void>): Promise<void> => {
    try {
      await hook();
    } catch (error) {
      logger?.error({ err: error }, 'delivery: a hook failed');
    }
  };

  /** A round whose failure is logged once per run of failures (as server/store/periodic-round.ts does), never thrown. */
  const tick = async (): Promise<number> => {
    try {
      const delay = await round();
      if (failing) logger?.info('delivery: the database answers again');
      failing = false;
      return delay;
    } catch (error) {
      if (!failing) {
        const detail = error instanceof DatabaseUnavailable ? { reason: error.reason } : { err: error };
        logger?.warn(detail, 'delivery: round failed; retried every poll interval, logged again once it recovers');
      }
      failing = true;
      return pollMs;
    }
  };

  const wake = (): void => {
    if (!started || stopped) return;
    if (running) {
      again = true;
      return;
    }
    if (timer) clearTimeout(timer);
    timer = undefined;
    running = tick().then((delay) => {
      running = undefined;
      if (stopped) return;
      if (again) {
        again = false;
        wake();
        return;
      }
      timer = setTimeout(() => {
        timer = undefined;
        wake();
      }, delay);
      // Sends in flight keep the process alive; the timer alone does not.
      timer.unref();
    });
  };

  const track = (send: Promise<void>): void => {
    const tracked: Promise<void> = send
      .catch((error: unknown) => {
        // Its lease runs out and it is claimed again: at least once. An outage is the rounds' to report, once.
        if (!(error instanceof DatabaseUnavailable)) logger?.warn({ err: error }, 'delivery: a send could not be settled; retried once its lease expires');
      })
      .finally(() => {
        inFlight.delete(tracked);
        wake();
      });
    inFlight.add(tracked);
  };

  return {
    start() {
      if (started || stopped) return;
      started = true;
      if (options.listen ?? true) listener = listenToOutbox(db, wake, logger);
      wake();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await listener?.close();
      await running;
      while (inFlight.size) await Promise.all([...inFlight]);
    },
    wake,
    async idle() {
      while (running || inFlight.size) await Promise.all([running, ...inFlight]);
    },
  };
}
