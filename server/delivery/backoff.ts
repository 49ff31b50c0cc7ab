/**
 * When a failed notification is tried again: exponential backoff with full jitter (a random wait between zero and a
 * ceiling that doubles with each attempt, up to `maxDelayMs`), so that the subscriptions of a receiver that comes
 * back do not all knock at once; and not past the retry window, which counts from the first failure.
 */
export interface RetryPolicy {
  /** How long a notification is retried after its first failure before its subscription goes to `error` (24 h). */
  windowMs: number;
  /** The ceiling of the first wait (2 s), doubled for each attempt after. */
  baseMs: number;
  /** The ceiling's ceiling (15 min). */
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { windowMs: 24 * 3600_000, baseMs: 2000, maxDelayMs: 15 * 60_000 };

/**
 * The time (ms since the epoch) of the next attempt after attempt number `attempts` failed at `now`, or undefined
 * when the window that began at `failingSince` is over. The last attempt falls at the window's end.
 */
export function nextAttemptAt(policy: RetryPolicy, attempts: number, failingSince: number, now: number, random: () => number = Math.random): number | undefined {
  const closes = failingSince + policy.windowMs;
  if (now >= closes) return undefined;
  const ceiling = Math.min(policy.maxDelayMs, policy.baseMs * 2 ** Math.min(Math.max(attempts - 1, 0), 40));
  return Math.min(now + random() * ceiling, closes);
}
