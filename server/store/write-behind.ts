import { randomUUID } from 'node:crypto';
import type { Resource } from 'fhir/r4';
import type { ConsentGate, SearchQuery } from '../search/query/model.js';
import type { Referrer, ResourceKey, TargetState } from './references.js';
import type {
  DeleteResult,
  HistoryPage,
  HistoryQuery,
  NewResource,
  ReadResult,
  ResourceStore,
  SearchPage,
  UpdateOptions,
  UpdateResult,
} from './resource-store.js';
import { stamp } from './stamp.js';
import type { NumberedEvent, SubscriptionSpec, SubscriptionStatusCode, TopicEvent } from '../subscriptions/model.js';
import type { SubscriptionState } from './subscription-state.js';

/** Creates written by one statement at most: a bound on a statement's size, whatever the Bundle's. */
const MAX_PENDING = 500;

/**
 * A store for the inside of one transaction that holds back creates and writes them together (createMany),
 * before anything else touches the database and before the transaction ends (`flush`). A transaction Bundle's
 * hundreds of creates then cost a few statements instead of one each. Nothing can observe the difference: a
 * create's id, version and time are fixed when it is asked for, and every read, search, lock or other write
 * first writes what is pending, in order.
 *
 * A create that the database refuses is reported at the next flush, not at its own call: inside a transaction
 * that fails as a whole, only which entry an unexpected database error is blamed on can differ.
 */
export class WriteBehindStore implements ResourceStore {
  private pending: NewResource[] = [];

  constructor(private readonly inner: ResourceStore) {}

  async create(resource: Resource, id: string = randomUUID()): Promise<Resource> {
    const lastUpdated = new Date();
    const stored = stamp(resource, id, 1, lastUpdated);
    this.pending.push({ resource: stored, id, lastUpdated });
    if (this.pending.length >= MAX_PENDING) await this.flush();
    return stored;
  }

  async flush(): Promise<void> {
    if (!this.pending.length) return;
    const batch = this.pending;
    this.pending = [];
    await this.inner.createMany(batch);
  }

  async createMany(resources: readonly NewResource[]): Promise<Resource[]> {
    await this.flush();
    return this.inner.createMany(resources);
  }

  async read(resourceType: string, id: string): Promise<ReadResult> {
    await this.flush();
    return this.inner.read(resourceType, id);
  }

  async vread(resourceType: string, id: string, versionId: string): Promise<ReadResult> {
    await this.flush();
    return this.inner.vread(resourceType, id, versionId);
  }

  async update(resource: Resource & { id: string }, options: UpdateOptions): Promise<UpdateResult> {
    await this.flush();
    return this.inner.update(resource, options);
  }

  async delete(resourceType: string, id: string, options?: { ifMatch?: string }): Promise<DeleteResult> {
    await this.flush();
    return this.inner.delete(resourceType, id, options);
  }

  async history(query: HistoryQuery): Promise<HistoryPage> {
    await this.flush();
    return this.inner.history(query);
  }

  async search(query: SearchQuery): Promise<SearchPage> {
    await this.flush();
    return this.inner.search(query);
  }

  async resolveTargets(targets: readonly ResourceKey[], consent?: ConsentGate): Promise<Map<string, TargetState>> {
    await this.flush();
    return this.inner.resolveTargets(targets, consent);
  }

  async findReferrers(targets: readonly ResourceKey[], consent?: ConsentGate): Promise<Referrer[]> {
    await this.flush();
    return this.inner.findReferrers(targets, consent);
  }

  async lock(key: string): Promise<void> {
    await this.flush();
    return this.inner.lock(key);
  }

  /**
   * Without writing what is pending first: the outbox row refers to its focus by type and id only, and nothing
   * outside the transaction sees either before it commits, by which time the pending creates are written. So a
   * Bundle's CCPs and Organizations keep being written together.
   */
  recordTopicEvent(event: TopicEvent): Promise<void> {
    return this.inner.recordTopicEvent(event);
  }

  /** The engine's records name no resource row: nothing pending needs writing first. */
  putSubscription(spec: SubscriptionSpec, status: SubscriptionStatusCode): Promise<void> {
    return this.inner.putSubscription(spec, status);
  }

  removeSubscription(id: string): Promise<boolean> {
    return this.inner.removeSubscription(id);
  }

  subscriptionState(id: string): Promise<SubscriptionState | undefined> {
    return this.inner.subscriptionState(id);
  }

  subscriptionEvents(id: string, from?: number, to?: number): Promise<NumberedEvent[]> {
    return this.inner.subscriptionEvents(id, from, to);
  }

  /** Already inside one transaction: a nested one joins it, as the SQL store's does. */
  transaction<T>(work: (store: ResourceStore) => Promise<T>): Promise<T> {
    return work(this);
  }

  async savepoint<T>(work: (store: ResourceStore) => Promise<T>): Promise<T> {
    await this.flush();
    return this.inner.savepoint(async (store) => {
      const held = new WriteBehindStore(store);
      const result = await work(held);
      await held.flush();
      return result;
    });
  }
}
