// The notifications bench's receiver: one node:http server on loopback, in the bench's process, that stands for
// many subscribers. Each subscriber has its own path (`/hook/<n>`), so each is its own endpoint URL and so its
// own delivery queue on the server (server/store/subscription-state.ts `endpointKey`). Every POST is read as the
// Backport IG's notification Bundle, stamped with its time of arrival, and answered 200 at once.
import { createServer } from 'node:http';

/** Milliseconds since the epoch with a fraction: the clock the event timestamps and the writes' times are read on. */
export const now = () => performance.timeOrigin + performance.now();

/**
 * What one notification Bundle says, from its status Parameters (the first entry): the notification type and
 * each event's number, timestamp (ms since the epoch) and focus (`Type/id`).
 */
export function readNotification(bundle) {
  const status = bundle?.entry?.[0]?.resource;
  if (bundle?.resourceType !== 'Bundle' || status?.resourceType !== 'Parameters') throw new Error('not a notification Bundle');
  const parameters = status.parameter ?? [];
  const type = parameters.find((p) => p.name === 'type')?.valueCode;
  const events = parameters
    .filter((p) => p.name === 'notification-event')
    .map(({ part = [] }) => {
      const value = (name) => part.find((p) => p.name === name);
      const focus = value('focus')?.valueReference?.reference;
      return {
        number: Number(value('event-number')?.valueString),
        timestamp: Date.parse(value('timestamp')?.valueInstant),
        // The focus as Type/id: the notification names it by absolute URL.
        focus: focus?.split('/').slice(-2).join('/'),
      };
    });
  return { type, events };
}

/** Nearest-rank percentile of numbers (sorted here): never between two samples, so never flattering. */
export function percentile(values, p) {
  if (!values.length) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** p50, p95, p99 and the extremes of a list of milliseconds. */
export function summary(values) {
  return {
    count: values.length,
    min: percentile(values, 0),
    p50: percentile(values, 50),
    p95: percentile(values, 95),
    p99: percentile(values, 99),
    max: percentile(values, 100),
  };
}

/**
 * Starts the receiver on 127.0.0.1; resolves with `url(n)` (subscriber n's endpoint), `received` (every POST as
 * { subscriber, at, type, events }), `onReceive` (a hook called after each) and `close`. A body that is not a
 * notification is counted in `malformed` and answered 400, so the server would report it.
 */
export async function startReceiver() {
  const received = [];
  const state = { received, malformed: 0, onReceive: undefined };
  const server = createServer((request, response) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      const at = now();
      const subscriber = Number(/^\/hook\/(\d+)$/.exec(request.url ?? '')?.[1]);
      try {
        const notification = readNotification(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        if (!Number.isInteger(subscriber)) throw new Error('no such subscriber');
        const entry = { subscriber, at, ...notification };
        received.push(entry);
        response.writeHead(200).end();
        state.onReceive?.(entry);
      } catch {
        state.malformed++;
        response.writeHead(400).end();
      }
    });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  return Object.assign(state, {
    url: (n) => `http://127.0.0.1:${port}/hook/${n}`,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  });
}
