import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Bundle, OperationOutcome, Parameters } from 'fhir/r4';
import { WebSocket } from 'ws';
import { issueBindingToken } from '../../../server/delivery/channels/binding-token.js';
import { createWebSocketChannel, WEBSOCKET_PATH, type WebSocketChannel } from '../../../server/delivery/channels/websocket.js';
import { notificationBundle, subscriptionSpec } from './notification.js';

/**
 * The websocket channel behind a real HTTP server's `upgrade`, with real `ws` clients: bind with a token, receive
 * the handshake and the notifications, be refused with a bad or expired token, be closed when access ends.
 */
const secret = randomBytes(32);
let server: Server;
let channel: WebSocketChannel;
let url: string;

beforeAll(async () => {
  channel = createWebSocketChannel({
    secret,
    admit: async (id) => id !== 'sub-withdrawn',
    onBound: async (id, reply) => {
      await reply(notificationBundle(id, { type: 'handshake' }));
    },
  });
  server = createServer((_req, res) => res.writeHead(404).end());
  server.on('upgrade', (request, socket, head) => {
    if (!channel.handleUpgrade(request, socket, head)) socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}${WEBSOCKET_PATH}`;
});

afterAll(async () => {
  await channel.shutdown();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** A connected client and the messages it receives, in order. */
interface Client {
  ws: WebSocket;
  next(): Promise<Bundle | OperationOutcome>;
  closed: Promise<{ code: number; reason: string }>;
}

async function connect(): Promise<Client> {
  const ws = new WebSocket(url);
  const queue: (Bundle | OperationOutcome)[] = [];
  const waiting: ((message: Bundle | OperationOutcome) => void)[] = [];
  ws.on('message', (data) => {
    const message = JSON.parse(String(data)) as Bundle | OperationOutcome;
    const waiter = waiting.shift();
    if (waiter) waiter(message);
    else queue.push(message);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') })),
  );
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return {
    ws,
    closed,
    next: () => {
      const queued = queue.shift();
      return queued ? Promise.resolve(queued) : new Promise((resolve) => waiting.push(resolve));
    },
  };
}

function notificationType(bundle: Bundle | OperationOutcome): unknown {
  if (bundle.resourceType !== 'Bundle') return bundle.resourceType;
  const status = bundle.entry?.[0]?.resource as Parameters | undefined;
  return status?.resourceType === 'Parameters' ? status.parameter?.find((p) => p.name === 'type')?.valueCode : undefined;
}

const websocketSubscription = (id: string) => subscriptionSpec({ id, channel: 'websocket', endpoint: undefined });

describe('websocket delivery', () => {
  it('binds with a token, sends the handshake, then every notification as a text frame', async () => {
    const client = await connect();
    const { token } = issueBindingToken(secret, ['sub-ws-1'], 60);
    client.ws.send(`bind-with-token ${token}`);
    expect(notificationType(await client.next())).toBe('handshake');
    expect(channel.bound('sub-ws-1')).toBe(1);

    const bundle = notificationBundle('sub-ws-1');
    expect(await channel.send(websocketSubscription('sub-ws-1'), bundle, 'event-notification')).toEqual({ ok: true });
    expect(await client.next()).toEqual(bundle);
    client.ws.close();
    await client.closed;
  });

  it('sends to every socket bound to the subscription, and one token may bind several subscriptions', async () => {
    const [a, b] = [await connect(), await connect()];
    a.ws.send(`bind-with-token ${issueBindingToken(secret, ['sub-ws-2', 'sub-ws-3'], 60).token}`);
    b.ws.send(JSON.stringify({ type: 'bind-with-token', payload: { token: issueBindingToken(secret, ['sub-ws-2'], 60).token } }));
    expect(notificationType(await a.next())).toBe('handshake');
    expect(notificationType(await a.next())).toBe('handshake');
    expect(notificationType(await b.next())).toBe('handshake');
    expect(channel.bound('sub-ws-2')).toBe(2);

    const bundle = notificationBundle('sub-ws-2');
    expect(await channel.send(websocketSubscription('sub-ws-2'), bundle, 'event-notification')).toEqual({ ok: true });
    expect(await a.next()).toEqual(bundle);
    expect(await b.next()).toEqual(bundle);
    a.ws.close();
    b.ws.close();
    await Promise.all([a.closed, b.closed]);
    expect(channel.bound('sub-ws-2')).toBe(0);
  });

  it('answers retry when no client is bound to the subscription in this process', async () => {
    expect(await channel.send(websocketSubscription('sub-nobody'), notificationBundle('sub-nobody'), 'event-notification')).toEqual({
      ok: false,
      retry: true,
      reason: 'no websocket client is bound to this subscription in this process',
    });
  });

  it.each([
    ['a token signed with another secret', () => issueBindingToken(randomBytes(32), ['sub-ws-4'], 60).token, 'security', 'the binding token is not valid'],
    [
      'a token whose claims were changed',
      () => {
        const [version, , signature] = issueBindingToken(secret, ['sub-ws-4'], 60).token.split('.');
        const claims = Buffer.from(JSON.stringify({ sub: ['sub-other'], exp: Date.now() + 60_000 })).toString('base64url');
        return `${version}.${claims}.${signature}`;
      },
      'security',
      'the binding token is not valid',
    ],
    ['an expired token', () => issueBindingToken(secret, ['sub-ws-4'], 60, Date.now() - 120_000).token, 'expired', 'the binding token has expired'],
    ['no token at all', () => 'not-a-token', 'security', 'the binding token is not valid'],
  ])('refuses %s with an OperationOutcome and closes the socket', async (_what, token, code, diagnostics) => {
    const client = await connect();
    client.ws.send(`bind-with-token ${token()}`);
    expect(await client.next()).toEqual({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, diagnostics }] });
    expect(await client.closed).toEqual({ code: 1008, reason: diagnostics });
    expect(channel.bound('sub-ws-4')).toBe(0);
  });

  it('does not bind a subscription the server no longer admits', async () => {
    const client = await connect();
    client.ws.send(`bind-with-token ${issueBindingToken(secret, ['sub-withdrawn'], 60).token}`);
    expect(await client.next()).toMatchObject({ issue: [{ code: 'forbidden', diagnostics: 'Subscription/sub-withdrawn cannot be bound' }] });
    expect(await client.closed).toMatchObject({ code: 1008 });
    expect(channel.bound('sub-withdrawn')).toBe(0);
  });

  it('answers a message it does not understand and keeps the connection', async () => {
    const client = await connect();
    client.ws.send('hello');
    expect(await client.next()).toMatchObject({ issue: [{ code: 'not-supported' }] });
    client.ws.send(`bind-with-token ${issueBindingToken(secret, ['sub-ws-5'], 60).token}`);
    expect(notificationType(await client.next())).toBe('handshake');
    client.ws.close();
    await client.closed;
  });

  it('closes the sockets of a subscription whose subscriber lost access, and keeps other bindings of a shared socket', async () => {
    const only = await connect();
    const shared = await connect();
    only.ws.send(`bind-with-token ${issueBindingToken(secret, ['sub-ws-6'], 60).token}`);
    shared.ws.send(`bind-with-token ${issueBindingToken(secret, ['sub-ws-6', 'sub-ws-7'], 60).token}`);
    await only.next();
    await shared.next();
    await shared.next();

    expect(channel.close('sub-ws-6', 'access ended')).toBe(2);
    expect(await only.next()).toMatchObject({ issue: [{ severity: 'information', diagnostics: 'Subscription/sub-ws-6 is no longer bound: access ended' }] });
    expect(await only.closed).toEqual({ code: 1000, reason: 'access ended' });
    expect(await shared.next()).toMatchObject({ issue: [{ diagnostics: 'Subscription/sub-ws-6 is no longer bound: access ended' }] });
    expect(channel.bound('sub-ws-6')).toBe(0);
    expect((await channel.send(websocketSubscription('sub-ws-6'), notificationBundle('sub-ws-6'), 'event-notification')).ok).toBe(false);

    const bundle = notificationBundle('sub-ws-7');
    expect(await channel.send(websocketSubscription('sub-ws-7'), bundle, 'event-notification')).toEqual({ ok: true });
    expect(await shared.next()).toEqual(bundle);
    shared.ws.close();
    await shared.closed;
  });

  it('ends a binding when its token expires: the socket is told and closed, and notifications wait for a new bind', async () => {
    const client = await connect();
    client.ws.send(`bind-with-token ${issueBindingToken(secret, ['sub-ws-8'], 0.3).token}`);
    expect(notificationType(await client.next())).toBe('handshake');
    await new Promise((resolve) => setTimeout(resolve, 350));
    expect(await channel.send(websocketSubscription('sub-ws-8'), notificationBundle('sub-ws-8'), 'event-notification')).toMatchObject({
      ok: false,
      retry: true,
    });
    expect(await client.next()).toMatchObject({ issue: [{ diagnostics: 'Subscription/sub-ws-8 is no longer bound: the binding token expired' }] });
    expect(await client.closed).toEqual({ code: 1000, reason: 'the binding token expired' });
  });

  it('closes a connection that binds nothing in time', async () => {
    const impatient = createWebSocketChannel({ secret, path: '/impatient', bindTimeoutSeconds: 0.2 });
    const other = createServer();
    other.on('upgrade', (request, socket, head) => {
      if (!impatient.handleUpgrade(request, socket, head)) socket.destroy();
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    try {
      const ws = new WebSocket(`ws://127.0.0.1:${(other.address() as AddressInfo).port}/impatient`);
      const messages: unknown[] = [];
      ws.on('message', (data) => messages.push(JSON.parse(String(data))));
      const closed = await new Promise<{ code: number; reason: string }>((resolve) =>
        ws.on('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') })),
      );
      expect(closed).toEqual({ code: 1008, reason: 'no bind-with-token in time' });
      expect(messages).toMatchObject([{ resourceType: 'OperationOutcome', issue: [{ code: 'security' }] }]);
    } finally {
      await impatient.shutdown();
      other.closeAllConnections();
      await new Promise((resolve) => other.close(resolve));
    }
  });

  it('leaves other paths to the HTTP server', async () => {
    const other = new WebSocket(url.replace(WEBSOCKET_PATH, '/fhir/Patient'));
    await expect(new Promise((resolve, reject) => other.once('open', resolve).once('error', reject))).rejects.toThrow();
  });
});
