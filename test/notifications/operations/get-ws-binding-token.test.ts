import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Parameters, ParametersParameter, Resource } from 'fhir/r4';
import { WebSocket } from 'ws';
import { type Caller, UNRESTRICTED } from '../../../server/access/caller.js';
import { verifyBindingToken } from '../../../server/delivery/channels/binding-token.js';
import { createWebSocketChannel, type WebSocketChannel } from '../../../server/delivery/channels/websocket.js';
import { websocketUrlOf } from '../../../server/notifications/operations/get-ws-binding-token.js';
import { handleFhirRequest } from '../../../server/pipeline/fhir-request.js';
import type { FhirContext, FhirResponse } from '../../../server/rest/types.js';
import { BACKENDS, reportBackends } from '../../support/backends.js';
import { openTestServer, type TestServer } from '../../support/fhir-app.js';
import { storeSubscription, subscriberClient } from '../../support/subscriptions.js';
import { rejection } from '../../support/thrown.js';

reportBackends();

const BASE = 'https://ccp.example.org/fhir';
const SECRET = randomBytes(32).toString('base64url');
const SUBSCRIPTIONS = { allowHttpLoopback: false, bindingSecret: SECRET, bindingTokenSeconds: 120, email: false };

const emrA = subscriberClient('emr-a');
const emrB = subscriberClient('emr-b');
const emrC = subscriberClient('emr-c');
const SERVER_OWNER = { kind: 'server' as const, scopes: [] };

const value = (parameters: Parameters, name: string): ParametersParameter[] => parameters.parameter!.filter((p) => p.name === name);

/** The claims of the answer's token, checked with the server's secret, and the answer's other parameters. */
function answered(parameters: Parameters): { bound: string[]; subscription: string[]; url: string; expiration: string; expiresAt: number } {
  const token = value(parameters, 'token')[0].valueString!;
  const verified = verifyBindingToken(SECRET, token);
  if (!verified.ok) throw new Error(`the token does not verify: ${verified.reason}`);
  return {
    bound: verified.subscriptions,
    subscription: value(parameters, 'subscription').map((p) => p.valueString!),
    url: value(parameters, 'websocket-url')[0].valueUrl!,
    expiration: value(parameters, 'expiration')[0].valueDateTime!,
    expiresAt: verified.expiresAt,
  };
}

describe('the websocket URL of a binding token', () => {
  it('is the origin of the base the request came to, ws: for http: and wss: for https:, on the channel path', () => {
    expect(websocketUrlOf('https://ccp.example.org/fhir', '/fhir/$subscription-ws')).toBe('wss://ccp.example.org/fhir/$subscription-ws');
    expect(websocketUrlOf('http://127.0.0.1:8080/fhir', '/fhir/$subscription-ws')).toBe('ws://127.0.0.1:8080/fhir/$subscription-ws');
    expect(websocketUrlOf('https://proxy.example.org:8443/api/fhir/', '/fhir/$subscription-ws')).toBe('wss://proxy.example.org:8443/fhir/$subscription-ws');
  });
});

