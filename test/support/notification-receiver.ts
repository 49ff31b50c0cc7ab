import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Bundle, Parameters } from 'fhir/r4';
import type { Channel, NotificationType, SendOutcome, SubscriptionSpec, SubscriptionStatusReport } from '../../server/subscriptions/model.js';

/**
 * What the delivery tests send and receive with: a loopback HTTP receiver that can go down and come back on its port,
 * a rest-hook channel of the tests' own that POSTs with fetch, and a small notification Bundle builder of the tests'
 * own (the server's is server/subscriptions/notification-bundle.ts) carrying just what the receiver checks.
 */

/** One POST as the receiver read it. */
export interface Received {
  path: string;
  subscription: string;
  type: NotificationType;
  eventNumbers: number[];
  /** Each event's focus reference, when the payload carries it (id-only). */
  focus: string[];
}

/** The tests' notification: a history Bundle whose Parameters name the subscription, the type and the event numbers. */
export function testNotificationBundle(report: SubscriptionStatusReport): Bundle {
  const status: Parameters = {
    resourceType: 'Parameters',
    parameter: [
      { name: 'subscription', valueReference: { reference: `Subscription/${report.subscription.id}` } },
      { name: 'status', valueCode: report.status },
      { name: 'type', valueCode: report.type },
      { name: 'events-since-subscription-start', valueString: String(report.eventsSinceSubscriptionStart) },
      ...report.events.map((event) => ({ name: 'notification-event', part: [{ name: 'event-number', valueString: String(event.eventNumber) }] })),
    ],
  };
  return { resourceType: 'Bundle', type: 'history', entry: [{ fullUrl: 'urn:uuid:status', resource: status, request: { method: 'GET', url: 'Subscription/$status' }, response: { status: '200' } }] };
}

function readReceived(path: string, body: string): Received {
  const bundle = JSON.parse(body) as Bundle;
  const status = bundle.entry?.[0]?.resource as Parameters;
  const parameter = (name: string) => status.parameter?.filter((p) => p.name === name) ?? [];
  return {
    path,
    // `Subscription/id`, or the server's absolute `[base]/Subscription/id`.
    subscription: /(?:^|\/)Subscription\/([^/]+)$/.exec(parameter('subscription')[0]?.valueReference?.reference ?? '')?.[1] ?? '',
    type: parameter('type')[0]?.valueCode as NotificationType,
    eventNumbers: parameter('notification-event').map((p) => Number(p.part?.[0]?.valueString)),
    focus: parameter('notification-event').flatMap((p) => p.part?.filter((part) => part.name === 'focus').map((part) => part.valueReference?.reference ?? '') ?? []),
  };
}

/** A real HTTP server on 127.0.0.1 that records each notification POSTed to it and answers 200 (after `delayMs`). */
export class TestReceiver {
  readonly received: Received[] = [];
  /** Requests being answered now. */
  pending = 0;
  /** TCP connections accepted so far, whatever came of them (a refused endpoint must open none). */
  connections = 0;
  delayMs = 0;
  private server?: Server;
  private boundPort = 0;

  private constructor() {}

  static async start(): Promise<TestReceiver> {
    const receiver = new TestReceiver();
    await receiver.listen(0);
    return receiver;
  }

  get port(): number {
    return this.boundPort;
  }

  /** A port nothing listens on (taken from a server opened and closed again). */
  static async freePort(): Promise<number> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return port;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}/${path}`;
  }

  /** What reached `path`, in arrival order. */
  at(path: string): Received[] {
    return this.received.filter((r) => r.path === `/${path}`);
  }

  /** Stops listening and drops kept-alive connections: the endpoint is away (connection refused). */
  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Listens again on the same port. */
  async up(): Promise<void> {
    await this.listen(this.port);
  }

  private async listen(port: number): Promise<void> {
    const server = createServer((request, response) => void this.handle(request, response));
    server.on('connection', () => this.connections++);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.boundPort = (server.address() as AddressInfo).port;
    this.server = server;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    this.pending++;
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      if (this.delayMs) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
      this.received.push(readReceived(request.url ?? '', Buffer.concat(chunks).toString('utf8')));
      response.writeHead(200).end();
    } finally {
      this.pending--;
    }
  }
}

/**
 * The tests' rest-hook channel: POSTs the Bundle to the subscription's endpoint with fetch, within its timeout; 2xx is
 * delivered, 408/429/5xx and an unreachable endpoint are worth retrying, other answers are not. Reasons name the
 * status or the failure, never content.
 */
export const testRestHook: Channel = {
  type: 'rest-hook',
  async send(subscription: SubscriptionSpec, bundle: Bundle): Promise<SendOutcome> {
    try {
      const response = await fetch(subscription.endpoint!, {
        method: 'POST',
        headers: { 'content-type': 'application/fhir+json' },
        body: JSON.stringify(bundle),
        redirect: 'manual',
        signal: AbortSignal.timeout(subscription.timeoutSeconds * 1000),
      });
      await response.arrayBuffer();
      if (response.ok) return { ok: true };
      return { ok: false, retry: response.status >= 500 || response.status === 408 || response.status === 429, reason: `HTTP ${response.status}` };
    } catch (error) {
      const code = (error as { cause?: { code?: string } }).cause?.code;
      return { ok: false, retry: true, reason: `unreachable${code ? ` (${code})` : ''}` };
    }
  },
};

/** Waits until `done` holds, checking every 20 ms, or fails after `timeoutMs` naming `what`. */
export async function waitFor(what: string, done: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
