import { asUnavailable } from './unavailable.js';

export type AvailabilityChange = { available: false; reason: string } | { available: true; awayMs: number };

/**
 * Whether the database answered lately: down from the first failure that says it is away, up again at the first
 * answer to a statement sent after that. Each change is told once to the listeners (the outage log), however many
 * requests fail in between. A statement's outcome counts only if nothing changed while it ran (`epoch`): a late
 * failure of a statement sent before the recovery does not start a new outage, nor does a late success of one
 * sent before the outage end it.
 */
export class Availability {
  private epoch = 0;
  private downSince: number | undefined;
  private readonly listeners: ((change: AvailabilityChange) => void)[] = [];

  get down(): boolean {
    return this.downSince !== undefined;
  }

  onChange(listener: (change: AvailabilityChange) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Runs one exchange with the database: a failure that means the database is away is rethrown as a
   * DatabaseUnavailable and marks it down; any answer (a result, or an error the database itself sent) marks it up.
   * `answers: false` for work whose success proves nothing (a pool handing out an idle connection, which may be
   * dead without knowing it yet): its failures count, its successes do not.
   */
  async guard<T>(work: () => Promise<T>, { answers = true } = {}): Promise<T> {
    const epoch = this.epoch;
    try {
      const result = await work();
      if (answers) this.answered(epoch);
      return result;
    } catch (error) {
      const unavailable = asUnavailable(error);
      if (!unavailable) {
        if (answers) this.answered(epoch);
        throw error;
      }
      this.failed(epoch, unavailable.reason);
      throw unavailable;
    }
  }

  private failed(epoch: number, reason: string): void {
    if (this.downSince !== undefined || epoch !== this.epoch) return;
    this.downSince = Date.now();
    this.epoch++;
    this.tell({ available: false, reason });
  }

  private answered(epoch: number): void {
    if (this.downSince === undefined || epoch !== this.epoch) return;
    const awayMs = Date.now() - this.downSince;
    this.downSince = undefined;
    this.epoch++;
    this.tell({ available: true, awayMs });
  }

  private tell(change: AvailabilityChange): void {
    for (const listener of this.listeners) listener(change);
  }
}
