import type { AuditEvent } from 'fhir/r4';
import type { ResourceStore } from './resource-store.js';

/** The most events one commit carries: a bound on how long the chain's head stays locked. */
const MAX_GROUP = 64;

interface Pending {
  event: AuditEvent;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit of the events of reads: each caller waits until its own event is committed (no answer before its
 * record is durable), but the events of reads arriving while a commit is under way share the next commit. The
 * group is one statement that locks the chain's head once, so concurrent readers take one turn, not one each.
 * A group that fails fails every read in it, as each would have failed alone (while the database is away, each
 * read a 503): nothing is kept to be retried behind its caller's back, so an outage loses no confirmed record.
 */
export class GroupCommit {
  private queue: Pending[] = [];
  private running = false;

  constructor(private readonly store: ResourceStore) {}

  record(event: AuditEvent): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ event, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length) {
        const group = this.queue.splice(0, MAX_GROUP);
        try {
          await this.store.createMany(group.map(({ event }) => ({ resource: event })));
          for (const pending of group) pending.resolve();
        } catch (error) {
          for (const pending of group) pending.reject(error);
        }
      }
    } finally {
      this.running = false;
    }
  }
}
