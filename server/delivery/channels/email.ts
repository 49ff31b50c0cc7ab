import type { Bundle } from 'fhir/r4';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Channel, FocusRef, NotificationType, SendOutcome, SubscriptionSpec, SubscriptionStatusReport } from '../../subscriptions/model.js';
import { emailText } from './email-message.js';

/**
 * The Backport IG's `email` channel, over SMTP through nodemailer. The body is a fixed, human-readable sentence
 * per topic with a link to the app (email-message.ts), never the notification's content; the IG wants
 * attachments machine-readable and bounded by the payload level, so the notification Bundle is attached for
 * `id-only` and nothing for `empty`. An SMTP server's acceptance counts as delivery: what happens after it is the
 * mail system's business.
 */
export interface EmailOptions {
  /** nodemailer's connection URL: `smtp://user:password@host:587` (STARTTLS when offered), `smtps://host:465`. */
  smtpUrl: string;
  /** The sender, e.g. `CCP Exchange <notifications@example.org>`. */
  from: string;
  /** The app's URL, the one link in every message. */
  appUrl: string;
  /**
   * Lines that say more of an event than its topic's fixed words, for topics whose focus is no one's health
   * information (service notices: server/notices/email-details.ts). Given the topic and the focus of the events
   * mailed; none (or a failure) leaves the fixed words alone.
   */
  details?: EmailDetails;
}

/** More lines for an email about `focus` of `topic`: empty when there is nothing to add. Never for personal data. */
export type EmailDetails = (topic: string, focus: readonly FocusRef[]) => Promise<string[]>;

export interface EmailChannel extends Channel {
  /** Closes the SMTP connections held. */
  close(): void;
}

export function createEmailChannel(options: EmailOptions): EmailChannel {
  const transport = nodemailer.createTransport({
    url: options.smtpUrl,
    // nodemailer waits minutes by default; a delivery that stalls is better retried later. The URL's query
    // (`?socketTimeout=…`) still has the last word.
    connectionTimeout: 30_000,
    greetingTimeout: 30_000,
    socketTimeout: 60_000,
  });
  return {
    type: 'email',
    send: (subscription, bundle, type, report) => sendEmail(transport, options, subscription, bundle, type, report),
    close: () => transport.close(),
  };
}

async function sendEmail(
  transport: Transporter,
  options: EmailOptions,
  subscription: SubscriptionSpec,
  bundle: Bundle,
  type: NotificationType,
  report: SubscriptionStatusReport | undefined,
): Promise<SendOutcome> {
  // Only events are mailed. The IG makes the email handshake optional, and a handshake or heartbeat tells a person
  // nothing (a heartbeat every period would only fill the inbox); the subscription counts them as sent.
  if (type !== 'event-notification') return { ok: true };
  const to = mailtoAddress(subscription.endpoint);
  if (!to) return permanent('the endpoint is not a single mailto: address');
  const details = options.details ? await detailsOf(options.details, subscription.topic, report) : [];
  const { subject, text, html } = emailText(subscription.topic, subscription.id, options.appUrl, { notificationAddress: subscription.owner.kind === 'organization', details });
  try {
    await transport.sendMail({
      from: options.from,
      to,
      subject,
      text,
      html,
      // RFC 3834: no vacation replies or other automatic answers to a machine's message.
      headers: { 'Auto-Submitted': 'auto-generated' },
      attachments:
        subscription.payload === 'id-only'
          ? [{ filename: 'notification.json', content: JSON.stringify(bundle), contentType: 'application/fhir+json' }]
          : [],
    });
    return { ok: true };
  } catch (error) {
    return outcomeOf(error);
  }
}

/** The details' lines, or none when they cannot be had: the fixed words still go out, and the delivery is not held up. */
async function detailsOf(details: EmailDetails, topic: string, report: SubscriptionStatusReport | undefined): Promise<string[]> {
  try {
    return await details(topic, report?.events.map((event) => event.focus) ?? []);
  } catch {
    return [];
  }
}

/**
 * The one address of a `mailto:` endpoint. A mailto URL's header fields (`?cc=…&body=…`) and address lists are
 * refused rather than honoured or dropped: a notification goes to the one address the subscriber named.
 */
export function mailtoAddress(endpoint: string | undefined): string | undefined {
  if (!endpoint || !/^mailto:/i.test(endpoint) || endpoint.includes('?')) return undefined;
  let address: string;
  try {
    address = decodeURIComponent(endpoint.slice('mailto:'.length));
  } catch {
    return undefined;
  }
  return /^[^\s@,;:<>()[\]"\\]+@[^\s@,;:<>()[\]"\\]+\.[^\s@,;:<>()[\]"\\]+$/.test(address) ? address : undefined;
}

/**
 * An SMTP failure as an outcome: a 4xx reply is the server's "try again later", a 5xx its refusal; a connection
 * that failed is worth retrying. Our own credentials being refused is ours to fix, not the subscriber's fault, so
 * it is retried too. Reasons carry the reply code and the error codes, never the reply text or the error's
 * message (they can repeat the address).
 */
function outcomeOf(error: unknown): SendOutcome {
  const { code, responseCode, originalCode } = (error ?? {}) as { code?: unknown; responseCode?: unknown; originalCode?: unknown };
  const reply = typeof responseCode === 'number' ? responseCode : undefined;
  const kind = typeof code === 'string' ? code : undefined;
  // nodemailer names a socket's failure ESOCKET and keeps the system's code (ECONNREFUSED, …) beside it.
  const cause = typeof originalCode === 'string' ? originalCode : undefined;
  const what = [reply !== undefined ? `SMTP ${reply}` : undefined, kind, cause].filter(Boolean).join(', ') || 'error';
  if (kind === 'EAUTH') return retry(`the SMTP server refused the server's credentials (${what})`);
  if (reply !== undefined && reply >= 500) return permanent(`the SMTP server refused the message (${what})`);
  if (reply !== undefined && reply >= 400) return retry(`the SMTP server deferred the message (${what})`);
  if (kind === 'EENVELOPE' || kind === 'EMESSAGE') return permanent(`the message could not be built (${what})`);
  return retry(`the SMTP server could not be reached (${what})`);
}

const retry = (reason: string): SendOutcome => ({ ok: false, retry: true, reason });
const permanent = (reason: string): SendOutcome => ({ ok: false, retry: false, reason });
