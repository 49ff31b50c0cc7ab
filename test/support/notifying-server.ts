import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NotificationConfig } from '../../server/config/config.js';
import { type Notifier, type NotifierOptions, startNotifier } from '../../server/notifier.js';
import type { SubscriptionOptions } from '../../server/rest/types.js';
import type { Backend, TestDatabase } from './backends.js';
import { openTestServer, type TestServer } from './fhir-app.js';

/** A key long enough for binding tokens; tests only. */
export const TEST_BINDING_SECRET = 'test-binding-secret-of-at-least-32-bytes';

export interface NotifyingServer extends TestServer {
  /** http://127.0.0.1:port */
  origin: string;
  /** http://127.0.0.1:port/fhir */
  fhir: string;
  notifier: Notifier;
  /** Stops the engine, closes the sockets and the HTTP server, then the database. */
  close(): Promise<void>;
}

/**
 * The application listening on a free loopback port with its notifications running, composed as server/main.ts
 * composes them (the engine of server/notifier.ts, the websocket upgrade on the HTTP server); loopback rest-hooks
 * allowed, for the receivers tests run. The engine polls every second so that nothing waits on a long timer.
 */
export async function openNotifyingServer(
  backend: Backend,
  options: Parameters<typeof openTestServer>[1] & {
    notifications?: Partial<NotificationConfig>;
    engine?: NotifierOptions['engine'];
    /** Seconds between checks of the bound websockets' owners (the notifier's 30 when absent). */
    ownerSweepSeconds?: number;
  } = {},
  database?: TestDatabase,
): Promise<NotifyingServer> {
  const { notifications: overrides, engine, ownerSweepSeconds, ...rest } = options;
  const config: NotificationConfig = { mailFrom: 'CCP Exchange <no-reply@ccp.test>', allowLoopback: true, bindingTokenSeconds: 300, retryHours: 24, deliveryLeaseSeconds: 120, eventsRetentionDays: 7, noticeReminderHours: 24, noticeRoundSeconds: 60, ...overrides };
  const subscriptions: SubscriptionOptions = { allowHttpLoopback: config.allowLoopback, bindingSecret: TEST_BINDING_SECRET, bindingTokenSeconds: config.bindingTokenSeconds, email: config.smtpUrl !== undefined };
  const opened = await openTestServer(backend, { ...rest, subscriptions }, database);
  const server = http.createServer(opened.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const fhir = rest.baseUrl ?? `${origin}/fhir`;
  const notifier = startNotifier({ db: opened.db, context: opened.context, config, bindingSecret: TEST_BINDING_SECRET, baseUrl: fhir, engine: { pollSeconds: 1, ...engine }, ...(ownerSweepSeconds !== undefined ? { ownerSweepSeconds } : {}) });
  server.on('upgrade', (request, socket, head) => {
    if (!notifier.websocket.handleUpgrade(request, socket, head)) socket.destroy();
  });
  return {
    ...opened,
    origin,
    fhir,
    notifier,
    async close() {
      await notifier.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await opened.close();
    },
  };
}
