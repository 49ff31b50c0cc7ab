import type { Communication } from 'fhir/r4';
import { testUser } from '../support/callers.js';
import { NOTICE_KIND_SYSTEM, NOTICE_SEVERITY_EXTENSION, NOTICE_WINDOW_EXTENSION } from '../../server/conformance/notice-vocabulary.js';
import { createEmailChannel, type EmailChannel } from '../../server/delivery/channels/email.js';
import { createDeliveryEngine, type DeliveryEngine } from '../../server/delivery/engine.js';
import { noticeEmailDetails } from '../../server/notices/email-details.js';
import { createNoticeRounds } from '../../server/notices/rounds.js';
import { createAccessCheck } from '../../server/notifications/access-check.js';
import { handleFhirRequest } from '../../server/pipeline/fhir-request.js';
import type { FhirContext } from '../../server/rest/types.js';
import { extractIndexRows } from '../../server/search/index/extract.js';
import { R4_REGISTRY } from '../../server/search/registry.js';
import { putSubscription, statusOf } from '../../server/store/subscription-outbox.js';
import { type SubscriptionSpec, TOPIC_BASE } from '../../server/subscriptions/model.js';
import { notificationBundle } from '../../server/subscriptions/notification-bundle.js';
import { matchesFilters } from '../../server/subscriptions/topics.js';
import { BACKENDS, reportBackends } from '../support/backends.js';
import { waitFor } from '../support/notification-receiver.js';
import { openTestServer, type TestServer } from '../support/fhir-app.js';
import { MailCatcher, type Mail } from '../support/mail-catcher.js';

reportBackends();

/**
 * A planned downtime from posting to completion, by email, end to end: an administrator posts it through the
 * pipeline (its `posted` event recorded by the topic-event rule in the write's transaction), the rounds record its
 * `reminder` and `completed`, and the delivery engine sends each to an email subscription on the service-notice
 * topic through a real SMTP server in this process, each message parsed back with mailparser. The subscription's
 * engine record is put directly, owned by the server itself: the partners' system-managed subscriptions (one per
 * organization, at its notification address) are built on the same record.
 */
const BASE = 'https://ccp.example.org/fhir';
const APP_URL = 'https://app.ccp.example.org/';
const ADMIN = testUser('admin-1', undefined, ['administrator']);
/** The notice's free text: the app shows it, an email does not. */
const FREE_TEXT = 'Maintenance by the vendor, call Dr. Example at 555-0100 with questions.';
const HOUR = 3600_000;

describe.each(BACKENDS)('service notice emails, end to end, on $name', (backend) => {
  let server: TestServer;
  let context: FhirContext;
  let smtp: MailCatcher;
  let channel: EmailChannel;
  let engine: DeliveryEngine;
  let delivered: Mail[];

  beforeAll(async () => {
    server = await openTestServer(backend);
    context = server.context;
    smtp = await MailCatcher.start();
    delivered = smtp.messages;
    channel = createEmailChannel({ smtpUrl: smtp.url, from: 'CCP Exchange <notify@ccp.example.org>', appUrl: APP_URL, details: noticeEmailDetails(server.db) });
    engine = createDeliveryEngine(server.db, {
      channels: { email: channel },
      build: (report) => notificationBundle(report, BASE),
      match: (spec, event) => matchesFilters(spec.filters, event),
      access: createAccessCheck(server.db, context),
      pollSeconds: 0.2,
    });
    engine.start();
  });
  afterAll(async () => {
    await engine?.stop();
    channel?.close();
    await smtp?.close();
    await server?.close();
  });

  it('posted, reminder and completed each reach the subscriber as an email naming the kind, severity and window', async () => {
    const subscription: SubscriptionSpec = {
      id: 'partner-notices',
      topic: `${TOPIC_BASE}/service-notice`,
      filters: [],
      channel: 'email',
      endpoint: 'mailto:it-desk@partner.example.org',
      headers: [],
      payload: 'empty',
      timeoutSeconds: 10,
      maxCount: 1,
      owner: { kind: 'server', scopes: [] },
    };
    await putSubscription(server.db, subscription, 'requested');
    await waitFor('the subscription to be active', async () => (await statusOf(server.db, subscription.id))?.status === 'active');

    const now = Date.now();
    const [start, end] = [new Date(now + 48 * HOUR), new Date(now + 50 * HOUR)];
    const posted = await handleFhirRequest(
      {
        method: 'POST',
        path: 'Communication',
        query: {},
        headers: {},
        baseUrl: BASE,
        caller: ADMIN,
        body: {
          resourceType: 'Communication',
          extension: [
            { url: NOTICE_SEVERITY_EXTENSION, valueCode: 'critical' },
            { url: NOTICE_WINDOW_EXTENSION, valuePeriod: { start: start.toISOString(), end: end.toISOString() } },
          ],
          status: 'in-progress',
          category: [{ coding: [{ system: NOTICE_KIND_SYSTEM, code: 'planned-downtime' }] }],
          payload: [{ contentString: FREE_TEXT }],
        } as Communication,
      },
      context,
    );
    expect(posted.status).toBe(201);
    const window = `from ${start.toISOString().slice(0, 16).replace('T', ' ')} UTC to ${end.toISOString().slice(0, 16).replace('T', ' ')} UTC`;

    await waitFor('the posted email', () => delivered.length === 1);
    let clock = new Date(now + 25 * HOUR);
    const rounds = createNoticeRounds(server.db, { index: (resource) => extractIndexRows(resource, R4_REGISTRY), intervalMs: 60_000, reminderHours: 24, clock: () => clock });
    expect(await rounds.round()).toEqual({ reminded: [(posted.body as Communication).id], completed: [] });
    await waitFor('the reminder email', () => delivered.length === 2);
    clock = new Date(now + 51 * HOUR);
    expect(await rounds.round()).toEqual({ reminded: [], completed: [(posted.body as Communication).id] });
    await waitFor('the completed email', () => delivered.length === 3);
    await engine.idle();

    expect(delivered.map((d) => d.to)).toEqual([['it-desk@partner.example.org'], ['it-desk@partner.example.org'], ['it-desk@partner.example.org']]);
    const texts = delivered.map((d) => d.mail.text ?? '');
    expect(delivered.map((d) => d.mail.subject)).toEqual(Array(3).fill('[CCP Exchange] Service notice'));
    expect(texts[0]).toContain(`Planned downtime (critical), ${window}.`);
    expect(texts[1]).toContain(`Planned downtime (critical), ${window}.`);
    expect(texts[2]).toContain(`Planned downtime (critical), ${window}: completed.`);
    for (const { mail } of delivered) {
      expect(mail.text).toContain(APP_URL);
      expect(String(mail.html)).toContain('Planned downtime (critical)');
      // The administrator's free text is read in the app, never in an inbox; `empty` attaches nothing.
      expect(`${mail.text} ${String(mail.html)}`).not.toContain('555-0100');
      expect(mail.attachments).toHaveLength(0);
    }
    await rounds.stop();
  });
});
