import { DEFAULT_RETRY, nextAttemptAt } from '../../server/delivery/backoff.js';

/** Values worked out by hand: the ceiling is base × 2^(attempts − 1), capped; the wait is random × ceiling. */
describe('the retry backoff: exponential, full jitter, within the window', () => {
  const policy = { baseMs: 1000, maxDelayMs: 8000, windowMs: 60_000 };
  const at = (random: number) => () => random;

  it('doubles the ceiling with each attempt, up to the cap, and draws the wait below it', () => {
    expect(nextAttemptAt(policy, 1, 0, 10_000, at(0.5))).toBe(10_500);
    expect(nextAttemptAt(policy, 2, 0, 10_000, at(0.5))).toBe(11_000);
    expect(nextAttemptAt(policy, 4, 0, 10_000, at(0.5))).toBe(14_000);
    expect(nextAttemptAt(policy, 10, 0, 10_000, at(0.5))).toBe(14_000);
    expect(nextAttemptAt(policy, 500, 0, 10_000, at(0.999))).toBe(17_992);
    // Full jitter: a draw of zero retries at once.
    expect(nextAttemptAt(policy, 3, 0, 10_000, at(0))).toBe(10_000);
  });

  it('never waits past the window, and gives up once it is over', () => {
    expect(nextAttemptAt(policy, 5, 0, 59_000, at(1))).toBe(60_000);
    expect(nextAttemptAt(policy, 6, 0, 60_000, at(0))).toBeUndefined();
    // The window counts from the first failure, not from the epoch.
    expect(nextAttemptAt(policy, 6, 100_000, 150_000, at(0))).toBe(150_000);
  });

  it('retries for a day by default', () => {
    expect(DEFAULT_RETRY.windowMs).toBe(24 * 60 * 60 * 1000);
    // A second before the day ends, the first ceiling (2 s) would pass it: the last attempt falls at its end.
    expect(nextAttemptAt(DEFAULT_RETRY, 1, 0, 24 * 60 * 60 * 1000 - 1000, at(0.75))).toBe(24 * 60 * 60 * 1000);
    expect(nextAttemptAt(DEFAULT_RETRY, 1, 0, 24 * 60 * 60 * 1000, at(0.75))).toBeUndefined();
  });
});
