import type { CarePlan, Consent, Patient, Resource, Subscription } from 'fhir/r4';
import { UNRESTRICTED } from '../../../server/access/caller.js';
import { hashPassword } from '../../../server/auth/secrets.js';
import { CAREPLAN_CATEGORY, CCP_CODE, CONSENT_SCOPE, PARTICIPATION_TYPE, PRIVACY_SCOPE, RECIPIENT_ROLE } from '../../../server/conformance/consent-vocabulary.js';
import { handleFhirRequest } from '../../../server/pipeline/fhir-request.js';
import { BACKENDS, reportBackends } from '../../support/backends.js';
import { TestReceiver, waitFor, type Received } from '../../support/notification-receiver.js';
import { openNotifyingServer, type NotifyingServer } from '../../support/notifying-server.js';
import { registrationConsent } from '../../support/registration.js';
import { created, fhirCall, MailCatcher, type Mail, subscription, TOPIC } from './e2e-support.js';

reportBackends();

/**
 * Issue 20, "Never leaking", through the HTTP API with real tokens: partners' backend clients (client credentials,
 * each registered for its organization) subscribe to ccp-changed by rest-hook and by email (a real SMTP server in
 * this process). A partner without a registration, a partner under a deny directive, and a partner disengaged
 * between the event and its delivery get no notification, no email and no event number: the next event each may
 * see has the next number, with no gap. No email says anything of the patient or the plan.
 */

/** What must never reach a partner's inbox or receiver beyond the ids: the patients' names and identifiers, the plans' text. */
const PATIENTS: Record<string, { name: string; mrn: string }> = {
  'pt-alder': { name: 'Zebedee Quillfeather', mrn: 'MRN-7734-2291' },
  'pt-birch': { name: 'Philippa Ashcombe-Thorne', mrn: 'MRN-5518-0417' },
  'pt-cedar': { name: 'Ignatius Penhaligon', mrn: 'MRN-9902-6638' },
  'pt-dogwood': { name: 'Ottoline Marchbanks', mrn: 'MRN-3127-8845' },
};
const planText = (patient: string, version: number) => `Insulin titration reviewed with ${PATIENTS[patient].name.split(' ')[0]}, step ${version}`;
const PLAN_OF: Record<string, string> = { 'pt-alder': 'ccp-alder', 'pt-birch': 'ccp-birch', 'pt-cedar': 'ccp-cedar', 'pt-dogwood': 'ccp-dogwood' };

const SECRET = 'partner-client-secret';
const SCOPE = 'system/CarePlan.rs system/Subscription.cruds';
const MAIL = (org: string) => `notices@${org.toLowerCase()}.partner.example`;

function plan(patient: string, version: number): CarePlan {
  return {
    resourceType: 'CarePlan',
    id: PLAN_OF[patient],
    status: 'active',
    intent: 'plan',
    title: `Plan of ${PATIENTS[patient].name}`,
    description: planText(patient, version),
    category: [{ coding: [{ system: CAREPLAN_CATEGORY, code: CCP_CODE }] }],
    subject: { reference: `Patient/${patient}`, display: PATIENTS[patient].name },
  };
}

const patient = (id: string): Patient => ({
  resourceType: 'Patient',
  id,
  name: [{ family: PATIENTS[id].name.split(' ')[1], given: [PATIENTS[id].name.split(' ')[0]] }],
  identifier: [{ system: 'urn:oid:2.16.840.1.113883.4.1', value: PATIENTS[id].mrn }],
});

/** The patient withholds the plan from partner A (a deny directive wins over its registration). */
const denyA: Consent = {
  resourceType: 'Consent',
  id: 'deny-birch-a',
  status: 'active',
  scope: { coding: [{ system: CONSENT_SCOPE, code: PRIVACY_SCOPE }] },
  category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
  patient: { reference: 'Patient/pt-birch' },
  provision: { type: 'deny', actor: [{ role: { coding: [{ system: PARTICIPATION_TYPE, code: RECIPIENT_ROLE }] }, reference: { reference: 'Organization/A' } }] },
};

/**
 * The host and three partners. A: registered for alder and birch, but birch denies A. B: registered for nobody
 * (until the test registers it for alder). C: registered for cedar (disengaged during the test) and dogwood.
 */
const WORLD: Resource[] = [
  ...['host', 'A', 'B', 'C'].map((id) => ({ resourceType: 'Organization', id, active: true, name: `Organization ${id}` }) as Resource),
  ...Object.keys(PATIENTS).map(patient),
  ...Object.keys(PATIENTS).map((id) => plan(id, 1)),
  { ...registrationConsent('pt-alder', 'A', 'view', 'active', { start: '2020-01-01' }), id: 'reg-alder-a' } as Consent,
  { ...registrationConsent('pt-birch', 'A', 'view', 'active', { start: '2020-01-01' }), id: 'reg-birch-a' } as Consent,
  { ...registrationConsent('pt-cedar', 'C', 'view', 'active', { start: '2020-01-01' }), id: 'reg-cedar-c' } as Consent,
  { ...registrationConsent('pt-dogwood', 'C', 'view', 'active', { start: '2020-01-01' }), id: 'reg-dogwood-c' } as Consent,
  denyA,
];

