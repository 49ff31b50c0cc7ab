import type { Extension, SubscriptionChannel } from 'fhir/r4';
import { HEARTBEAT_PERIOD_EXTENSION, MAX_COUNT_EXTENSION, PAYLOAD_CONTENT_EXTENSION, TIMEOUT_EXTENSION } from './backport.js';
import type { ChannelType, PayloadContent } from './model.js';
import { malformed, refused, type Problem } from './problems.js';

/**
 * The channel's settings the Backport IG adds to R4: the payload (MIME type and content level), the heartbeat
 * period, the timeout and the most events per notification. Our bounds, and why:
 *
 * - heartbeat-period: absent, no heartbeats (the IG); else 60 s to 86 400 s (a day). More often than a minute would
 *   let one subscription keep a worker busy sending nothing; the IG's example asks for a day.
 * - timeout: 1 s to 60 s, 10 s when absent. A rest-hook POST is a small Bundle: a receiver that has not answered in
 *   a minute is down, and the retries (with backoff, for a day) are what make delivery reliable, not a long wait.
 *   A timeout outside these bounds is refused, since the IG makes it the time the server will allow.
 * - max-count: 20 when absent, and never more than 100 however many are asked for. The IG makes the value a
 *   ceiling the server will not exceed, so sending fewer honours any larger request: it is lowered, not refused.
 */

export const HEARTBEAT_MIN_SECONDS = 60;
export const HEARTBEAT_MAX_SECONDS = 86_400;
export const TIMEOUT_MIN_SECONDS = 1;
export const TIMEOUT_MAX_SECONDS = 60;
export const DEFAULT_TIMEOUT_SECONDS = 10;
export const DEFAULT_MAX_COUNT = 20;
export const MAX_COUNT_CEILING = 100;

/** The largest value of FHIR's integer types (unsignedInt, positiveInt). */
const INTEGER_MAX = 2_147_483_647;

export interface ChannelSettings {
  contentType?: string;
  payload?: PayloadContent;
  heartbeatSeconds?: number;
  timeoutSeconds: number;
  maxCount: number;
}

export function checkChannelSettings(channel: SubscriptionChannel, type: ChannelType): { settings: ChannelSettings; problems: Problem[] } {
  const problems: Problem[] = [];
  const contentType = checkContentType(channel.payload, type, problems);
  const payload = checkContentLevel(channel, problems);
  const heartbeatSeconds = integerSetting(channel, HEARTBEAT_PERIOD_EXTENSION, 'valueUnsignedInt', problems);
  const timeout = integerSetting(channel, TIMEOUT_EXTENSION, 'valueUnsignedInt', problems);
  const maxCount = integerSetting(channel, MAX_COUNT_EXTENSION, 'valuePositiveInt', problems);
  if (heartbeatSeconds !== undefined && (heartbeatSeconds < HEARTBEAT_MIN_SECONDS || heartbeatSeconds > HEARTBEAT_MAX_SECONDS)) {
    problems.push(
      refused(
        valueOf(HEARTBEAT_PERIOD_EXTENSION),
        `heartbeat-period must be from ${HEARTBEAT_MIN_SECONDS} to ${HEARTBEAT_MAX_SECONDS} seconds (or absent, for no heartbeats)`,
        'business-rule',
      ),
    );
  }
  if (timeout !== undefined && (timeout < TIMEOUT_MIN_SECONDS || timeout > TIMEOUT_MAX_SECONDS)) {
    problems.push(
      refused(valueOf(TIMEOUT_EXTENSION), `timeout must be from ${TIMEOUT_MIN_SECONDS} to ${TIMEOUT_MAX_SECONDS} seconds: a delivery attempt is failed, and retried later, after at most a minute`, 'business-rule'),
    );
  }
  return {
    settings: {
      contentType,
      payload,
      heartbeatSeconds,
      timeoutSeconds: timeout ?? DEFAULT_TIMEOUT_SECONDS,
      maxCount: Math.min(maxCount ?? DEFAULT_MAX_COUNT, MAX_COUNT_CEILING),
    },
    problems,
  };
}

const extensionPath = (url: string): string => `Subscription.channel.extension('${url}')`;
const valueOf = (url: string): string => `${extensionPath(url)}.value`;
const CONTENT_EXPRESSION = `Subscription.channel.payload.extension('${PAYLOAD_CONTENT_EXTENSION}')`;

/** The one extension of this url in a list; more than one is a problem (the profile allows one). */
function single(extensions: readonly Extension[] | undefined, url: string, path: string, problems: Problem[]): Extension | undefined {
  const found = (extensions ?? []).filter((extension) => extension?.url === url);
  if (found.length > 1) problems.push(refused(path, `the backport profile allows one ${url.slice(url.lastIndexOf('/') + 1)} extension here, not ${found.length}`, 'structure'));
  return found[0];
}

function integerSetting(
  channel: SubscriptionChannel,
  url: string,
  key: 'valueUnsignedInt' | 'valuePositiveInt',
  problems: Problem[],
): number | undefined {
  const extension = single(channel.extension, url, extensionPath(url), problems);
  if (!extension) return undefined;
  const value: unknown = extension[key];
  const least = key === 'valuePositiveInt' ? 1 : 0;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < least || value > INTEGER_MAX) {
    const type = key === 'valuePositiveInt' ? 'positiveInt (a whole number from 1)' : 'unsignedInt (a whole number from 0)';
    problems.push(malformed(valueOf(url), `${url.slice(url.lastIndexOf('/') + 1)} takes ${key}, a ${type}`, 'value'));
    return undefined;
  }
  return value;
}

