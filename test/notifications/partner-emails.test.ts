import type { Consent, Organization, Parameters, ParametersParameter, Resource, Task } from 'fhir/r4';
import { type Caller, UNRESTRICTED } from '../../server/access/caller.js';
import { CONSENT_SCOPE, PARTICIPATION_TYPE, PRIVACY_SCOPE, RECIPIENT_ROLE } from '../../server/conformance/consent-vocabulary.js';
import type { DeliveryAttempt } from '../../server/delivery/attempt.js';
import { createEmailChannel, type EmailChannel } from '../../server/delivery/channels/email.js';
import { createDeliveryEngine } from '../../server/delivery/engine.js';
import { FhirError } from '../../server/fhir/outcome.js';
import { createAccessCheck } from '../../server/notifications/access-check.js';
import { topicEventRule } from '../../server/notifications/topic-event-rule.js';
import { SERVER_WRITE_RULES } from '../../server/pipeline/context.js';
import { handleFhirRequest } from '../../server/pipeline/fhir-request.js';
import type { FhirContext, FhirResponse } from '../../server/rest/types.js';
import { WriteRules } from '../../server/rest/write-rules.js';
import { fanOut, statusOf } from '../../server/store/subscription-outbox.js';
import type { AccessCheck, SubscriptionSpec, TopicEvent } from '../../server/subscriptions/model.js';
import { notificationBundle } from '../../server/subscriptions/notification-bundle.js';
import { CONTACT_PURPOSE_SYSTEM } from '../../server/subscriptions/partner-address.js';
import { matchesFilters } from '../../server/subscriptions/topics.js';
import { ccpPlan } from '../support/ccp-plan.js';
import { BACKENDS, reportBackends } from '../support/backends.js';
import { testUser } from '../support/callers.js';
import { MailCatcher, type Mail } from '../support/mail-catcher.js';
import { openTestServer, type TestServer } from '../support/fhir-app.js';
import { waitFor } from '../support/notification-receiver.js';

/*
 * The partners' emails end to end (issue 20, "The seeds' partner emails"): Organizations with notification
 * addresses written through the API, registrations made, approved and ended through the real operations, plans
 * changed, and the real delivery engine (fan-out, the access check, the server's notification Bundle, the email
 * channel) sending to a real SMTP server in this process, each message parsed back with mailparser.
 */

reportBackends();

const BASE = 'https://ccp.example.org/fhir';
const APP_URL = 'https://app.ccp.example.org/';
const HOUR = 3600_000;

// What must never reach an inbox: the patient's name and identifier, the plan's text, the ids of both.
const PATIENT_FAMILY = 'Quillfeather';
const PATIENT_GIVEN = 'Zebedee';
const MRN = '7713-5521-0098';
const PLAN_TEXT = 'Insulin titration after the fall of 3 December';
const SECRETS = [PATIENT_FAMILY, PATIENT_GIVEN, MRN, PLAN_TEXT, 'Insulin', 'zq-patient', 'zq-plan'];

let smtp: MailCatcher;
let inbox: Mail[];
let email: EmailChannel;

beforeAll(async () => {
  smtp = await MailCatcher.start();
  inbox = smtp.messages;
  email = createEmailChannel({ smtpUrl: smtp.url, from: 'CCP Exchange <notify@ccp.example.org>', appUrl: APP_URL });
});

afterAll(async () => {
  email?.close();
  await smtp?.close();
});

/** What reached `address` since the inbox was last emptied. */
const mailTo = (address: string) => inbox.filter((message) => message.to.includes(address));

const address = (organization: string) => `ccp-notices@${organization.toLowerCase()}.example.org`;

const notificationContact = (to: string) => ({ purpose: { coding: [{ system: CONTACT_PURPOSE_SYSTEM, code: 'notifications' }] }, telecom: [{ system: 'email' as const, value: to }] });

/** An Organization, with a notification address unless `to` is null. */
const organization = (id: string, to: string | null = address(id), extra: Partial<Organization> = {}): Organization & { id: string } => ({
  resourceType: 'Organization',
  id,
  active: true,
  name: `Organization ${id}`,
  ...(to !== null ? { contact: [notificationContact(to)] } : {}),
  ...extra,
});