interface Partner {
  organization: string;
  token: string;
  receiver: TestReceiver;
  hook: string;
  mail: string;
}

describe.each(BACKENDS)('notifications never leak, on $name', (backend) => {
  let server: NotifyingServer;
  let smtp: MailCatcher;
  const partners: Record<string, Partner> = {};
  const receivers: TestReceiver[] = [];

  /** Writes as the server itself (the plans' authors are not what is tested), through the pipeline, so topic events are recorded. */
  async function write(method: 'PUT' | 'POST', path: string, body: Resource): Promise<void> {
    const answer = await handleFhirRequest({ method, path, query: {}, headers: {}, baseUrl: server.fhir, caller: UNRESTRICTED, body }, server.context);
    if (answer.status >= 300) throw new Error(`${method} ${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
  }

  async function partner(organization: string): Promise<Partner> {
    const clientId = `emr-${organization.toLowerCase()}`;
    await server.auth!.clients.save({
      clientId, name: `EMR of ${organization}`, kind: 'backend', authMethod: 'client_secret_basic', secretHash: await hashPassword(SECRET), redirectUris: [], scope: SCOPE, organizationId: organization, active: true, source: 'api',
    });
    const answer = await fetch(`${server.origin}/auth/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${clientId}:${SECRET}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: SCOPE }).toString(),
    });
    expect(answer.status).toBe(200);
    const token = ((await answer.json()) as { access_token: string }).access_token;
    const receiver = await TestReceiver.start();
    receivers.push(receiver);
    const hook = (await created(server.fhir, subscription({ topic: TOPIC('ccp-changed'), endpoint: receiver.url('hook') }), token)).id;
    const mail = (await created(server.fhir, subscription({ topic: TOPIC('ccp-changed'), channel: 'email', endpoint: `mailto:${MAIL(organization)}` }), token)).id;
    for (const id of [hook, mail]) {
      await waitFor(`Subscription/${id} active`, async () => (await fhirCall<Subscription>('GET', `${server.fhir}/Subscription/${id}`, undefined, token)).body.status === 'active');
    }
    return { organization, token, receiver, hook, mail };
  }

  /** The highest number given to a subscription so far (the IG's events-since-subscription-start). */
  async function numbered(subscriptionId: string): Promise<number> {
    const [row] = await server.db.query<{ n: string }>('SELECT events_numbered::text AS n FROM subscription_state WHERE id = $1', [subscriptionId]);
    return Number(row.n);
  }

  /** Events a partner's receiver got, as `number focus-id`. */
  const hooked = (p: Partner): string[] =>
    p.receiver.received.filter((r: Received) => r.type === 'event-notification').flatMap((r) => r.eventNumbers.map((n, i) => `${n} ${r.focus[i]?.split('/').pop()}`));
  const mailed = (p: Partner): Mail[] => smtp.to(MAIL(p.organization));
  /** The CarePlans the emails of a partner name (in their id-only attachment), as `number focus-id`. */
  const mailedEvents = (p: Partner): string[] =>
    mailed(p).flatMap((m) => {
      const attached = m.mail.attachments.find((a) => a.filename === 'notification.json');
      if (!attached) return [];
      const bundle = JSON.parse(attached.content.toString('utf8')) as { entry: [{ resource: { parameter: Array<{ name: string; part?: Array<{ name: string; valueString?: string; valueReference?: { reference: string } }> }> } }] };
      return bundle.entry[0].resource.parameter
        .filter((p) => p.name === 'notification-event')
        .map((p) => `${p.part!.find((x) => x.name === 'event-number')!.valueString} ${p.part!.find((x) => x.name === 'focus')?.valueReference?.reference.split('/').pop()}`);
    });

  beforeAll(async () => {
    smtp = await MailCatcher.start();
    server = await openNotifyingServer(backend, {
      auth: true,
      hostingOrganization: 'host',
      notifications: { smtpUrl: smtp.url, appUrl: 'https://app.ccp.example.org/' },
      engine: { retry: { baseMs: 100, maxDelayMs: 300 } },
    });
    for (const resource of WORLD) await write('PUT', `${resource.resourceType}/${resource.id}`, resource);
    for (const organization of ['A', 'B', 'C']) partners[organization] = await partner(organization);
  });
  afterAll(async () => {
    await server?.close();
    for (const receiver of receivers) await receiver.down();
    await smtp?.close();
  });

  it('a partner without a registration, and a partner under a deny directive, are told nothing and given no number', async () => {
    const { A, B } = partners;
    await write('PUT', 'CarePlan/ccp-alder', plan('pt-alder', 2)); // A may see it; B is not registered
    await write('PUT', 'CarePlan/ccp-birch', plan('pt-birch', 2)); // A is registered, but birch denies A
    // Who may see an event is decided when the engine numbers it (normally as it commits): numbered before B registers.
    await waitFor('the events numbered', allFannedOut);
    await write('POST', 'Consent', registrationConsent('pt-alder', 'B', 'view', 'active', { start: new Date(Date.now() - 60_000).toISOString() }));
    await write('PUT', 'CarePlan/ccp-alder', plan('pt-alder', 3)); // now both may see it

    await waitFor('A told of both changes of alder', () => hooked(A).length >= 2 && mailedEvents(A).length >= 2);
    await waitFor('B told of the change it may see', () => hooked(B).length >= 1 && mailedEvents(B).length >= 1);
    expect(hooked(A)).toEqual(['1 ccp-alder', '2 ccp-alder']);
    expect(mailedEvents(A)).toEqual(['1 ccp-alder', '2 ccp-alder']);
    // B's first number is the first change it may see: the one before its registration was never numbered for it.
    expect(hooked(B)).toEqual(['1 ccp-alder']);
    expect(mailedEvents(B)).toEqual(['1 ccp-alder']);
    // Every event above has been numbered by now (they are numbered in the order they were recorded).
    expect(await numbered(A.hook)).toBe(2);
    expect(await numbered(A.mail)).toBe(2);
    expect(await numbered(B.hook)).toBe(1);
    expect(await numbered(B.mail)).toBe(1);
    expect(mailed(A)).toHaveLength(2);
    expect(mailed(B)).toHaveLength(1);
  });

  it('a partner disengaged between the event and its delivery is not told, and its next event takes the next number', async () => {
    const { C } = partners;
    // C's receiver and mailbox cannot take anything now: the change of cedar is numbered for C but waits.
    await C.receiver.down();
    smtp.busy.add(MAIL('C'));
    await write('PUT', 'CarePlan/ccp-cedar', plan('pt-cedar', 2));
    await waitFor('both of C\'s deliveries failed once', async () => (await failing(C.hook)) && (await failing(C.mail)));

    // The partner leaves the patient's care: its access ends now, before anything was delivered.
    const disengaged = await handleFhirRequest(
      { method: 'POST', path: 'Patient/pt-cedar/$ccp-disengage', query: {}, headers: {}, baseUrl: server.fhir, caller: UNRESTRICTED, body: { resourceType: 'Parameters', parameter: [{ name: 'organization', valueReference: { reference: 'Organization/C' } }] } },
      server.context,
    );
    expect(disengaged.status).toBe(200);
    // An attempt that began before the disengagement may still be under way: it fails, the receiver being down. The
    // next one finds the access ended and withdraws the event, receiver or no receiver.
    await waitFor('the change of cedar withdrawn from C\'s subscriptions', async () => (await waiting(C.hook)) === 0 && (await waiting(C.mail)) === 0);
    await C.receiver.up();
    smtp.busy.delete(MAIL('C'));

    await write('PUT', 'CarePlan/ccp-dogwood', plan('pt-dogwood', 2)); // C still cares for dogwood
    await waitFor('C told of dogwood', () => hooked(C).length >= 1 && mailedEvents(C).length >= 1);
    expect(hooked(C)).toEqual(['1 ccp-dogwood']);
    expect(mailedEvents(C)).toEqual(['1 ccp-dogwood']);
    expect(mailed(C)).toHaveLength(1);
    expect(await numbered(C.hook)).toBe(1);
    expect(await numbered(C.mail)).toBe(1);
  });

  it('no email names a patient, an identifier or a plan\'s words', async () => {
    // A's two, B's one and C's one: nothing else was mailed.
    expect(smtp.messages).toHaveLength(4);
    const forbidden = Object.entries(PATIENTS).flatMap(([id, { name, mrn }]) => [
      ...name.split(' '),
      mrn,
      id,
      ...[1, 2, 3].map((version) => planText(id, version)),
      'Insulin',
    ]);
    for (const message of smtp.messages) {
      const everything = [message.raw, message.mail.text ?? '', String(message.mail.html || ''), message.mail.subject ?? '', ...message.mail.attachments.map((a) => a.content.toString('utf8'))].join('\n');
      for (const value of forbidden) expect(everything).not.toContain(value);
      expect(message.mail.subject).toContain('A Coordinated Care Plan was updated');
      expect(message.mail.text).toContain('https://app.ccp.example.org/');
    }
  });

  /** Whether the engine has numbered every event recorded so far for the subscriptions that may see it. */
  async function allFannedOut(): Promise<boolean> {
    const [row] = await server.db.query<{ n: number }>('SELECT count(*)::int AS n FROM subscription_event WHERE NOT fanned_out');
    return row.n === 0;
  }

  /** The events a subscription holds in its queue, sent or not. */
  async function waiting(subscriptionId: string): Promise<number> {
    const [row] = await server.db.query<{ n: number }>("SELECT count(*)::int AS n FROM subscription_notification WHERE subscription_id = $1 AND kind = 'event'", [subscriptionId]);
    return row.n;
  }

  /** Whether a subscription's waiting notification has failed at least once (the channel could not deliver it). */
  async function failing(subscriptionId: string): Promise<boolean> {
    const rows = await server.db.query('SELECT 1 FROM subscription_notification WHERE subscription_id = $1 AND kind = $2 AND failing_since IS NOT NULL', [subscriptionId, 'event']);
    return rows.length > 0;
  }
});