describe.each(BACKENDS)('$get-ws-binding-token on $name', (backend) => {
  let server: TestServer;
  const call = (method: string, path: string, caller: Caller, query: Record<string, string[]> = {}, context?: FhirContext): Promise<FhirResponse> =>
    handleFhirRequest({ method, path, query, headers: {}, baseUrl: BASE, caller }, context ?? server.context);
  const token = async (path: string, caller: Caller = UNRESTRICTED, query: Record<string, string[]> = {}) => {
    const response = await call('GET', path, caller, query);
    expect(response.status).toBe(200);
    return answered(response.body as Parameters);
  };

  beforeAll(async () => {
    server = await openTestServer(backend, { subscriptions: SUBSCRIPTIONS });
    await storeSubscription(server.context, { id: 'ws-1', owner: SERVER_OWNER, channel: 'websocket', status: 'requested' });
    await storeSubscription(server.context, { id: 'ws-2', owner: SERVER_OWNER, channel: 'websocket' });
    await storeSubscription(server.context, { id: 'hook-1', owner: SERVER_OWNER, channel: 'rest-hook' });
    await storeSubscription(server.context, { id: 'a-ws', owner: emrA.owner, channel: 'websocket' });
    await storeSubscription(server.context, { id: 'a-hook', owner: emrA.owner, channel: 'rest-hook' });
    await storeSubscription(server.context, { id: 'b-ws', owner: emrB.owner, channel: 'websocket' });
  });
  afterAll(async () => server?.close());

  it('instance level: the IG Parameters (token, expiration, subscription, websocket-url), the token binding that Subscription', async () => {
    const response = await call('GET', 'Subscription/ws-1/$get-ws-binding-token', UNRESTRICTED);
    expect((response.body as Parameters).parameter!.map((p) => p.name)).toEqual(['token', 'expiration', 'subscription', 'websocket-url']);
    const answer = answered(response.body as Parameters);
    expect(answer.bound).toEqual(['ws-1']);
    expect(answer.subscription).toEqual(['Subscription/ws-1']);
    expect(answer.url).toBe('wss://ccp.example.org/fhir/$subscription-ws');
    // The expiration said is the token's own, and the token is good for the configured lifetime.
    expect(answer.expiration).toBe(new Date(answer.expiresAt).toISOString());
    expect(answer.expiresAt).toBeGreaterThan(Date.now());
  });

  it('instance level: the owner gets a token; anyone else a 404, as for a read', async () => {
    expect((await token('Subscription/a-ws/$get-ws-binding-token', emrA.caller)).bound).toEqual(['a-ws']);
    expect((await rejection(call('GET', 'Subscription/a-ws/$get-ws-binding-token', emrB.caller))).status).toBe(404);
    expect((await rejection(call('GET', 'Subscription/nowhere/$get-ws-binding-token', UNRESTRICTED))).status).toBe(404);
  });

  it('a Subscription whose channel is not websocket has nothing to bind: 422 naming it', async () => {
    const refused = await rejection(call('GET', 'Subscription/hook-1/$get-ws-binding-token', UNRESTRICTED));
    expect(refused.status).toBe(422);
    expect(refused.issues[0].code).toBe('not-supported');
    expect(refused.issues[0].diagnostics).toContain('Subscription/hook-1 (channel rest-hook)');
    const mixed = await rejection(call('GET', 'Subscription/$get-ws-binding-token', UNRESTRICTED, { id: ['ws-2', 'hook-1'] }));
    expect(mixed.status).toBe(422);
  });

  it('type level: the Subscriptions named, each of them the caller own, in one token', async () => {
    expect((await token('Subscription/$get-ws-binding-token', UNRESTRICTED, { id: ['ws-1', 'ws-2'] })).bound).toEqual(['ws-1', 'ws-2']);
    expect((await token('Subscription/$get-ws-binding-token', emrA.caller, { id: ['a-ws'] })).subscription).toEqual(['Subscription/a-ws']);
    // One the caller does not reach is not known to it: the request fails rather than binding fewer than asked.
    const other = await rejection(call('GET', 'Subscription/$get-ws-binding-token', emrA.caller, { id: ['a-ws', 'b-ws'] }));
    expect(other.status).toBe(404);
    expect(other.issues[0].diagnostics).toContain('Subscription/b-ws');
  });

  it('type level without id: every websocket Subscription the caller reaches; none is a 422', async () => {
    expect((await token('Subscription/$get-ws-binding-token', emrA.caller)).bound).toEqual(['a-ws']);
    expect((await token('Subscription/$get-ws-binding-token', UNRESTRICTED)).bound.sort()).toEqual(['a-ws', 'b-ws', 'ws-1', 'ws-2']);
    expect((await rejection(call('GET', 'Subscription/$get-ws-binding-token', emrC.caller))).status).toBe(422);
  });

  it('without the binding secret configured: 501, the server configuration being what is missing; only on Subscription', async () => {
    const { subscriptions: _unused, ...options } = server.context.options;
    const refused = await rejection(call('GET', 'Subscription/ws-1/$get-ws-binding-token', UNRESTRICTED, {}, { ...server.context, options }));
    expect(refused.status).toBe(501);
    expect(refused.issues[0].code).toBe('not-supported');
    expect((await rejection(call('GET', 'Patient/$get-ws-binding-token', UNRESTRICTED))).status).toBe(404);
  });

  describe('over HTTP, with the websocket channel behind the same server', () => {
    let http: Server;
    let channel: WebSocketChannel;
    let origin: string;
    const bound: string[] = [];
    let onBound: () => void = () => undefined;

    beforeAll(async () => {
      channel = createWebSocketChannel({
        secret: SECRET,
        onBound: (id) => {
          bound.push(id);
          onBound();
        },
      });
      http = createServer(server.app);
      http.on('upgrade', (req, socket, head) => {
        if (!channel.handleUpgrade(req, socket, head)) socket.destroy();
      });
      await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
      origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      await channel.shutdown();
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    });

    it('the token and URL it answers bind a real websocket client to the Subscription', async () => {
      const response = await fetch(`${origin}/fhir/Subscription/ws-2/$get-ws-binding-token`);
      expect(response.status).toBe(200);
      const parameters = (await response.json()) as Parameters;
      const url = value(parameters, 'websocket-url')[0].valueUrl!;
      expect(url).toBe(`ws://127.0.0.1:${new URL(origin).port}/fhir/$subscription-ws`);
      const ws = new WebSocket(url);
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      });
      const wasBound = new Promise<void>((resolve) => (onBound = resolve));
      ws.send(`bind-with-token ${value(parameters, 'token')[0].valueString!}`);
      await wasBound;
      expect(bound).toEqual(['ws-2']);
      expect(channel.bound('ws-2')).toBe(1);
      ws.close();
    });

    it('POST works alike, and a rest-hook Subscription is refused with an OperationOutcome', async () => {
      const posted = await fetch(`${origin}/fhir/Subscription/$get-ws-binding-token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/fhir+json' },
        body: JSON.stringify({ resourceType: 'Parameters', parameter: [{ name: 'id', valueId: 'ws-1' }] }),
      });
      expect(posted.status).toBe(200);
      expect(answered((await posted.json()) as Parameters).bound).toEqual(['ws-1']);
      const refused = await fetch(`${origin}/fhir/Subscription/hook-1/$get-ws-binding-token`);
      expect(refused.status).toBe(422);
      expect(((await refused.json()) as Resource).resourceType).toBe('OperationOutcome');
    });
  });
});