/** Partner A in the partner Organization profile's full shape: custodian status, privacy contact, notification address. */
const PROFILED_A: Organization & { id: string } = {
  ...organization('A'),
  meta: { profile: ['http://ccp-exchange.org/fhir/StructureDefinition/ccp-partner-organization'] },
  extension: [{ url: 'http://ccp-exchange.org/fhir/StructureDefinition/custodian-status', valueCode: 'custodian' }],
  contact: [
    { purpose: { coding: [{ system: 'http://ccp-exchange.org/fhir/CodeSystem/user-role', code: 'privacy-contact' }] }, telecom: [{ system: 'email', value: 'privacy@a.example.org' }] },
    notificationContact(address('A')),
  ],
};

const HOST_COORDINATOR = testUser('coord-host', 'host', ['coordinator']);
const nurse = (organizationId: string): Caller => testUser(`nurse-${organizationId.toLowerCase()}`, organizationId, ['contributor']);

const ccp = (id: string, patient: string, description: string) => ccpPlan(id, patient, { description });

/** A directive of `patient` withholding the plan from `organization` (docs/CONSENT.md: deny wins over a registration). */
const denyDirective = (id: string, patient: string, organizationId: string): Consent & { id: string } => ({
  resourceType: 'Consent',
  id,
  status: 'active',
  scope: { coding: [{ system: CONSENT_SCOPE, code: PRIVACY_SCOPE }] },
  category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
  patient: { reference: `Patient/${patient}` },
  provision: { type: 'deny', actor: [{ role: { coding: [{ system: PARTICIPATION_TYPE, code: RECIPIENT_ROLE }] }, reference: { reference: `Organization/${organizationId}` } }] },
});

/**
 * Patients and who may see their plans, once setUp has run: A approved for the named patient (zq-patient) and for
 * p-a; B registered for nobody; C approved for p-c; D approved for p-d (and disengaged by a test); the hosting
 * organization has a notification address too, and is no partner.
 */
