import type { Bundle, OperationOutcome, Parameters, Subscription } from 'fhir/r4';
import { WebSocket } from 'ws';
import type { Client } from '../../../server/auth/clients.js';
import { hashPassword } from '../../../server/auth/secrets.js';
import { issueBindingToken } from '../../../server/delivery/channels/binding-token.js';
import { BACKENDS, reportBackends } from '../../support/backends.js';
import { waitFor } from '../../support/notification-receiver.js';
import { openNotifyingServer, TEST_BINDING_SECRET, type NotifyingServer } from '../../support/notifying-server.js';
import { created, fhirCall, joining, subscription } from './e2e-support.js';

reportBackends();

/**
 * Issue 20, the websocket channel end to end: a backend client with a real access token creates a websocket
 * Subscription, binds a real `ws` client to it with a binding token (issued here with the server's key, as
 * `$get-ws-binding-token` would), gets the handshake and then an event notification; when the client is switched
 * off, its socket is closed (the notifier's owner check, every second here instead of every 30 s) and it cannot
 * bind again.
 */

const SECRET = 'websocket-e2e-secret';
const SCOPE = 'system/Subscription.cruds system/Organization.cruds';

/** A socket and everything it received, parsed. */
interface Socket {
  ws: WebSocket;
  messages: Array<Bundle | OperationOutcome>;
  closed?: { code: number; reason: string };
}

async function connect(server: NotifyingServer): Promise<Socket> {
  const ws = new WebSocket(`${server.origin.replace(/^http/, 'ws')}/fhir/$subscription-ws`);
  const socket: Socket = { ws, messages: [] };
  ws.on('message', (data) => socket.messages.push(JSON.parse(String(data)) as Bundle | OperationOutcome));
  ws.on('close', (code, reason) => (socket.closed = { code, reason: reason.toString() }));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return socket;
}

/** The notification Bundles a socket got, as [type, event numbers, focus references]. */
function notifications(socket: Socket): Array<{ type: string; numbers: string[]; focus: string[] }> {
  return socket.messages
    .filter((message): message is Bundle => message.resourceType === 'Bundle')
    .map((bundle) => {
      const status = bundle.entry![0].resource as Parameters;
      const events = status.parameter!.filter((p) => p.name === 'notification-event');
      return {
        type: status.parameter!.find((p) => p.name === 'type')!.valueCode!,
        numbers: events.map((event) => event.part!.find((part) => part.name === 'event-number')!.valueString!),
        focus: events.flatMap((event) => event.part!.filter((part) => part.name === 'focus').map((part) => part.valueReference!.reference!)),
      };
    });
}

describe.each(BACKENDS)('a websocket subscriber, on $name', (backend) => {
  let server: NotifyingServer;
  let client: Client;
  let token: string;

  beforeAll(async () => {
    server = await openNotifyingServer(backend, { auth: true, ownerSweepSeconds: 1 });
    client = { clientId: 'ws-emr', name: 'EMR on a websocket', kind: 'backend', authMethod: 'client_secret_basic', secretHash: await hashPassword(SECRET), redirectUris: [], scope: SCOPE, active: true, source: 'api' };
    await server.auth!.clients.save(client);
    const answer = await fetch(`${server.origin}/auth/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`ws-emr:${SECRET}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: SCOPE }).toString(),
    });
    expect(answer.status).toBe(200);
    token = ((await answer.json()) as { access_token: string }).access_token;
  });
  afterAll(async () => server?.close());

  it('binds, gets the handshake and an event notification, and is closed when the client loses access', async () => {
    const { id } = await created(server.fhir, subscription({ channel: 'websocket' }), token);
    expect((await fhirCall<Subscription>('GET', `${server.fhir}/Subscription/${id}`, undefined, token)).body.status).toBe('requested');

    const binding = issueBindingToken(TEST_BINDING_SECRET, [id], 60).token;
    const socket = await connect(server);
    socket.ws.send(`bind-with-token ${binding}`);
    await waitFor('the handshake', () => notifications(socket).some((n) => n.type === 'handshake'));
    await waitFor('the Subscription active', async () => (await fhirCall<Subscription>('GET', `${server.fhir}/Subscription/${id}`, undefined, token)).body.status === 'active');

    const organization = await created(server.fhir, joining('Joins while bound'), token);
    await waitFor('the event notification', () => notifications(socket).some((n) => n.type === 'event-notification'));
    const events = notifications(socket).filter((n) => n.type === 'event-notification');
    expect(events).toHaveLength(1);
    expect(events[0].numbers).toEqual(['1']);
    expect(events[0].focus).toEqual([`${server.fhir}/Organization/${organization.id}`]);

    // Switched off, as an administrator does: the socket is closed at the next owner check.
    await server.auth!.clients.save({ ...client, active: false });
    await waitFor('the socket closed', () => socket.closed !== undefined, 10_000);
    expect(socket.closed!.code).toBe(1000);
    const outcomes = socket.messages.filter((message): message is OperationOutcome => message.resourceType === 'OperationOutcome');
    expect(outcomes.map((outcome) => outcome.issue[0].diagnostics)).toContainEqual(expect.stringContaining('no longer has access'));

    // The same (still valid) binding token binds nothing now.
    const again = await connect(server);
    again.ws.send(`bind-with-token ${binding}`);
    await waitFor('the second socket refused', () => again.closed !== undefined);
    expect(again.closed!.code).toBe(1008);
    expect(notifications(again)).toEqual([]);
  });
});
