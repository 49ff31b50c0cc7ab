import type { Resource } from 'fhir/r4';
import type { ConsentGate, SearchQuery } from '../search/query/model.js';
import type { NumberedEvent, SubscriptionSpec, SubscriptionStatusCode, TopicEvent } from '../subscriptions/model.js';
import type { Referrer, ResourceKey, TargetState } from './references.js';
import type { SubscriptionState } from './subscription-state.js';

/** What a read or vread finds: the resource, the tombstone of a deleted one, or nothing. */
export type ReadResult =
  | { kind: 'found'; resource: Resource }
  | { kind: 'deleted'; versionId: string; lastUpdated: string }
  | { kind: 'missing' };

export type UpdateResult =
  | { kind: 'updated' | 'created'; resource: Resource }
  /** `If-Match` named another version than the current one (or the resource does not exist). */
  | { kind: 'version-conflict'; currentVersionId?: string }
  /** The resource does not exist and the caller did not allow update-as-create. */
  | { kind: 'create-not-allowed' };

export type DeleteResult =
  | { kind: 'deleted'; versionId: string }
  | { kind: 'already-deleted' }
  | { kind: 'missing' }
  | { kind: 'version-conflict'; currentVersionId?: string };

/** A resource to create, and the id a caller assigned it already (else the store assigns one). */
export interface NewResource {
  resource: Resource;
  id?: string;
  /** When it was created, if stamped before it is written (server/store/write-behind.ts); else now. */
  lastUpdated?: Date;
}

export interface UpdateOptions {
  /** The version the client last saw (`If-Match`); the write happens only if it is still current. */
  ifMatch?: string;
  allowCreate: boolean;
  /** The interaction recorded in the history: a whole new version (PUT, the default) or a PATCH. */
  method?: 'PUT' | 'PATCH';
}

/** One version in a history: a resource version, or the tombstone a delete left. */
export interface HistoryEntry {
  resourceType: string;
  id: string;
  versionId: string;
  lastUpdated: string;
  /** The HTTP verb of the interaction that wrote this version. */
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** This version brought the resource into existence: the first one, or the first after a delete. */
  created: boolean;
  resource?: Resource;
}

/**
 * A keyset position in a history, newest first. `before`/`after` bound the page by insertion sequence;
 * `ceiling` is the newest entry of the first page, so moving back and forth never shows later arrivals.
 */
export interface HistoryCursor {
  direction: 'next' | 'previous';
  seq: string;
  ceiling: string;
}

export interface HistoryQuery {
  resourceType?: string;
  /** For a history of every type: types left out (the audit trail). */
  excludeTypes?: string[];
  id?: string;
  /** Versions created at or after this instant. */
  since?: Date;
  /** Versions that were current at some point in [start, end]. */
  at?: { start: Date; end: Date };
  count: number;
  cursor?: HistoryCursor;
}

export interface HistoryPage {
  entries: HistoryEntry[];
  /** Cursors to the neighbouring pages, when there are any. */
  next?: HistoryCursor;
  previous?: HistoryCursor;
}

/** One page of search matches, with the total when asked for and keyset cursors to the neighbouring pages. */
export interface SearchPage {
  resources: Resource[];
  /** Brought in by _include / _revinclude for this page. */
  included: Resource[];
  total?: number;
  next?: SearchQuery['cursor'];
  previous?: SearchQuery['cursor'];
}

/**
 * Versioned storage of FHIR resources. It assigns ids, version ids and lastUpdated; it knows nothing of HTTP.
 * Outcomes a caller must handle (conflicts, tombstones) are results, not exceptions.
 */
export interface ResourceStore {
  /** A new resource under a new server id (`id` when the caller assigned one already, as a transaction does). */
  create(resource: Resource, id?: string): Promise<Resource>;
  /** Several new resources in one write (one statement on SQL): all stored, or none. */
  createMany(resources: readonly NewResource[]): Promise<Resource[]>;
  read(resourceType: string, id: string): Promise<ReadResult>;
  vread(resourceType: string, id: string, versionId: string): Promise<ReadResult>;
  update(resource: Resource & { id: string }, options: UpdateOptions): Promise<UpdateResult>;
  delete(resourceType: string, id: string, options?: { ifMatch?: string }): Promise<DeleteResult>;
  history(query: HistoryQuery): Promise<HistoryPage>;
  /** Current resources matching a search, answered from the search index tables. */
  search(query: SearchQuery): Promise<SearchPage>;
  /**
   * Inside a transaction: waits until no other transaction holds `key`, then holds it until this one ends. Writers
   * that decide on the same condition (a conditional create's criteria) take turns, in every server process.
   */
  lock(key: string): Promise<void>;
  /**
   * Which of `targets` exist (current or deleted) among the rows `consent` lets through, by `Type/id`, in one
   * query; inside a transaction they stay locked against a concurrent delete until it ends (server/store/references.ts).
   */
  resolveTargets(targets: readonly ResourceKey[], consent?: ConsentGate): Promise<Map<string, TargetState>>;
  /** For each target, one current resource referring to it (one `consent` lets the caller see first), if any. */
  findReferrers(targets: readonly ResourceKey[], consent?: ConsentGate): Promise<Referrer[]>;
  /**
   * Records a topic event in the notification outbox (server/store/subscription-outbox.ts) with this store's writes:
   * inside a transaction it exists exactly when they commit (DESIGN rule 7), which is why write rules call it.
   */
  recordTopicEvent(event: TopicEvent): Promise<void>;
  /**
   * The delivery engine's record of a Subscription (server/store/subscription-state.ts), kept by the Subscription
   * write rule in the write's transaction: created or replaced and moved to `status`, or removed with its queue.
   */
  putSubscription(spec: SubscriptionSpec, status: SubscriptionStatusCode): Promise<void>;
  removeSubscription(id: string): Promise<boolean>;
  /** What `$status` reports of a subscription, or undefined when there is no record of it. */
  subscriptionState(id: string): Promise<SubscriptionState | undefined>;
  /** The events numbered for a subscription, `from` to `to` (both included, either open): for `$events`, not filtered by access. */
  subscriptionEvents(id: string, from?: number, to?: number): Promise<NumberedEvent[]>;
  /** Runs `work` against a store whose writes commit together or not at all. */
  transaction<T>(work: (store: ResourceStore) => Promise<T>): Promise<T>;
  /**
   * Runs `work` inside the current transaction (or a new one) so that, if it throws, only its own writes are undone
   * and the transaction goes on: a batch entry that fails leaves nothing, while the batch commits with its record.
   */
  savepoint<T>(work: (store: ResourceStore) => Promise<T>): Promise<T>;
}
