import type { Logger } from 'pino';
import { DatabaseUnavailable } from './unavailable.js';

/**
 * A piece of upkeep a server process runs on a timer (server/store/statistics-upkeep.ts, audit-partitions.ts,
 * audit-index-queue.ts): one round at a time, errors logged once per run of failures and never thrown,
 * the timer never keeping the process alive, and stopped at shutdown before the database closes.
 */
export interface PeriodicRound<Result> {
  /** One round now; `overlap` while the previous one is still running. */
  round(): Promise<Result | { outcome: 'overlap' }>;
  /** What the timer runs: a round whose errors are logged (once per run of failures), never thrown. */
  tick(): Promise<void>;
  /** Rounds every `intervalMs` from now on (the first at once with `firstAtStart`). */
  start(): void;
  /** No more rounds; resolves once a running one has ended. */
  stop(): Promise<void>;
}

export interface PeriodicRoundOptions<Result> {
  /** What the log lines start with. */
  name: string;
  /** Time between the end of one round and the start of the next. */
  intervalMs: number;
  logger?: Logger;
  /** Whether `start` runs a round at once instead of after the first interval. */
  firstAtStart?: boolean;
  run(): Promise<Result>;
  /** Logs what a successful round did. */
  report?(result: Result, ms: number): void;
}

export function periodicRound<Result>(options: PeriodicRoundOptions<Result>): PeriodicRound<Result> {
  let running: Promise<Result> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let failing = false;

  const round = (): Promise<Result | { outcome: 'overlap' }> => {
    if (running) return Promise.resolve({ outcome: 'overlap' });
    running = options.run().finally(() => (running = undefined));
    return running;
  };

  const tick = async (): Promise<void> => {
    try {
      const started = Date.now();
      const result = await round();
      if (failing) options.logger?.info(`${options.name}: the database answers again`);
      failing = false;
      if (!isOverlap(result)) options.report?.(result, Date.now() - started);
    } catch (error) {
      // Once per run of failures: a database away for an hour must not write one line a minute. An outage is
      // not this round's fault, and its stack says nothing: its reason is enough (the availability guard logs
      // the outage itself, store/availability.ts).
      if (!failing) {
        const detail = error instanceof DatabaseUnavailable ? { reason: error.reason } : { err: error };
        options.logger?.warn(detail, `${options.name}: round failed; retried every interval, logged again once it recovers`);
      }
      failing = true;
    }
  };

  const schedule = (delayMs: number) => {
    if (stopped) return;
    timer = setTimeout(() => {
      timer = undefined;
      void tick().then(() => schedule(options.intervalMs));
    }, delayMs);
    // The upkeep never keeps the process alive by itself.
    timer.unref();
  };

  return {
    round,
    tick,
    start() {
      if (stopped || timer) return;
      schedule(options.firstAtStart ? 0 : options.intervalMs);
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await running?.catch(() => undefined);
    },
  };
}

function isOverlap(result: unknown): result is { outcome: 'overlap' } {
  return typeof result === 'object' && result !== null && (result as { outcome?: unknown }).outcome === 'overlap';
}
