import type { Bundle } from 'fhir/r4';

/**
 * The shapes notifications are built from (issue 20, docs/NOTIFICATIONS.md): what a topic event is, what a
 * Subscription asks for once checked, what one notification to one subscriber is, and what a channel does with it.
 * Topics, the Subscription checks and the notification Bundles are `server/subscriptions/`; the outbox and its
 * deliveries are storage (`server/store/subscription-*.ts`) run by `server/delivery/`, whose channels (rest-hook,
 * websocket, email) are `server/delivery/channels/`. Types only: every folder involved imports them from here.
 */

/** The canonical base of our topics: the CCP guide's (server/conformance/guide.ts). */
export const TOPIC_BASE = 'http://ccp-exchange.org/fhir/SubscriptionTopic';

/** The Backport IG's canonical base (1.1.0; the wire format is kept compatible with 1.2). */
export const BACKPORT = 'http://hl7.org/fhir/uv/subscriptions-backport';

/** A topic's short name: the last segment of its canonical URL. */
export type TopicName = 'ccp-changed' | 'registration-status' | 'directive-changed' | 'override-used' | 'service-notice' | 'organization-joined';

/** A resource named by type and id. */
export interface FocusRef {
  type: string;
  id: string;
}

/**
 * Something happened that a topic is about, recorded in the outbox in the same transaction as the change that
 * caused it. `patient` and `organization` are what the topic's filters and the access decision look at: the
 * patient whose compartment the focus is in, the organization a registration or notice concerns.
 */
export interface TopicEvent {
  topic: string;
  focus: FocusRef;
  /** Patient id, when the focus is in a patient's compartment. */
  patient?: string;
  /** Organization id the event concerns (the requesting organization of a registration, the new organization). */
  organization?: string;
  /** create, update or delete for resource changes; the topic's own word otherwise (e.g. `posted`). */
  trigger: string;
  /** ISO 8601: when the change committed (the transaction's time). */
  occurredAt: string;
}

export type ChannelType = 'rest-hook' | 'websocket' | 'email';

/** The Backport IG's payload content levels we serve: `full-resource` is refused (consent is decided at read time). */
export type PayloadContent = 'empty' | 'id-only';

/** One `filter-criteria` of a Subscription, as `name=value` (the topic says which names it takes). */
export interface TopicFilter {
  name: string;
  value: string;
}

/**
 * Who a subscription acts for: the caller that created it, as the access decision needs it at match and delivery
 * time (server/access/caller.ts `Caller`, minus what a token alone carries). The client and user must still be
 * active when a notification is matched and when it is sent.
 */
export interface SubscriptionOwner {
  /**
   * `client` (when absent): a client, and a user when `userId` is set, with their rights as they are now.
   * `server`: the server itself, when its API runs without access tokens (AUTH_DISABLED): no one to decide for.
   * `organization`: a partner organization's system-managed subscription (partner emails): decided as that
   * organization's access, `organization` naming it.
   */
  kind?: 'client' | 'server' | 'organization';
  /** The client that created it (kind `client`). */
  clientId?: string;
  userId?: string;
  /** The resource scopes the creating token had, as written (re-parsed when the decision is made). */
  scopes: string[];
  organization?: string;
  practitioner?: string;
  practitionerRole?: string;
  /** A SMART launch's patient, which `patient/` scopes are confined to. */
  patient?: string;
}

/** A Subscription resource once checked against the Backport IG and our topics (server/subscriptions/). */
export interface SubscriptionSpec {
  id: string;
  topic: string;
  filters: TopicFilter[];
  channel: ChannelType;
  /** rest-hook: the https URL; email: the `mailto:` address; websocket: none (the client connects to us). */
  endpoint?: string;
  /**
   * `channel.payload` as accepted: the media type of a rest-hook POST or a websocket message (the IG: the POST's
   * `Content-Type` matches it), or an email's body with `;attach=` naming the attachment's. Absent: application/fhir+json.
   */
  contentType?: string;
  /** rest-hook: `channel.header` lines (`Name: value`), sent with every POST. */
  headers: string[];
  payload: PayloadContent;
  /** Seconds between heartbeats when nothing else was sent; absent: none. */
  heartbeatSeconds?: number;
  /** Seconds a rest-hook POST may take before it counts as failed. */
  timeoutSeconds: number;
  /** Most events in one notification Bundle. */
  maxCount: number;
  /** `Subscription.end`, ISO 8601: no notification after it. */
  end?: string;
  owner: SubscriptionOwner;
}

/** The Backport IG's notification types (R5 `SubscriptionNotificationType`). */
export type NotificationType = 'handshake' | 'heartbeat' | 'event-notification' | 'query-status' | 'query-event';

/** The Backport IG's subscription statuses as `$status` reports them. */
export type SubscriptionStatusCode = 'requested' | 'active' | 'error' | 'off';

/** One event as numbered for one subscription: only events the subscriber may see get a number. */
export interface NumberedEvent {
  /** 1, 2, 3 … per subscription, with no gaps. */
  eventNumber: number;
  timestamp: string;
  focus: FocusRef;
}

/** What one notification Bundle reports (server/subscriptions/notification-bundle.ts builds it). */
export interface SubscriptionStatusReport {
  subscription: SubscriptionSpec;
  status: SubscriptionStatusCode;
  type: NotificationType;
  /** Events numbered for this subscription so far (the highest event number). */
  eventsSinceSubscriptionStart: number;
  events: NumberedEvent[];
  /** Why the subscription is in error, when it is. */
  error?: string;
}

/**
 * The outcome of one attempt to send: delivered; failed and worth trying again later (the endpoint was away, timed
 * out, answered 5xx or 429); or failed for good (refused by the SSRF rules, 4xx other than 408/429, a redirect).
 */
export type SendOutcome = { ok: true } | { ok: false; retry: boolean; reason: string };

/**
 * A way of reaching a subscriber. `bundle` is the notification (a history Bundle); `reason` strings name what
 * failed without any content of the notification (they go to the logs and the audit trail).
 */
export interface Channel {
  readonly type: ChannelType;
  /** `report` is what `bundle` was built from: its events' focus, for a channel that words a message per event. */
  send(subscription: SubscriptionSpec, bundle: Bundle, type: NotificationType, report?: SubscriptionStatusReport): Promise<SendOutcome>;
}

/**
 * Whether `owner` may read `focus` now: the same decision as a read by id (scopes ∩ role, registrations,
 * directives, overrides). Made when an event is matched to subscriptions and again just before each delivery.
 *
 * `moment`: decisions made together, as of one moment (one fan-out step, one delivery), pass the same empty Map,
 * which the check may use to look each owner up once and decide each owner and focus once among them. A new Map
 * for each moment: what it holds is as current as the first decision that put it there.
 */
export type AccessCheck = (owner: SubscriptionOwner, focus: FocusRef, moment?: AccessMoment) => Promise<boolean>;

/** What an AccessCheck keeps among the decisions of one moment (its own keys and values). */
export type AccessMoment = Map<string, Promise<unknown>>;
