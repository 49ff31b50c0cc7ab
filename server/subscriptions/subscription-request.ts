import type { Extension, Subscription, SubscriptionChannel } from 'fhir/r4';
import { parseDateRange } from '../fhir/date-range.js';
import { CHANNEL_TYPE_EXTENSION, CHANNEL_TYPE_SYSTEM, FILTER_CRITERIA_EXTENSION } from './backport.js';
import { checkChannelSettings } from './channel-settings.js';
import { checkEmailEndpoint, checkRestHookEndpoint, type CheckedEndpoint } from './endpoint.js';
import { checkFilterCriteria } from './filter-criteria.js';
import { checkHeaders } from './headers.js';
import type { ChannelType, SubscriptionOwner, SubscriptionSpec, SubscriptionStatusCode, TopicFilter } from './model.js';
import { malformed, refusal, refused, type Problem } from './problems.js';
import { TOPIC_CANONICALS, topicByUrl } from './topics.js';

/**
 * A Subscription a client writes, checked against the Backport IG's profile and what this server offers, and read
 * into the SubscriptionSpec the outbox and the channels work from. Every problem is named at once, each with the
 * FHIRPath of its element (problems.ts says which are 400 and which 422). What is not checked here: who may
 * subscribe (the access step), and where a DNS name resolves (each delivery, when it connects).
 */

export interface SubscriptionCheckOptions {
  /** The Subscription's id: the one the server gives it on create, the one in the URL on update. */
  id: string;
  /** Who the subscription acts for: the caller that writes it. */
  owner: SubscriptionOwner;
  interaction: 'create' | 'update';
  /** On update, the status the server holds now: a client may send it back unchanged (read, modify, write). */
  currentStatus?: SubscriptionStatusCode;
  /** What "now" is, for `end`; the clock when absent. */
  now?: Date;
  /** See endpoint.ts: `http:` and loopback hosts for a local receiver, in tests. Never in production. */
  allowHttpLoopback?: boolean;
}

const STATUSES: readonly string[] = ['requested', 'active', 'error', 'off'];
const R4_CHANNEL_TYPES: readonly string[] = ['rest-hook', 'websocket', 'email', 'sms', 'message'];
const OUR_CHANNEL_TYPES: readonly ChannelType[] = ['rest-hook', 'websocket', 'email'];

/** The checked Subscription, or a FhirError (400 or 422) naming every problem. */
export function checkSubscription(resource: Subscription, options: SubscriptionCheckOptions): SubscriptionSpec {
  const problems: Problem[] = [];
  if ((resource as { resourceType?: unknown })?.resourceType !== 'Subscription') {
    throw refusal([malformed('Subscription', 'the body must be a Subscription resource', 'structure')]);
  }
  checkStatus(resource, options, problems);
  const end = checkEnd(resource.end, options.now ?? new Date(), problems);
  const { topic, filters } = checkCriteria(resource, problems);
  const channel = checkChannel(resource.channel, options, problems);
  if (problems.length || !topic || !channel?.payload) throw refusal(problems);
  return {
    id: options.id,
    topic,
    filters,
    channel: channel.type,
    ...(channel.endpoint === undefined ? {} : { endpoint: channel.endpoint }),
    ...(channel.contentType === undefined ? {} : { contentType: channel.contentType }),
    headers: channel.headers,
    payload: channel.payload,
    ...(channel.heartbeatSeconds === undefined ? {} : { heartbeatSeconds: channel.heartbeatSeconds }),
    timeoutSeconds: channel.timeoutSeconds,
    maxCount: channel.maxCount,
    ...(end === undefined ? {} : { end }),
    owner: options.owner,
  };
}

/**
 * The status the server records for a Subscription that passed `checkSubscription`: `requested` on create (the
 * server makes it `active` after the handshake); on update what the client asked for (`requested` to reactivate,
 * `off`), or the current status when it sent that back or none.
 */
export function statusToStore(resource: Subscription, options: Pick<SubscriptionCheckOptions, 'interaction' | 'currentStatus'>): SubscriptionStatusCode {
  if (options.interaction === 'create') return 'requested';
  const asked = resource.status as SubscriptionStatusCode | undefined;
  return asked ?? options.currentStatus ?? 'requested';
}

function checkStatus(resource: Subscription, options: SubscriptionCheckOptions, problems: Problem[]): void {
  const status: unknown = resource.status;
  if (status === undefined) return; // R4 requires it, but a missing one reads as `requested` on create, unchanged on update
  if (typeof status !== 'string' || !STATUSES.includes(status)) {
    problems.push(malformed('Subscription.status', 'status must be requested, active, error or off', 'code-invalid'));
    return;
  }
  if (status === 'requested') return;
  if (options.interaction === 'update' && (status === 'off' || status === options.currentStatus)) return;
  if (status === 'off') {
    problems.push(refused('Subscription.status', 'a subscription is created requested; turn it off later with an update (status off)', 'business-rule'));
    return;
  }
  problems.push(
    refused(
      'Subscription.status',
      `status ${status} is the server's to set (active once notifications can be delivered, error when they cannot); a client asks for requested, or off`,
      'business-rule',
    ),
  );
}

