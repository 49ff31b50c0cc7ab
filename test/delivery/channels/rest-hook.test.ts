import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRestHookChannel } from '../../../server/delivery/channels/rest-hook.js';
import { notificationBundle, subscriptionSpec } from './notification.js';

/**
 * The rest-hook channel against a real HTTP receiver on loopback (node:http), with loopback allowed as in local
 * tests; the address rules are also shown refusing before any connection is made (no traffic leaves the machine:
 * refused addresses are never connected to).
 */
interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

let server: Server;
let base: string;
let port: number;
const received: Received[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const status = Number(/^\/status\/(\d+)$/.exec(req.url ?? '')?.[1] ?? 0);
      if (req.url === '/hook') res.writeHead(200).end('{"resourceType":"OperationOutcome"}');
      else if (req.url === '/redirect') res.writeHead(302, { location: '/hook' }).end();
      else if (req.url === '/silent') return; // never answers
      else if (req.url === '/reset') req.socket.destroy(); // drops the connection
      else if (status) res.writeHead(status).end('the receiver says something private here');
      else res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  received.length = 0;
});

const loopback = createRestHookChannel({ allowLoopback: true, userAgent: 'ccp-exchange-test' });
const strict = createRestHookChannel();

describe('rest-hook delivery', () => {
  it('POSTs the Bundle as application/fhir+json with the channel.header lines', async () => {
    const bundle = notificationBundle('sub-1');
    const subscription = subscriptionSpec({
      endpoint: `${base}/hook`,
      headers: ['Authorization: Bearer subscriber-secret', 'X-Subscriber-Tag: a', 'X-Subscriber-Tag: b'],
    });
    expect(await loopback.send(subscription, bundle, 'event-notification')).toEqual({ ok: true });
    expect(received).toHaveLength(1);
    const [request] = received;
    expect(request.method).toBe('POST');
    expect(request.url).toBe('/hook');
    expect(request.headers['content-type']).toBe('application/fhir+json');
    expect(request.headers.authorization).toBe('Bearer subscriber-secret');
    expect(request.headers['x-subscriber-tag']).toBe('a, b');
    expect(request.headers['user-agent']).toBe('ccp-exchange-test');
    expect(JSON.parse(request.body)).toEqual(bundle);
    expect(Number(request.headers['content-length'])).toBe(Buffer.byteLength(request.body));
  });

  it('POSTs with the media type the Subscription asked for', async () => {
    const subscription = subscriptionSpec({ endpoint: `${base}/hook`, contentType: 'application/json' });
    expect(await loopback.send(subscription, notificationBundle('sub-2'), 'event-notification')).toEqual({ ok: true });
    expect(received.map((request) => request.headers['content-type'])).toEqual(['application/json']);
  });

  it('does not follow a redirect: a 3xx fails for good', async () => {
    const outcome = await loopback.send(subscriptionSpec({ endpoint: `${base}/redirect` }), notificationBundle('sub-1'), 'event-notification');
    expect(outcome).toEqual({ ok: false, retry: false, reason: 'HTTP 302: redirects are not followed' });
    expect(received.map((r) => r.url)).toEqual(['/redirect']);
  });

  it.each([
    [500, true],
    [503, true],
    [408, true],
    [429, true],
    [404, false],
    [400, false],
    [401, false],
    [410, false],
  ])('an answer %i is %s worth retrying, and the reason names the status, not the body', async (status, retry) => {
    const outcome = await loopback.send(subscriptionSpec({ endpoint: `${base}/status/${status}` }), notificationBundle('sub-1'), 'event-notification');
    expect(outcome).toEqual({ ok: false, retry, reason: `HTTP ${status}` });
  });

  it('gives up on a receiver that does not answer within the timeout, to try again later', async () => {
    const started = Date.now();
    const outcome = await loopback.send(
      subscriptionSpec({ endpoint: `${base}/silent`, timeoutSeconds: 0.3 }),
      notificationBundle('sub-1'),
      'event-notification',
    );
    expect(outcome).toEqual({ ok: false, retry: true, reason: 'no answer within 0.3 s (timeout)' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(received.map((r) => r.url)).toEqual(['/silent']);
  });

  it('retries when the connection is refused', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const freePort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const outcome = await loopback.send(subscriptionSpec({ endpoint: `http://127.0.0.1:${freePort}/hook` }), notificationBundle('sub-1'), 'event-notification');
    expect(outcome).toEqual({ ok: false, retry: true, reason: 'the connection failed (ECONNREFUSED)' });
  });

  it('retries when the receiver drops the connection', async () => {
    const outcome = await loopback.send(subscriptionSpec({ endpoint: `${base}/reset` }), notificationBundle('sub-1'), 'event-notification');
    expect(outcome).toEqual({ ok: false, retry: true, reason: 'the connection failed (ECONNRESET)' });
  });

  it('reaches a name that resolves to loopback when loopback is allowed', async () => {
    const outcome = await loopback.send(subscriptionSpec({ endpoint: `http://localhost:${port}/hook` }), notificationBundle('sub-1'), 'event-notification');
    expect(outcome).toEqual({ ok: true });
    expect(received).toHaveLength(1);
  });

  it('refuses, at connect time, a name that resolves to loopback when loopback is not allowed', async () => {
    const outcome = await strict.send(subscriptionSpec({ endpoint: `https://localhost:${port}/hook` }), notificationBundle('sub-1'), 'event-notification');
    expect(outcome).toEqual({ ok: false, retry: false, reason: 'the endpoint resolves to a loopback address' });
    expect(received).toHaveLength(0);
  });

  it.each([
    ['https://169.254.169.254/latest/meta-data/', 'the endpoint resolves to a link-local address'],
    ['https://10.0.0.1/hook', 'the endpoint resolves to a private address'],
    ['https://[::ffff:169.254.169.254]/hook', 'the endpoint resolves to a link-local (inside an IPv6 address) address'],
  ])('refuses %s before connecting, for good', async (endpoint, reason) => {
    // The reason is the rule's own: a connection attempted and failed would have given a connection error.
    for (const channel of [strict, loopback]) {
      expect(await channel.send(subscriptionSpec({ endpoint }), notificationBundle('sub-1'), 'event-notification')).toEqual({
        ok: false,
        retry: false,
        reason,
      });
    }
  });

  it('is https only, unless loopback is allowed, and then http reaches loopback only', async () => {
    expect(await strict.send(subscriptionSpec({ endpoint: `${base}/hook` }), notificationBundle('sub-1'), 'event-notification')).toEqual({
      ok: false,
      retry: false,
      reason: 'the endpoint must use https',
    });
    expect(await loopback.send(subscriptionSpec({ endpoint: 'http://10.0.0.1/hook' }), notificationBundle('sub-1'), 'event-notification')).toEqual({
      ok: false,
      retry: false,
      reason: 'http is allowed to loopback addresses only',
    });
    expect(received).toHaveLength(0);
  });

  it('refuses a bad channel.header line, for good and without sending', async () => {
    const outcome = await loopback.send(
      subscriptionSpec({ endpoint: `${base}/hook`, headers: ['X-Evil: a\r\nHost: elsewhere'] }),
      notificationBundle('sub-1'),
      'event-notification',
    );
    expect(outcome).toEqual({ ok: false, retry: false, reason: 'channel.header[0] has characters a header value cannot carry' });
    expect(received).toHaveLength(0);
  });
});
