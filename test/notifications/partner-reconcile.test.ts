import type { Organization, Resource } from 'fhir/r4';
import { UNRESTRICTED } from '../../server/access/caller.js';
import { reconcilePartnerSubscriptions } from '../../server/notifications/partner-subscriptions.js';
import { handleFhirRequest } from '../../server/pipeline/fhir-request.js';
import { putSubscription, setSubscriptionStatus, statusOf } from '../../server/store/subscription-outbox.js';
import { CONTACT_PURPOSE_SYSTEM } from '../../server/subscriptions/partner-address.js';
import { partnerSubscriptionSpecs } from '../../server/subscriptions/partner-subscriptions.js';
import { BACKENDS, reportBackends } from '../support/backends.js';
import { openTestServer, type TestServer } from '../support/fhir-app.js';

/*
 * The reconcile the server runs at start (server/notifications/partner-subscriptions.ts): Organizations written
 * before the partner-email rule existed (here: straight into the store, past every rule) get their records, records
 * no current Organization asks for go, and a second run changes nothing.
 */

reportBackends();

const TOPICS = ['ccp-changed', 'service-notice', 'organization-joined'];
const ids = (organization: string) => TOPICS.map((topic) => `partner:${organization}:${topic}`);

const organization = (id: string, address?: string, active = true): Organization & { id: string } => ({
  resourceType: 'Organization',
  id,
  active,
  ...(address ? { contact: [{ purpose: { coding: [{ system: CONTACT_PURPOSE_SYSTEM, code: 'notifications' }] }, telecom: [{ system: 'email', value: address }] }] } : {}),
});

describe.each(BACKENDS)('reconciling the partners’ email subscriptions at start, on $name', (backend) => {
  let server: TestServer;
  /** Written as an older server would have: no rule ran. */
  const writeAround = (resource: Resource & { id: string }) => server.context.store.update(resource, { allowCreate: true });
  const reconcile = () => reconcilePartnerSubscriptions(server.db, server.context.store, 'host');

  beforeAll(async () => {
    server = await openTestServer(backend, { hostingOrganization: 'host' });
    await writeAround(organization('host', 'desk@host.example.org'));
    await writeAround(organization('old', 'notices@old.example.org'));
    await writeAround(organization('asleep', 'notices@asleep.example.org', false));
    await writeAround(organization('silent'));
    // Records no current Organization asks for: the hosting organization's (made while another was hosting) and a
    // deleted organization's.
    for (const spec of partnerSubscriptionSpecs(organization('host', 'desk@host.example.org'), undefined)) await putSubscription(server.db, spec, 'active');
    for (const spec of partnerSubscriptionSpecs(organization('gone', 'notices@gone.example.org'), 'host')) await putSubscription(server.db, spec, 'active');
  });
  afterAll(async () => server?.close());

  it('makes the records partners with an address need and removes the others; a second run changes nothing', async () => {
    const first = await reconcile();
    expect(first.put.sort()).toEqual(ids('old').sort());
    expect(first.removed.sort()).toEqual([...ids('gone'), ...ids('host')].sort());
    for (const id of ids('old')) expect((await statusOf(server.db, id))?.subscription.endpoint).toBe('mailto:notices@old.example.org');
    for (const id of [...ids('host'), ...ids('gone'), ...ids('asleep'), ...ids('silent')]) expect(await statusOf(server.db, id)).toBeUndefined();
    expect(await reconcile()).toEqual({ put: [], removed: [] });
  });

  it('follows an address changed or removed while no rule ran', async () => {
    await writeAround(organization('old', 'desk@old.example.org'));
    expect((await reconcile()).put.sort()).toEqual(ids('old').sort());
    expect((await statusOf(server.db, 'partner:old:ccp-changed'))?.subscription.endpoint).toBe('mailto:desk@old.example.org');
    await writeAround(organization('asleep', 'notices@asleep.example.org', true));
    await writeAround(organization('old'));
    const changes = await reconcile();
    expect(changes.put.sort()).toEqual(ids('asleep').sort());
    expect(changes.removed.sort()).toEqual(ids('old').sort());
  });

  it('leaves a record the mail server refused (error) as it is; a write of the Organization makes it active again', async () => {
    await setSubscriptionStatus(server.db, 'partner:asleep:ccp-changed', 'error', 'the SMTP server refused the message (SMTP 550)');
    expect(await reconcile()).toEqual({ put: [], removed: [] });
    expect((await statusOf(server.db, 'partner:asleep:ccp-changed'))?.status).toBe('error');
    const body = organization('asleep', 'notices@asleep.example.org', true);
    const written = await handleFhirRequest({ method: 'PUT', path: 'Organization/asleep', query: {}, headers: {}, baseUrl: 'https://ccp.example.org/fhir', caller: UNRESTRICTED, body }, server.context);
    expect(written.status).toBe(200);
    expect((await statusOf(server.db, 'partner:asleep:ccp-changed'))?.status).toBe('active');
  });
});
