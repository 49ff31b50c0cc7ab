import { createEmailChannel, mailtoAddress, type EmailChannel } from '../../../server/delivery/channels/email.js';
import { type SubscriptionStatusReport, TOPIC_BASE, type TopicName } from '../../../server/subscriptions/model.js';
import { MailCatcher, type Mail } from '../../support/mail-catcher.js';
import { notificationBundle, subscriptionSpec } from './notification.js';

/**
 * The email channel against a real SMTP server in this process (smtp-server), each message parsed back with
 * mailparser. The receiving server answers 451 (try later) for busy@ and 550 (no such user) for nobody@, as a
 * mail server does in RCPT TO.
 */
const PATIENT_NAME = 'Zebedee Quillfeather';
const APP_URL = 'https://app.ccp.example.org/';

let smtp: MailCatcher;
let channel: EmailChannel;
let delivered: Mail[];

beforeAll(async () => {
  smtp = await MailCatcher.start({
    refuse: (address) =>
      address.startsWith('busy@') ? { responseCode: 451, text: 'Mailbox busy, try again later' } : address.startsWith('nobody@') ? { responseCode: 550, text: 'No such user here' } : undefined,
  });
  delivered = smtp.messages;
  channel = createEmailChannel({ smtpUrl: smtp.url, from: 'CCP Exchange <notify@ccp.example.org>', appUrl: APP_URL });
});

afterAll(async () => {
  channel.close();
  await smtp.close();
});

beforeEach(() => {
  delivered.length = 0;
});

const emailSubscription = (endpoint: string, payload: 'empty' | 'id-only', topic: TopicName = 'ccp-changed') =>
  subscriptionSpec({ id: 'sub-mail', channel: 'email', endpoint, payload, topic: `${TOPIC_BASE}/${topic}` });