function checkEnd(value: unknown, now: Date, problems: Problem[]): string | undefined {
  if (value === undefined) return undefined;
  const range = typeof value === 'string' ? parseDateRange(value) : undefined;
  if (!range) {
    problems.push(malformed('Subscription.end', 'end must be a FHIR instant, e.g. 2030-01-01T00:00:00Z', 'value'));
    return undefined;
  }
  // A time of day is the moment it ends; a date names its whole span (2030-01-01 is all of that day), and the
  // subscription ends with its last moment.
  const end = (value as string).includes('T') ? range.start : range.end;
  if (end.getTime() <= now.getTime()) {
    problems.push(refused('Subscription.end', 'end is in the past: a subscription that has ended would never notify', 'business-rule'));
    return undefined;
  }
  return end.toISOString();
}

function checkCriteria(resource: Subscription, problems: Problem[]): { topic?: string; filters: TopicFilter[] } {
  const criteria: unknown = resource.criteria;
  if (typeof criteria !== 'string' || !criteria) {
    problems.push(malformed('Subscription.criteria', 'criteria is required: the canonical URL of one of this server\'s topics', 'required'));
    return { filters: [] };
  }
  const topic = topicByUrl(criteria);
  if (!topic) {
    const kind = /^[A-Za-z]+(\?|$)/.test(criteria)
      ? 'R4 query criteria (e.g. CarePlan?patient=…) are not supported: this server offers topic-based Subscriptions (the Backport IG); criteria'
      : `criteria ${criteria} is not a topic of this server: it`;
    problems.push(refused('Subscription.criteria', `${kind} must be one of ${TOPIC_CANONICALS.join(', ')} (listed in the CapabilityStatement)`));
    return { filters: [] };
  }
  const extensions = (resource._criteria?.extension ?? []).filter((extension: Extension) => extension?.url === FILTER_CRITERIA_EXTENSION);
  const { filters, problems: filterProblems } = checkFilterCriteria(extensions, topic);
  problems.push(...filterProblems);
  return { topic: topic.url, filters };
}

interface CheckedChannel {
  type: ChannelType;
  endpoint?: string;
  contentType?: string;
  headers: string[];
  payload?: SubscriptionSpec['payload'];
  heartbeatSeconds?: number;
  timeoutSeconds: number;
  maxCount: number;
}

function checkChannel(channel: SubscriptionChannel | undefined, options: SubscriptionCheckOptions, problems: Problem[]): CheckedChannel | undefined {
  if (typeof channel !== 'object' || channel === null) {
    problems.push(malformed('Subscription.channel', 'channel is required: its type, endpoint and payload', 'required'));
    return undefined;
  }
  const type = checkChannelType(channel, problems);
  if (!type) return undefined;
  const endpoint = checkEndpoint(channel.endpoint, type, options);
  const headers = checkHeaders(channel.header, type);
  const { settings, problems: settingProblems } = checkChannelSettings(channel, type);
  problems.push(...endpoint.problems, ...headers.problems, ...settingProblems);
  return { type, endpoint: endpoint.endpoint, headers: headers.headers, ...settings };
}

function checkChannelType(channel: SubscriptionChannel, problems: Problem[]): ChannelType | undefined {
  const type: unknown = channel.type;
  if (type === undefined) {
    problems.push(malformed('Subscription.channel.type', 'channel.type is required: rest-hook, websocket or email', 'required'));
    return undefined;
  }
  if (typeof type !== 'string' || !R4_CHANNEL_TYPES.includes(type)) {
    problems.push(malformed('Subscription.channel.type', 'channel.type must be one of R4\'s: rest-hook, websocket, email, sms, message', 'code-invalid'));
    return undefined;
  }
  if (!(OUR_CHANNEL_TYPES as readonly string[]).includes(type)) {
    problems.push(refused('Subscription.channel.type', `channel type ${type} is not offered: rest-hook, websocket or email`));
    return undefined;
  }
  // The IG: a server SHALL reject a channel named in backport-channel-type that it does not support. One that only
  // restates the R4 code in R5's code system asks for nothing more.
  const custom = (channel._type?.extension ?? []).filter((extension: Extension) => extension?.url === CHANNEL_TYPE_EXTENSION);
  const restates = (extension: Extension) => extension.valueCoding?.system === CHANNEL_TYPE_SYSTEM && extension.valueCoding.code === type;
  if (!custom.every(restates)) {
    problems.push(
      refused(
        `Subscription.channel.type.extension('${CHANNEL_TYPE_EXTENSION}')`,
        'custom channel types (backport-channel-type) are not offered: rest-hook, websocket or email',
      ),
    );
    return undefined;
  }
  return type as ChannelType;
}

function checkEndpoint(value: unknown, type: ChannelType, options: SubscriptionCheckOptions): CheckedEndpoint {
  if (type === 'rest-hook') return checkRestHookEndpoint(value, options);
  if (type === 'email') return checkEmailEndpoint(value);
  if (value === undefined || value === '') return { problems: [] };
  return {
    problems: [
      refused(
        'Subscription.channel.endpoint',
        'a websocket subscription has no endpoint: the client connects to the server, at the websocket-url $get-ws-binding-token gives',
        'business-rule',
      ),
    ],
  };
}
