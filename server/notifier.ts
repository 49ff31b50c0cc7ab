import type { Logger } from 'pino';
import { notificationEvent } from './audit/notification-events.js';
import type { NotificationConfig } from './config/config.js';
import type { DeliveryAttempt } from './delivery/attempt.js';
import { createEmailChannel } from './delivery/channels/email.js';
import { createRestHookChannel } from './delivery/channels/rest-hook.js';
import { createWebSocketChannel, type WebSocketChannel } from './delivery/channels/websocket.js';
import type { RetryPolicy } from './delivery/backoff.js';
import { createDeliveryEngine, type DeliveryEngine } from './delivery/engine.js';
import { createAccessCheck } from './notifications/access-check.js';
import { ownerActive } from './notifications/owner-active.js';
import { syncSubscriptionResource } from './notifications/status-sync.js';
import { noticeEmailDetails } from './notices/email-details.js';
import type { FhirContext } from './rest/types.js';
import type { Database } from './store/database.js';
import { setSubscriptionStatus, statusOf } from './store/subscription-outbox.js';
import type { Channel, ChannelType } from './subscriptions/model.js';
import { notificationBundle } from './subscriptions/notification-bundle.js';
import { matchesFilters } from './subscriptions/topics.js';

/** How often the owners of bound websockets are checked: a client or user switched off loses its socket within this. */
const OWNER_SWEEP_SECONDS = 30;

export interface Notifier {
  engine: DeliveryEngine;
  /** The websocket channel, whose `handleUpgrade` the HTTP server hands its upgrades to. */
  websocket: WebSocketChannel;
  /** The channels this process sends on. */
  channels: ChannelType[];
  stop(): Promise<void>;
}

export interface NotifierOptions {
  db: Database;
  /** The interactions' context: the access decision and the Subscription resources' store. */
  context: FhirContext;
  config: NotificationConfig;
  /** The key of binding tokens (the configured one, or the database's: server/store/server-secrets.ts). */
  bindingSecret: string;
  /** The FHIR base URL notifications name resources by (BASE_URL, or the listening origin's `/fhir`). */
  baseUrl: string;
  logger?: Logger;
  /**
   * Engine settings for tests (poll interval; retry policy, its window as short as a test needs, which
   * SUBSCRIPTION_RETRY_HOURS cannot say);
   * production uses the defaults and the configuration.
   */
  engine?: { pollSeconds?: number; retry?: Partial<RetryPolicy> };
  /** Seconds between two checks of the bound websockets' owners (30); tests shorten it. */
  ownerSweepSeconds?: number;
}

/**
 * The notifications of one server process (issue 20, docs/NOTIFICATIONS.md): the delivery engine with its channels
 * (rest-hook always; email when SMTP_URL is set; websocket, whose sockets this process holds), the access decision
 * of reads, the notification Bundles, and what follows each attempt: an AuditEvent (a disclosure), and the
 * Subscription resource brought in line with the engine when its status moved (handshake delivered, retries over,
 * ended, websocket bound).
 */
export function startNotifier(options: NotifierOptions): Notifier {
  const { db, context, config, logger } = options;
  const store = context.store;
  // The same decision $events answers by (server/pipeline/context.ts sets it on every context).
  const access = context.subscriptionAccess ?? createAccessCheck(db, context);
  const follow = (id: string): Promise<void> =>
    syncSubscriptionResource(store, id).catch((error: unknown) => logger?.warn({ err: error, subscription: id }, 'notifications: the Subscription resource could not follow its status'));

  let engine: DeliveryEngine | undefined;
  const websocket = createWebSocketChannel({
    secret: options.bindingSecret,
    async admit(id) {
      const state = await statusOf(db, id);
      if (!state || state.subscription.channel !== 'websocket' || (state.status !== 'requested' && state.status !== 'active')) return false;
      return ownerActive(db, state.subscription.owner);
    },
    async onBound(id, reply) {
      // The IG: a handshake on the socket once bound; the subscription is active from then on.
      const state = await statusOf(db, id);
      if (!state) return;
      await reply(notificationBundle({ subscription: state.subscription, status: 'active', type: 'handshake', eventsSinceSubscriptionStart: state.eventsSinceSubscriptionStart, events: [] }, options.baseUrl));
      if (state.status !== 'active') {
        await setSubscriptionStatus(db, id, 'active');
        await follow(id);
      }
      engine?.wake();
    },
  });
  const channels: Partial<Record<ChannelType, Channel>> = {
    'rest-hook': createRestHookChannel({ allowLoopback: config.allowLoopback }),
    websocket,
    ...(config.smtpUrl
      ? { email: createEmailChannel({ smtpUrl: config.smtpUrl, from: config.mailFrom, appUrl: config.appUrl ?? `${new URL(options.baseUrl).origin}/app/`, details: noticeEmailDetails(db) }) }
      : {}),
  };

  const onAttempt = async (attempt: DeliveryAttempt): Promise<void> => {
    const { owner } = attempt;
    const recipient = {
      ...(owner.clientId !== undefined ? { clientId: owner.clientId } : {}),
      ...(owner.userId !== undefined ? { userId: owner.userId } : {}),
      ...(owner.organization !== undefined ? { organization: owner.organization } : {}),
    };
    // Group-committed with the events of concurrent deliveries and reads (server/store/audit-group-commit.ts): each
    // still resolves only once its own event is committed, but a hundred sends of one event take the audit chain's
    // head a few times, not a hundred, one commit's flush each.
    const event = notificationEvent({ ...attempt, recipient });
    await (context.auditLog ? context.auditLog.record(event) : store.create(event));
    if ((attempt.type === 'handshake' && attempt.outcome === 'delivered') || attempt.gaveUp) await follow(attempt.subscriptionId);
  };

  engine = createDeliveryEngine(db, {
    channels,
    build: (report) => notificationBundle(report, options.baseUrl),
    match: (spec, event) => matchesFilters(spec.filters, event),
    access,
    onAttempt,
    async onEnded(ids) {
      for (const id of ids) {
        websocket.close(id, 'the subscription ended');
        await follow(id);
      }
    },
    boundWebsockets: () => websocket.subscriptions(),
    retry: { windowMs: config.retryHours * 3600_000, ...options.engine?.retry },
    retentionSeconds: config.eventsRetentionDays * 86400,
    leaseSeconds: config.deliveryLeaseSeconds,
    ...(options.engine?.pollSeconds !== undefined ? { pollSeconds: options.engine.pollSeconds } : {}),
    ...(logger ? { logger } : {}),
  });

  // A socket stays only while its owner may be told anything: checked every sweep, and closed when not.
  const sweep = setInterval(() => {
    void (async () => {
      for (const id of websocket.subscriptions()) {
        const state = await statusOf(db, id);
        if (!state) websocket.close(id, 'the subscription was deleted');
        else if (state.status === 'off' || state.status === 'error') websocket.close(id, `the subscription is ${state.status}`);
        else if (!(await ownerActive(db, state.subscription.owner))) websocket.close(id, 'the subscriber no longer has access');
      }
    })().catch((error: unknown) => logger?.warn({ err: error }, 'notifications: the websocket owners could not be checked'));
  }, (options.ownerSweepSeconds ?? OWNER_SWEEP_SECONDS) * 1000);
  sweep.unref();

  engine.start();
  return {
    engine,
    websocket,
    channels: Object.keys(channels) as ChannelType[],
    async stop() {
      clearInterval(sweep);
      await engine!.stop();
      await websocket.shutdown();
    },
  };
}