describe('email delivery', () => {
  it('says what happened with a link to the app, and nothing of the patient or the plan', async () => {
    const bundle = notificationBundle('sub-mail', { display: PATIENT_NAME });
    const outcome = await channel.send(emailSubscription('mailto:privacy@partner.example.org', 'empty'), bundle, 'event-notification');
    expect(outcome).toEqual({ ok: true });
    expect(delivered).toHaveLength(1);
    const [{ to, raw, mail }] = delivered;
    expect(to).toEqual(['privacy@partner.example.org']);
    expect(mail.subject).toBe('[CCP Exchange] A Coordinated Care Plan was updated');
    expect(mail.text).toContain('A Coordinated Care Plan your organization has access to was created or updated.');
    expect(mail.text).toContain(APP_URL);
    expect(mail.html).toContain(`<a href="${APP_URL}">`);
    expect(mail.headers.get('auto-submitted')).toBe('auto-generated');
    // `empty`: no attachment, and the name appears nowhere in the message, headers and all.
    expect(mail.attachments).toHaveLength(0);
    expect(raw).not.toContain(PATIENT_NAME);
    expect(raw).not.toContain('Quillfeather');
    expect(raw).not.toContain('CarePlan/cp-1');
  });

  it('attaches the notification Bundle as application/fhir+json for id-only, and still keeps the body free of it', async () => {
    const bundle = notificationBundle('sub-mail', { display: PATIENT_NAME });
    expect(await channel.send(emailSubscription('mailto:emr@partner.example.org', 'id-only'), bundle, 'event-notification')).toEqual({ ok: true });
    const [{ mail }] = delivered;
    expect(mail.attachments).toHaveLength(1);
    expect(mail.attachments[0].contentType).toBe('application/fhir+json');
    expect(mail.attachments[0].filename).toBe('notification.json');
    // The attachment is the Bundle exactly as built (what an id-only Bundle holds is server/subscriptions' rule).
    expect(JSON.parse(mail.attachments[0].content.toString('utf8'))).toEqual(bundle);
    for (const part of [mail.subject, mail.text, mail.html]) {
      expect(part).toBeTruthy();
      expect(String(part)).not.toContain(PATIENT_NAME);
      expect(String(part)).not.toContain('CarePlan/cp-1');
    }
  });

  it.each<[TopicName, string]>([
    ['registration-status', 'A registration changed status'],
    ['directive-changed', 'A consent directive was recorded or ended'],
    ['override-used', 'A consent override was used'],
    ['service-notice', 'Service notice'],
    ['organization-joined', 'A new organization joined'],
  ])('words the %s topic in its own terms', async (topic, subject) => {
    const subscription = emailSubscription('mailto:privacy@partner.example.org', 'empty', topic);
    expect(await channel.send(subscription, notificationBundle('sub-mail', { topic: subscription.topic }), 'event-notification')).toEqual({ ok: true });
    expect(delivered[0].mail.subject).toBe(`[CCP Exchange] ${subject}`);
    expect(delivered[0].mail.text).toContain(APP_URL);
  });

  it('sends no email for a handshake or a heartbeat, and counts them as sent', async () => {
    const subscription = emailSubscription('mailto:privacy@partner.example.org', 'id-only');
    expect(await channel.send(subscription, notificationBundle('sub-mail', { type: 'handshake' }), 'handshake')).toEqual({ ok: true });
    expect(await channel.send(subscription, notificationBundle('sub-mail', { type: 'heartbeat' }), 'heartbeat')).toEqual({ ok: true });
    expect(delivered).toHaveLength(0);
  });

  it('retries what the SMTP server defers (451) and gives up on what it refuses (550), naming the code only', async () => {
    const bundle = notificationBundle('sub-mail');
    const deferred = await channel.send(emailSubscription('mailto:busy@partner.example.org', 'empty'), bundle, 'event-notification');
    expect(deferred).toEqual({ ok: false, retry: true, reason: 'the SMTP server deferred the message (SMTP 451, EENVELOPE)' });
    const refused = await channel.send(emailSubscription('mailto:nobody@partner.example.org', 'empty'), bundle, 'event-notification');
    expect(refused).toEqual({ ok: false, retry: false, reason: 'the SMTP server refused the message (SMTP 550, EENVELOPE)' });
    expect(delivered).toHaveLength(0);
  });

  it('retries when the SMTP server cannot be reached', async () => {
    // A port an SMTP server listened on a moment ago, and no longer does.
    const closed = await MailCatcher.start();
    await closed.close();
    const away = createEmailChannel({ smtpUrl: closed.url, from: 'notify@ccp.example.org', appUrl: APP_URL });
    try {
      const outcome = await away.send(emailSubscription('mailto:privacy@partner.example.org', 'empty'), notificationBundle('sub-mail'), 'event-notification');
      expect(outcome).toEqual({ ok: false, retry: true, reason: 'the SMTP server could not be reached (ESOCKET, ECONNREFUSED)' });
    } finally {
      away.close();
    }
  });

  it("adds the details hook's lines for the events' focus (service notices), and keeps the fixed words when it fails", async () => {
    const subscription = emailSubscription('mailto:it@partner.example.org', 'empty', 'service-notice');
    const asked: unknown[] = [];
    const report: SubscriptionStatusReport = {
      subscription,
      status: 'active',
      type: 'event-notification',
      eventsSinceSubscriptionStart: 1,
      events: [{ eventNumber: 1, timestamp: '2026-12-07T15:00:00Z', focus: { type: 'Communication', id: 'n1' } }],
    };
    const detailed = createEmailChannel({
      smtpUrl: smtp.url,
      from: 'notify@ccp.example.org',
      appUrl: APP_URL,
      details: async (topic, focus) => (asked.push([topic, focus]), ['Planned downtime (critical) <soon>.']),
    });
    const failing = createEmailChannel({
      smtpUrl: smtp.url,
      from: 'notify@ccp.example.org',
      appUrl: APP_URL,
      details: async () => {
        throw new Error('database away');
      },
    });
    try {
      const bundle = notificationBundle('sub-mail', { topic: subscription.topic });
      expect(await detailed.send(subscription, bundle, 'event-notification', report)).toEqual({ ok: true });
      expect(asked).toEqual([[subscription.topic, [{ type: 'Communication', id: 'n1' }]]]);
      expect(delivered[0].mail.text).toContain('was posted (for example planned downtime, an outage, or its end).\n\nPlanned downtime (critical) <soon>.\n\nSign in');
      expect(delivered[0].mail.html).toContain('<p>Planned downtime (critical) &#60;soon&#62;.</p>');
      expect(await failing.send(subscription, bundle, 'event-notification', report)).toEqual({ ok: true });
      expect(delivered[1].mail.text).not.toContain('Planned downtime (critical)');
      expect(delivered[1].mail.subject).toBe('[CCP Exchange] Service notice');
    } finally {
      detailed.close();
      failing.close();
    }
  });

  it('refuses an endpoint that is not one mailto: address, without sending', async () => {
    const bundle = notificationBundle('sub-mail');
    for (const endpoint of ['https://partner.example.org/', 'mailto:a@partner.example.org?cc=b@elsewhere.example', 'mailto:a@x.example,b@y.example']) {
      expect(await channel.send(emailSubscription(endpoint, 'empty'), bundle, 'event-notification')).toEqual({
        ok: false,
        retry: false,
        reason: 'the endpoint is not a single mailto: address',
      });
    }
    expect(delivered).toHaveLength(0);
  });
});

describe('mailto addresses', () => {
  it('are the address of a mailto: URL, percent-decoded', () => {
    expect(mailtoAddress('mailto:privacy@partner.example.org')).toBe('privacy@partner.example.org');
    expect(mailtoAddress('MAILTO:first.last%2Bccp@partner.example.org')).toBe('first.last+ccp@partner.example.org');
    expect(mailtoAddress('mailto:a%0d%0aBcc:x@evil.example@partner.example.org')).toBeUndefined();
    expect(mailtoAddress('mailto:not-an-address')).toBeUndefined();
    expect(mailtoAddress(undefined)).toBeUndefined();
  });
});