const CONTENT_LEVELS = ['empty', 'id-only', 'full-resource'];

function checkContentLevel(channel: SubscriptionChannel, problems: Problem[]): PayloadContent | undefined {
  const extension = single(channel._payload?.extension, PAYLOAD_CONTENT_EXTENSION, CONTENT_EXPRESSION, problems);
  if (channel.payload === undefined) return undefined; // reported with the MIME type
  if (!extension) {
    problems.push(
      refused(
        CONTENT_EXPRESSION,
        'channel.payload needs the backport-payload-content extension, empty or id-only: the backport profile requires it, and it decides what a notification holds',
        'required',
      ),
    );
    return undefined;
  }
  const code: unknown = extension.valueCode;
  if (typeof code !== 'string' || !CONTENT_LEVELS.includes(code)) {
    problems.push(malformed(`${CONTENT_EXPRESSION}.value`, 'backport-payload-content takes valueCode empty, id-only or full-resource', 'code-invalid'));
    return undefined;
  }
  if (code === 'full-resource') {
    problems.push(
      refused(
        `${CONTENT_EXPRESSION}.value`,
        'full-resource is not offered: a notification names what changed, and the subscriber reads it with its own token, so that consent (registrations, directives, overrides) is decided when it is read. Use id-only or empty',
      ),
    );
    return undefined;
  }
  return code as PayloadContent;
}

interface MediaType {
  essence: string;
  parameters: Map<string, string>;
}

function parseMediaType(text: string): MediaType | undefined {
  const [essence, ...rest] = text.split(';').map((part) => part.trim());
  if (!/^[A-Za-z0-9!#$&^_.+-]+\/[A-Za-z0-9!#$&^_.+-]+$/.test(essence)) return undefined;
  const parameters = new Map<string, string>();
  for (const part of rest) {
    const equals = part.indexOf('=');
    if (equals < 1) return undefined;
    parameters.set(part.slice(0, equals).trim().toLowerCase(), part.slice(equals + 1).trim().replace(/^"(.*)"$/, '$1'));
  }
  return { essence: essence.toLowerCase(), parameters };
}

const JSON_TYPES = ['application/fhir+json', 'application/json'];
const PAYLOAD_EXPRESSION = 'Subscription.channel.payload';

/**
 * The payload's MIME type. A rest-hook POST and a websocket message carry the Bundle itself, as FHIR JSON (this
 * server writes no XML), with an optional `charset=utf-8` and `fhirVersion=4.0`. An email's is its body's (the IG's
 * email channel): a human-readable `text/plain`, with `;attach=application/fhir+json` for the Bundle as an
 * attachment. Returned in one canonical spelling, as the rest-hook's `Content-Type`.
 */
function checkContentType(value: unknown, type: ChannelType, problems: Problem[]): string | undefined {
  if (value === undefined) {
    problems.push(
      refused(
        PAYLOAD_EXPRESSION,
        type === 'email'
          ? 'channel.payload is required by the backport profile: text/plain, or text/plain;attach=application/fhir+json, with its content level'
          : 'channel.payload is required by the backport profile: application/fhir+json (or application/json), with its content level',
        'required',
      ),
    );
    return undefined;
  }
  const media = typeof value === 'string' ? parseMediaType(value) : undefined;
  if (!media) {
    problems.push(malformed(PAYLOAD_EXPRESSION, 'channel.payload must be a MIME type, e.g. application/fhir+json', 'value'));
    return undefined;
  }
  const charset = media.parameters.get('charset');
  if (charset !== undefined && charset.toLowerCase() !== 'utf-8') {
    problems.push(refused(PAYLOAD_EXPRESSION, 'notifications are sent in UTF-8 only'));
    return undefined;
  }
  if (type === 'email') return emailContentType(media, problems);
  const others = [...media.parameters.keys()].filter((name) => name !== 'charset' && name !== 'fhirversion');
  const fhirVersion = media.parameters.get('fhirversion');
  if (!JSON_TYPES.includes(media.essence) || others.length || (fhirVersion !== undefined && fhirVersion !== '4.0')) {
    problems.push(
      refused(
        PAYLOAD_EXPRESSION,
        `a ${type} notification is sent as application/fhir+json or application/json (FHIR R4, fhirVersion=4.0), not ${value as string}`,
      ),
    );
    return undefined;
  }
  return fhirVersion === undefined ? media.essence : `${media.essence}; fhirVersion=4.0`;
}

function emailContentType(media: MediaType, problems: Problem[]): string | undefined {
  const attach = media.parameters.get('attach')?.toLowerCase();
  const others = [...media.parameters.keys()].filter((name) => name !== 'charset' && name !== 'attach');
  if (media.essence !== 'text/plain' || others.length || (attach !== undefined && !JSON_TYPES.includes(attach))) {
    problems.push(
      refused(
        PAYLOAD_EXPRESSION,
        'an email notification is a plain-text message: channel.payload text/plain, or text/plain;attach=application/fhir+json to attach the notification Bundle',
      ),
    );
    return undefined;
  }
  return attach === undefined ? 'text/plain' : `text/plain;attach=${attach}`;
}
