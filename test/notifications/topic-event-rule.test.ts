import type { Bundle, Consent, Resource } from 'fhir/r4';
import { type Caller, UNRESTRICTED } from '../../server/access/caller.js';
import { CAREPLAN_CATEGORY, CCP_CODE } from '../../server/conformance/consent-vocabulary.js';
import { FhirError } from '../../server/fhir/outcome.js';
import { topicEventRule } from '../../server/notifications/topic-event-rule.js';
import { SERVER_WRITE_RULES } from '../../server/pipeline/context.js';
import { handleFhirRequest } from '../../server/pipeline/fhir-request.js';
import type { FhirContext, FhirRequest, FhirResponse } from '../../server/rest/types.js';
import { TOPIC_BASE } from '../../server/subscriptions/model.js';
import { BACKENDS, reportBackends } from '../support/backends.js';
import { testUser } from '../support/callers.js';
import { openTestServer, type TestServer } from '../support/fhir-app.js';
import { registrationConsent } from '../support/registration.js';

reportBackends();

const BASE = 'https://ccp.example.org/fhir';
const PARTNER = testUser('ua', 'A');

const ccp = (patient: string) => ({
  resourceType: 'CarePlan',
  status: 'draft',
  intent: 'plan',
  category: [{ coding: [{ system: CAREPLAN_CATEGORY, code: CCP_CODE }] }],
  subject: { reference: `Patient/${patient}` },
});

/** A modifies p1's plan; it may only view p2's. */
const WORLD: Resource[] = [
  ...['host', 'A'].map((id) => ({ resourceType: 'Organization', id, active: true }) as Resource),
  ...['p1', 'p2'].map((id) => ({ resourceType: 'Patient', id }) as Resource),
  { resourceType: 'Practitioner', id: 'ua', active: true } as Resource,
  { ...registrationConsent('p1', 'A', 'modify', 'active', { start: '2020-01-01' }), id: 'r1' } as Consent,
  { ...registrationConsent('p2', 'A', 'view', 'active', { start: '2020-01-01' }), id: 'r2' } as Consent,
];

describe.each(BACKENDS)('topic events recorded by the write rule, in the write transaction, on $name', (backend) => {
  let server: TestServer;
  let context: FhirContext;
  beforeAll(async () => {
    server = await openTestServer(backend, { hostingOrganization: 'host' });
    // The server's own write rules, which record topic events (topicEventRule, last).
    context = server.context;
    expect(SERVER_WRITE_RULES.at(-1)).toBe(topicEventRule);
    for (const resource of WORLD) await call(UNRESTRICTED, 'PUT', `${resource.resourceType}/${resource.id}`, resource);
  });
  afterAll(async () => server?.close());

  function call(caller: Caller, method: string, path: string, body?: Resource | object): Promise<FhirResponse> {
    const request: FhirRequest = { method, path, query: {}, headers: {}, baseUrl: BASE, caller, ...(body ? { body } : {}) };
    return handleFhirRequest(request, context);
  }
  async function status(promise: Promise<FhirResponse>): Promise<number> {
    try {
      return (await promise).status;
    } catch (error) {
      if (error instanceof FhirError) return error.status;
      throw error;
    }
  }
  const eventsOf = (type: string) =>
    server.db.query<{ topic: string; focus_id: string; patient: string | null; organization: string | null; trigger: string; occurred_at: Date }>(
      'SELECT topic, focus_id, patient, organization, trigger, occurred_at FROM subscription_event WHERE focus_type = $1 ORDER BY seq',
      [type],
    );

  it('a CCP created through the REST create interaction leaves exactly one event, at its lastUpdated', async () => {
    const before = (await eventsOf('CarePlan')).length;
    const created = await call(UNRESTRICTED, 'POST', 'CarePlan', ccp('p1'));
    expect(created.status).toBe(201);
    const plan = created.body as Resource;
    const rows = (await eventsOf('CarePlan')).slice(before);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ topic: `${TOPIC_BASE}/ccp-changed`, focus_id: plan.id, patient: 'p1', organization: null, trigger: 'create' });
    expect(rows[0].occurred_at.toISOString()).toBe(new Date(plan.meta!.lastUpdated!).toISOString());
  });

  it('a write refused after it was made (rolled back) leaves no event; the same partner writing within reach leaves one', async () => {
    const before = (await eventsOf('CarePlan')).length;
    // A may only view p2's plan: the consent gate refuses what was written, inside the write's transaction.
    expect(await status(call(PARTNER, 'POST', 'CarePlan', ccp('p2')))).toBe(403);
    expect((await eventsOf('CarePlan')).length).toBe(before);
    expect(await status(call(PARTNER, 'POST', 'CarePlan', ccp('p1')))).toBe(201);
    const rows = (await eventsOf('CarePlan')).slice(before);
    expect(rows.map((row) => [row.patient, row.trigger])).toEqual([['p1', 'create']]);
  });

  it('a transaction Bundle (its creates held back and written together) records the event of its CCP once', async () => {
    const before = (await eventsOf('CarePlan')).length;
    const body = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: 'urn:uuid:6f1c1d2e-0000-4000-8000-000000000001', resource: { resourceType: 'Patient' }, request: { method: 'POST', url: 'Patient' } },
        { resource: { ...ccp('x'), subject: { reference: 'urn:uuid:6f1c1d2e-0000-4000-8000-000000000001' } }, request: { method: 'POST', url: 'CarePlan' } },
      ],
    };
    const response = await call(UNRESTRICTED, 'POST', '', body);
    expect(response.status).toBe(200);
    const locations = (response.body as Bundle).entry!.map((entry) => entry.response!.location!.split('/'));
    const rows = (await eventsOf('CarePlan')).slice(before);
    expect(rows.map((row) => [row.focus_id, row.patient, row.trigger])).toEqual([[locations[1][1], locations[0][1], 'create']]);
  });

  it('the setup itself: the organizations joined, the registrations are not topic events', async () => {
    expect((await eventsOf('Organization')).map((row) => [row.focus_id, row.organization, row.trigger])).toEqual([
      ['host', 'host', 'joined'],
      ['A', 'A', 'joined'],
    ]);
    expect(await eventsOf('Consent')).toEqual([]);
  });
});
