import type { Bundle } from 'fhir/r4';
import type { Logger } from 'pino';
import type { Database } from '../store/database.js';
import { type ClaimedDelivery, type NotificationKind, giveUp, markDelivered, markFailed, withdrawEvents } from '../store/subscription-outbox.js';
import type { AccessCheck, AccessMoment, Channel, ChannelType, NotificationType, SendOutcome, SubscriptionStatusReport } from '../subscriptions/model.js';
import type { DeliveryAttempt } from './attempt.js';
import { type RetryPolicy, nextAttemptAt } from './backoff.js';

/** What sending one claimed delivery needs. */
export interface DeliveryContext {
  db: Database;
  /** The lease holder: this engine. */
  holder: string;
  channels: Partial<Record<ChannelType, Channel>>;
  build(report: SubscriptionStatusReport): Bundle;
  access: AccessCheck;
  retry: RetryPolicy;
  onAttempt?(attempt: DeliveryAttempt): void | Promise<void>;
  logger?: Logger;
}

const NOTIFICATION_TYPE: Record<NotificationKind, NotificationType> = {
  handshake: 'handshake',
  heartbeat: 'heartbeat',
  event: 'event-notification',
};

export const ACCESS_ENDED = 'the subscriber may no longer read the focus';

/**
 * Sends one claimed delivery and settles it. Access is decided again first: an event whose focus the owner may no
 * longer read is dropped, never sent (and reported as such), and withdrawn from the subscription's numbering so
 * that no gap reveals it; if none is left nothing is sent. Then delivered, or
 * failed and tried again after a backoff within the retry window, or, once the window is over or the failure is not
 * worth retrying, the subscription goes to `error`.
 */
export async function deliver(context: DeliveryContext, claimed: ClaimedDelivery): Promise<void> {
  const { subscription } = claimed;
  const type = NOTIFICATION_TYPE[claimed.kind];
  const report = (attempt: Omit<DeliveryAttempt, 'subscriptionId' | 'owner' | 'channel' | 'type' | 'attempt'>) =>
    record(context, { subscriptionId: subscription.id, owner: subscription.owner, channel: subscription.channel, type, attempt: claimed.attempts, ...attempt });

  let notifications = claimed.notifications;
  let eventsNumbered = claimed.eventsNumbered;
  if (claimed.kind === 'event') {
    // The events sent together are decided together: the owner is looked up once for all of them.
    const moment: AccessMoment = new Map();
    const allowed = await Promise.all(notifications.map((notification) => (notification.focus ? context.access(subscription.owner, notification.focus, moment) : false)));
    const refused = notifications.filter((_, i) => !allowed[i]);
    notifications = notifications.filter((_, i) => allowed[i]);
    if (refused.length) {
      // Withdrawn from the subscription's numbering, the later ones (those sent now among them) moved down.
      const withdrawn = await withdrawEvents(context.db, { subscriptionId: subscription.id, ids: refused.map((notification) => notification.id) });
      notifications = notifications.map((notification) => {
        const number = withdrawn.renumbered.get(notification.id);
        return number === undefined ? notification : { ...notification, eventNumber: number };
      });
      eventsNumbered = withdrawn.eventsNumbered;
      // The numbers they had are given to later events: the audit trail names the withdrawn ones by focus alone.
      await report({ eventNumbers: [], focus: carried(refused).focus, outcome: 'dropped', reason: ACCESS_ENDED });
    }
    if (!notifications.length) return;
  }

  const ids = notifications.map((notification) => notification.id);
  const events = notifications.flatMap((notification) =>
    notification.eventNumber !== undefined && notification.focus && notification.occurredAt
      ? [{ eventNumber: notification.eventNumber, timestamp: notification.occurredAt, focus: notification.focus }]
      : [],
  );
  const outcome = await send(context, claimed, {
    subscription,
    status: claimed.status,
    type,
    eventsSinceSubscriptionStart: eventsNumbered,
    events,
  });

  if (outcome.ok) {
    await markDelivered(context.db, ids);
    await report({ ...carried(notifications), outcome: 'delivered' });
    return;
  }
  const now = Date.now();
  const retryAt = outcome.retry ? nextAttemptAt(context.retry, claimed.attempts, claimed.failingSince?.getTime() ?? now, now) : undefined;
  if (retryAt !== undefined) {
    await markFailed(context.db, { ids, holder: context.holder, reason: outcome.reason, retryAt: new Date(retryAt) });
    await report({ ...carried(notifications), outcome: 'failed', reason: outcome.reason, retryAt: new Date(retryAt).toISOString() });
    return;
  }
  await giveUp(context.db, { subscriptionId: subscription.id, ids, reason: outcome.reason });
  await report({ ...carried(notifications), outcome: 'failed', reason: outcome.reason, gaveUp: true });
}

/** The channel's answer; a builder or channel that throws is a failure worth retrying, named without its message. */
async function send(context: DeliveryContext, claimed: ClaimedDelivery, report: SubscriptionStatusReport): Promise<SendOutcome> {
  const channel = context.channels[claimed.subscription.channel];
  if (!channel) return { ok: false, retry: true, reason: `no ${claimed.subscription.channel} channel in this process` };
  let bundle: Bundle;
  try {
    bundle = context.build(report);
  } catch (error) {
    context.logger?.error({ err: error, subscription: claimed.subscription.id }, 'delivery: the notification could not be built');
    return { ok: false, retry: true, reason: 'the notification could not be built' };
  }
  try {
    return await channel.send(claimed.subscription, bundle, report.type, report);
  } catch (error) {
    context.logger?.warn({ err: error, subscription: claimed.subscription.id }, `delivery: the ${channel.type} channel threw`);
    return { ok: false, retry: true, reason: `the ${channel.type} channel failed` };
  }
}

function carried(notifications: ClaimedDelivery['notifications']): Pick<DeliveryAttempt, 'eventNumbers' | 'focus'> {
  return {
    eventNumbers: notifications.flatMap((notification) => (notification.eventNumber !== undefined ? [notification.eventNumber] : [])),
    focus: notifications.flatMap((notification) => (notification.focus ? [notification.focus] : [])),
  };
}

/** The hook's failure is logged, never the delivery's: what was sent stays sent. */
async function record(context: DeliveryContext, attempt: DeliveryAttempt): Promise<void> {
  try {
    await context.onAttempt?.(attempt);
  } catch (error) {
    context.logger?.error({ err: error, subscription: attempt.subscriptionId, outcome: attempt.outcome }, 'delivery: the attempt could not be recorded');
  }
}
