import { lookup } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { OperationOutcome, Subscription } from 'fhir/r4';
import { BACKENDS, reportBackends } from '../../support/backends.js';
import { TestReceiver, waitFor } from '../../support/notification-receiver.js';
import { openNotifyingServer, type NotifyingServer } from '../../support/notifying-server.js';
import { fhirCall, subscription } from './e2e-support.js';

reportBackends();

/**
 * Issue 20, SSRF: a Subscription cannot make the server call its own host, its network or the cloud's metadata
 * service. With loopback not allowed (production's setting), an endpoint whose host is a forbidden address literal
 * is refused when the Subscription is written (422 naming Subscription.channel.endpoint); one whose host is a name
 * is accepted, since a name can be re-pointed after any check, and refused when a delivery connects, by the address
 * the name then resolves to: the subscription goes to `error` saying why, and no connection reaches the receiver.
 */

/** A host name (not `localhost`, which is refused as written) that resolves to loopback addresses only on this machine. */
async function loopbackName(): Promise<string | undefined> {
  const hosts = (() => {
    try {
      return readFileSync('/etc/hosts', 'utf8');
    } catch {
      return '';
    }
  })();
  const names = hosts
    .split('\n')
    .map((line) => line.replace(/#.*/, '').trim().split(/\s+/))
    .filter((fields) => fields.length > 1)
    .flatMap((fields) => fields.slice(1));
  for (const name of [os.hostname(), ...names]) {
    if (!/^[A-Za-z0-9.-]+$/.test(name) || name === 'localhost' || name.endsWith('.localhost') || name.startsWith('localhost.')) continue;
    try {
      const addresses = await lookup(name, { all: true });
      if (addresses.length && addresses.every(({ address }) => address.startsWith('127.') || address === '::1')) return name;
    } catch {
      // not a name this machine resolves
    }
  }
  return undefined;
}

describe.each(BACKENDS)('rest-hook endpoints that would reach the server\'s own network, on $name', (backend) => {
  let server: NotifyingServer;
  let receiver: TestReceiver;

  beforeAll(async () => {
    server = await openNotifyingServer(backend, { notifications: { allowLoopback: false } });
    receiver = await TestReceiver.start();
  });
  afterAll(async () => {
    await server?.close();
    await receiver?.down();
  });

  it.each([
    ['the cloud metadata service', 'http://169.254.169.254/latest/meta-data/'],
    ['the cloud metadata service over https', 'https://169.254.169.254/'],
    ['a private address (10/8)', 'https://10.1.2.3/hook'],
    ['a private address (192.168/16)', 'https://192.168.0.10/hook'],
    ['a loopback address', 'https://127.0.0.1/hook'],
    ['this machine by name', 'https://localhost/hook'],
    ['loopback written as one decimal number', 'https://2130706433/hook'],
    ['loopback written in hex parts', 'https://0x7f.1/hook'],
    ['the metadata service as an IPv4-mapped IPv6 address', 'https://[::ffff:169.254.169.254]/'],
    ['this machine as IPv6 loopback', 'https://[::1]/hook'],
    ['the unspecified address', 'https://0.0.0.0/hook'],
  ])('refuses %s at create: 422 naming Subscription.channel.endpoint', async (_what, endpoint) => {
    const answer = await fhirCall<OperationOutcome>('POST', `${server.fhir}/Subscription`, subscription({ endpoint }));
    expect(answer.status).toBe(422);
    expect(answer.body.resourceType).toBe('OperationOutcome');
    expect(answer.body.issue.flatMap((issue) => issue.expression ?? [])).toContain('Subscription.channel.endpoint');
    // Nothing was stored.
    const search = await fhirCall<{ total?: number }>('GET', `${server.fhir}/Subscription?_summary=count`);
    expect(search.body.total).toBe(0);
  });

  it('accepts a name that resolves to loopback, then refuses to connect: the subscription ends in error saying why, and the receiver saw no connection', async () => {
    const name = await loopbackName();
    if (!name) {
      console.warn('No host name on this machine resolves to loopback only (besides localhost): the connect-time SSRF check is NOT exercised here.');
      return;
    }
    const endpoint = `https://${name}:${receiver.port}/hook`;
    const answer = await fhirCall<Subscription>('POST', `${server.fhir}/Subscription`, subscription({ endpoint }));
    expect(answer.status).toBe(201);
    const id = answer.body.id!;

    // The handshake is the first delivery: refused at connect time, not worth retrying.
    await waitFor('the Subscription in error', async () => (await fhirCall<Subscription>('GET', `${server.fhir}/Subscription/${id}`)).body.status === 'error', 15_000);
    const resource = (await fhirCall<Subscription>('GET', `${server.fhir}/Subscription/${id}`)).body;
    expect(resource.error).toMatch(/resolves to a loopback address/);
    expect(resource.error).not.toContain(name);
    expect(receiver.connections).toBe(0);
    expect(receiver.received).toEqual([]);
  });
});