describe.each(BACKENDS)("the partners' emails, on $name", (backend) => {
  let server: TestServer;
  let context: FhirContext;
  let access: AccessCheck;
  let attempts: DeliveryAttempt[] = [];
  const versions = new Map<string, number>();

  const call = (method: string, path: string, caller: Caller, body?: unknown): Promise<FhirResponse> =>
    handleFhirRequest({ method, path, query: {}, headers: {}, baseUrl: BASE, caller, ...(body !== undefined ? { body } : {}) }, context);
  const put = <T extends Resource & { id: string }>(resource: T, caller: Caller = UNRESTRICTED) => call('PUT', `${resource.resourceType}/${resource.id}`, caller, resource);
  const operation = async (path: string, caller: Caller, ...parameter: ParametersParameter[]): Promise<Parameters> =>
    (await call('POST', path, caller, { resourceType: 'Parameters', ...(parameter.length ? { parameter } : {}) })).body as Parameters;

  /** A registration requested by the organization's nurse and approved by the hosting coordinator, through the operations. */
  async function approvedRegistration(patient: string, organizationId: string): Promise<void> {
    const requested = await operation(
      `Patient/${patient}/$ccp-register`,
      nurse(organizationId),
      { name: 'level', valueCode: 'view' },
      { name: 'consentObtainedAt', valueDateTime: new Date(Date.now() - HOUR).toISOString() },
      { name: 'consentMethod', valueCode: 'verbal' },
    );
    const task = requested.parameter?.find((p) => p.name === 'task')?.resource as Task;
    await operation(`Task/${task.id}/$approve`, HOST_COORDINATOR);
  }

  /** A new version of the patient's plan, written by the hosting coordinator (its text changes every time). */
  async function changePlan(plan: string, patient: string): Promise<void> {
    const n = (versions.get(plan) ?? 0) + 1;
    versions.set(plan, n);
    expect((await put(ccp(plan, patient, `${PLAN_TEXT} (revision ${n})`), HOST_COORDINATOR)).status).toBe(n === 1 ? 201 : 200);
  }

  /**
   * Runs a delivery engine until the outbox is fanned out and no notification waits, then stops it: whatever the
   * writes so far cause has then been mailed (the SMTP server holds it) or decided against.
   */
  async function deliverAll(): Promise<void> {
    const engine = createDeliveryEngine(server.db, {
      channels: { email },
      build: (report) => notificationBundle(report, BASE),
      match: (spec: SubscriptionSpec, event: TopicEvent) => matchesFilters(spec.filters, event),
      access,
      onAttempt: (attempt) => void attempts.push(attempt),
      listen: false,
      pollSeconds: 0.05,
      retry: { baseMs: 50, maxDelayMs: 200, windowMs: 30_000 },
      leaseSeconds: 10,
    });
    engine.start();
    try {
      await waitFor('every event fanned out and every notification settled', async () => {
        const [row] = await server.db.query<{ waiting: string }>(
          `SELECT ((SELECT count(*) FROM subscription_event WHERE NOT fanned_out) +
                   (SELECT count(*) FROM subscription_notification WHERE outcome IS NULL))::text AS waiting`,
        );
        return row.waiting === '0';
      });
    } finally {
      await engine.stop();
    }
  }

  const expectNothingOfThePatient = (messages: Mail[]) => {
    for (const { raw, mail } of messages) {
      expect(mail.attachments).toHaveLength(0);
      for (const part of [raw, mail.subject ?? '', mail.text ?? '', String(mail.html)]) {
        for (const secret of SECRETS) expect(part.toLowerCase()).not.toContain(secret.toLowerCase());
      }
    }
  };

  beforeAll(async () => {
    server = await openTestServer(backend, { hostingOrganization: 'host', registrationDays: 365 });
    // The topic-event rule after the server's rules, as the lead registers it (only once, if it already is).
    const rules = SERVER_WRITE_RULES.includes(topicEventRule) ? SERVER_WRITE_RULES : [...SERVER_WRITE_RULES, topicEventRule];
    context = { ...server.context, writeRules: new WriteRules(rules) };
    access = createAccessCheck(server.db, context);

    expect((await put(organization('host'))).status).toBe(201);
    expect((await put(PROFILED_A)).status).toBe(201);
    for (const id of ['B', 'C', 'D']) expect((await put(organization(id))).status).toBe(201);
    for (const id of ['coord-host', 'nurse-a', 'nurse-b', 'nurse-c', 'nurse-d']) await put({ resourceType: 'Practitioner', id });
    await put({
      resourceType: 'Patient',
      id: 'zq-patient',
      name: [{ family: PATIENT_FAMILY, given: [PATIENT_GIVEN] }],
      identifier: [{ system: 'https://hospital.example.org/mrn', value: MRN }],
    });
    for (const id of ['p-a', 'p-c', 'p-d']) await put({ resourceType: 'Patient', id });
    await changePlan('zq-plan', 'zq-patient');
    await changePlan('plan-a', 'p-a');
    await changePlan('plan-c', 'p-c');
    await changePlan('plan-d', 'p-d');
    await approvedRegistration('zq-patient', 'A');
    await approvedRegistration('p-a', 'A');
    await approvedRegistration('p-c', 'C');
    await approvedRegistration('p-d', 'D');
    await deliverAll();
  }, 240_000);
  afterAll(async () => server?.close());
  beforeEach(() => {
    inbox.length = 0;
    attempts = [];
  });

  it('keeps one email subscription per partner topic for each partner with an address, none for the hosting organization', async () => {
    for (const topic of ['ccp-changed', 'service-notice', 'organization-joined']) {
      const state = await statusOf(server.db, `partner:A:${topic}`);
      expect(state?.status).toBe('active');
      expect(state?.subscription).toMatchObject({
        topic: `http://ccp-exchange.org/fhir/SubscriptionTopic/${topic}`,
        channel: 'email',
        endpoint: `mailto:${address('A')}`,
        payload: 'empty',
        filters: [],
        owner: { kind: 'organization', organization: 'A' },
      });
      expect(await statusOf(server.db, `partner:host:${topic}`)).toBeUndefined();
    }
  });

  it('an approved registration: one email to the organization after a plan changes, with nothing of the patient or the plan', async () => {
    await changePlan('zq-plan', 'zq-patient');
    await deliverAll();
    const toA = mailTo(address('A'));
    expect(toA).toHaveLength(1);
    expect(toA[0].mail.subject).toBe('[CCP Exchange] A Coordinated Care Plan was updated');
    expect(toA[0].mail.text).toContain('A Coordinated Care Plan your organization has access to was created or updated.');
    expect(toA[0].mail.text).toContain(APP_URL);
    expect(toA[0].mail.text).toContain("this is your organization's notification address");
    expectNothingOfThePatient(inbox);
    // Nobody else: B has no registration, C and D none for this patient, the hosting organization is no partner.
    expect(inbox).toHaveLength(1);
  });

  it('no registration: no email (B is told of no plan; A of each of its patients)', async () => {
    await changePlan('plan-a', 'p-a');
    await changePlan('plan-c', 'p-c');
    await deliverAll();
    expect(mailTo(address('B'))).toHaveLength(0);
    expect(mailTo(address('A'))).toHaveLength(1);
    expect(mailTo(address('C'))).toHaveLength(1);
    expect(mailTo(address('host'))).toHaveLength(0);
    // Nor an event number: B's subscription numbered nothing it may not see.
    expect((await statusOf(server.db, 'partner:B:ccp-changed'))?.eventsSinceSubscriptionStart).toBe(0);
  });

  it('a deny directive: no email to the organization it withholds the plan from', async () => {
    expect((await put(denyDirective('deny-c', 'p-c', 'C'))).status).toBe(201);
    const numbered = (await statusOf(server.db, 'partner:C:ccp-changed'))!.eventsSinceSubscriptionStart;
    await changePlan('plan-c', 'p-c');
    await deliverAll();
    expect(mailTo(address('C'))).toHaveLength(0);
    expect((await statusOf(server.db, 'partner:C:ccp-changed'))!.eventsSinceSubscriptionStart).toBe(numbered);
  });

  it('disengaged: not told of a change committed before its access ended, whether or not it was numbered yet, nor after', async () => {
    const disengage = () => operation('Patient/p-d/$ccp-disengage', HOST_COORDINATOR, { name: 'organization', valueReference: { reference: 'Organization/D' } });
    await changePlan('plan-d', 'p-d');
    await deliverAll();
    expect(mailTo(address('D'))).toHaveLength(1);
    inbox.length = 0;
    attempts = [];

    // Changed while D could see it, and numbered for D; D disengaged before the email went out: withdrawn, not sent.
    await changePlan('plan-d', 'p-d');
    expect((await fanOut(server.db, { match: (spec, event) => matchesFilters(spec.filters, event), access })).notifications).toBe(1);
    const numbered = (await statusOf(server.db, 'partner:D:ccp-changed'))!.eventsSinceSubscriptionStart;
    await disengage();
    // The plan changes again as part of the care going on; the outbox holds it when the engine next runs.
    await changePlan('plan-d', 'p-d');
    await deliverAll();
    expect(mailTo(address('D'))).toHaveLength(0);
    expect(attempts.filter((attempt) => attempt.subscriptionId === 'partner:D:ccp-changed').map((attempt) => attempt.outcome)).toEqual(['dropped']);
    // The withdrawn event gave its number back, and the change after the disengagement was given none.
    expect((await statusOf(server.db, 'partner:D:ccp-changed'))!.eventsSinceSubscriptionStart).toBe(numbered - 1);

    await changePlan('plan-d', 'p-d');
    await deliverAll();
    expect(mailTo(address('D'))).toHaveLength(0);
  });

  it("an organization joining: every partner's address is told (the new one's too), the hosting organization's not", async () => {
    expect((await put(organization('E'))).status).toBe(201);
    expect((await put(organization('F', null))).status).toBe(201);
    await deliverAll();
    for (const partner of ['A', 'B', 'C', 'D', 'E']) {
      const messages = mailTo(address(partner));
      expect(messages.map((message) => message.mail.subject)).toEqual(['[CCP Exchange] A new organization joined', '[CCP Exchange] A new organization joined']);
    }
    expect(mailTo(address('host'))).toHaveLength(0);
    expect(inbox).toHaveLength(10);
    expectNothingOfThePatient(inbox);
  });

  it('a changed address gets the emails from then on; a removed one none, not even those already waiting', async () => {
    expect((await put({ ...PROFILED_A, contact: [PROFILED_A.contact![0], notificationContact('desk@a.example.org')] })).status).toBe(200);
    expect((await statusOf(server.db, 'partner:A:ccp-changed'))?.subscription.endpoint).toBe('mailto:desk@a.example.org');
    await changePlan('zq-plan', 'zq-patient');
    await deliverAll();
    expect(mailTo('desk@a.example.org')).toHaveLength(1);
    expect(mailTo(address('A'))).toHaveLength(0);
    inbox.length = 0;

    // Changed, numbered for A and waiting; then the address is removed.
    await changePlan('zq-plan', 'zq-patient');
    await fanOut(server.db, { match: (spec, event) => matchesFilters(spec.filters, event), access });
    expect((await put({ ...PROFILED_A, contact: [PROFILED_A.contact![0]] })).status).toBe(200);
    for (const topic of ['ccp-changed', 'service-notice', 'organization-joined']) expect(await statusOf(server.db, `partner:A:${topic}`)).toBeUndefined();
    await changePlan('zq-plan', 'zq-patient');
    expect((await put(organization('G'))).status).toBe(201);
    await deliverAll();
    expect(mailTo('desk@a.example.org')).toHaveLength(0);
    expect(mailTo(address('A'))).toHaveLength(0);
    // The others still hear of G.
    expect(mailTo(address('B'))).toHaveLength(1);

    // Given again, the address is told of what happens from then on.
    expect((await put(PROFILED_A)).status).toBe(200);
    await changePlan('zq-plan', 'zq-patient');
    await deliverAll();
    expect(mailTo(address('A'))).toHaveLength(1);
  });

  it('an organization made inactive, or deleted, keeps no email subscriptions; made active again, it has them back', async () => {
    expect((await put(organization('B', address('B'), { active: false }))).status).toBe(200);
    expect(await statusOf(server.db, 'partner:B:organization-joined')).toBeUndefined();
    expect((await put(organization('H'))).status).toBe(201);
    await deliverAll();
    expect(mailTo(address('B'))).toHaveLength(0);
    expect(mailTo(address('A'))).toHaveLength(1);

    expect((await put(organization('B'))).status).toBe(200);
    expect((await statusOf(server.db, 'partner:B:organization-joined'))?.status).toBe('active');

    expect((await call('DELETE', 'Organization/H', UNRESTRICTED)).status).toBe(200);
    expect(await statusOf(server.db, 'partner:H:ccp-changed')).toBeUndefined();
  });

  it('refuses an address that cannot be mailed to, or two of them, with a 422 naming the element; nothing is written', async () => {
    const refused = async (body: Organization & { id: string }) => {
      try {
        await put(body);
      } catch (error) {
        if (error instanceof FhirError) return error;
        throw error;
      }
      throw new Error('the write was accepted');
    };
    const notAnAddress = await refused(organization('X', 'not an address'));
    expect(notAnAddress.status).toBe(422);
    expect(notAnAddress.issues[0].expression).toEqual(['Organization.contact[0].telecom[0].value']);
    const phone = await refused({ ...organization('X', null), contact: [{ ...notificationContact('x@x.example.org'), telecom: [{ system: 'phone', value: '555-0100' }] }] });
    expect(phone.issues[0].expression).toEqual(['Organization.contact[0].telecom']);
    const two = await refused({ ...organization('X', null), contact: [notificationContact('x@x.example.org'), notificationContact('y@x.example.org')] });
    expect(two.issues[0].expression).toEqual(['Organization.contact[1]']);
    expect((await server.context.store.read('Organization', 'X')).kind).toBe('missing');
    expect(await statusOf(server.db, 'partner:X:ccp-changed')).toBeUndefined();
  });
});
