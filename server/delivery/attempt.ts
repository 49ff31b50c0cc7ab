import type { ChannelType, FocusRef, NotificationType, SubscriptionOwner } from '../subscriptions/model.js';

/**
 * One delivery, failed attempt or drop, as the engine reports it (`onAttempt`) for the audit trail: ids, numbers,
 * outcome and reason only, never what the notification carried.
 */
export interface DeliveryAttempt {
  subscriptionId: string;
  /** Who the subscription acts for: the recipient of what was sent. */
  owner: SubscriptionOwner;
  channel: ChannelType;
  type: NotificationType;
  /** The event numbers the notification carried (none for a handshake or heartbeat). */
  eventNumbers: number[];
  /** The resources those events are about. */
  focus: FocusRef[];
  /**
   * `delivered`; `failed` (tried again at `retryAt`, or `gaveUp`: the subscription went to `error`); `dropped`:
   * never sent, since the subscriber may no longer read the focus.
   */
  outcome: 'delivered' | 'failed' | 'dropped';
  reason?: string;
  /** Attempts at this notification so far, this one included. */
  attempt: number;
  /** ISO 8601: when a failed one is tried again. */
  retryAt?: string;
  gaveUp?: boolean;
}
