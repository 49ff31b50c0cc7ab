import { TOPIC_BASE, type TopicName } from '../../subscriptions/model.js';

/**
 * What a notification email says, per topic (issue 20; DESIGN.md rule 9): that something happened, and where to
 * look, with no personal health information. The words are fixed per topic and the only values filled in are the
 * app's URL and the Subscription's id, so nothing of a patient or a plan can reach an inbox, whatever the
 * notification Bundle holds.
 */
export interface EmailText {
  subject: string;
  text: string;
  html: string;
}

const PRODUCT = 'CCP Exchange';

const WORDING: Record<TopicName, { subject: string; what: string }> = {
  'ccp-changed': {
    subject: 'A Coordinated Care Plan was updated',
    what: 'A Coordinated Care Plan your organization has access to was created or updated.',
  },
  'registration-status': {
    subject: 'A registration changed status',
    what: 'A registration request your organization is part of was approved, rejected or otherwise changed status.',
  },
  'directive-changed': {
    subject: 'A consent directive was recorded or ended',
    what: 'A consent directive that may change what your organization can see was recorded or ended.',
  },
  'override-used': {
    subject: 'A consent override was used',
    what: 'A consent override was used to reach records. As a privacy contact, please review it.',
  },
  'service-notice': {
    subject: 'Service notice',
    what: `A service notice about ${PRODUCT} was posted (for example planned downtime, an outage, or its end).`,
  },
  'organization-joined': {
    subject: 'A new organization joined',
    what: `A new organization was granted access to ${PRODUCT}.`,
  },
};

const GENERIC = { subject: 'New notification', what: 'Something your organization subscribed to has happened.' };

/** The topic's short name when it is one of ours (`${TOPIC_BASE}/ccp-changed` → `ccp-changed`). */
export function topicName(topic: string): TopicName | undefined {
  if (!topic.startsWith(`${TOPIC_BASE}/`)) return undefined;
  const name = topic.slice(TOPIC_BASE.length + 1);
  return Object.hasOwn(WORDING, name) ? (name as TopicName) : undefined;
}

/**
 * `about.notificationAddress`: the subscription is the server's own for a partner's notification address (owner
 * kind `organization`: server/subscriptions/partner-subscriptions.ts), which no one subscribed to and which has no
 * Subscription resource to name. `about.details`: lines of the channel's `details` hook (email.ts), for topics
 * about no one's health information (service notices: their kind, severity and window), each its own paragraph
 * after the topic's words.
 */
export function emailText(
  topic: string,
  subscriptionId: string,
  appUrl: string,
  about: { notificationAddress?: boolean; details?: readonly string[] } = {},
): EmailText {
  const { notificationAddress = false, details = [] } = about;
  const name = topicName(topic);
  const { subject, what } = name ? WORDING[name] : GENERIC;
  const see = `Sign in to ${PRODUCT} to see it:`;
  const because = notificationAddress
    ? `You receive this message because this is your organization's notification address in ${PRODUCT}.`
    : `You receive this message because your organization subscribed to these notifications (Subscription/${subscriptionId}).`;
  const why = `${because} Details are shown only in the app, to people allowed to see them.`;
  return {
    subject: `[${PRODUCT}] ${subject}`,
    text: `${[what, ...details].join('\n\n')}\n\n${see} ${appUrl}\n\n${why}\n`,
    html:
      `<!DOCTYPE html><html><body>` +
      `<p>${escape(what)}</p>` +
      details.map((line) => `<p>${escape(line)}</p>`).join('') +
      `<p>${escape(see)} <a href="${escape(appUrl)}">${escape(appUrl)}</a></p>` +
      `<p style="color:#555">${escape(why)}</p>` +
      `</body></html>`,
  };
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
