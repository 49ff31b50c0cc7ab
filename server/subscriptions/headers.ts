import type { ChannelType } from './model.js';
import { malformed, refused, type Problem } from './problems.js';

/**
 * `Subscription.channel.header`: each entry one HTTP header, `Name: value`, which the IG has a rest-hook send with
 * every POST (typically `Authorization`). A line break would let an entry add headers or a body of its own to the
 * request, so none is taken; nor are the headers that frame the request or that the server sets itself. Values are
 * never repeated in a diagnostic: they are often secrets. `headerFault` is the one rule for a header: the rest-hook
 * channel applies it again when it sends (server/delivery/channels/channel-headers.ts).
 */

/** RFC 9110's token: what a field name is made of. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** What an HTTP field value may hold (as Node's http checks it): tabs, visible ASCII, spaces and obs-text. */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** Headers that frame the request or that the server sets for each notification. */
const SET_BY_SERVER = new Set([
  'connection',
  'content-encoding',
  'content-length',
  'content-type',
  'expect',
  'host',
  'keep-alive',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** What breaks the rule in one header (its name, its value, or a header the server sets), or undefined. */
export function headerFault(name: string, value: string): 'name' | 'value' | 'set-by-server' | undefined {
  if (!TOKEN.test(name)) return 'name';
  if (!FIELD_VALUE.test(value)) return 'value';
  if (SET_BY_SERVER.has(name.toLowerCase())) return 'set-by-server';
  return undefined;
}

export interface CheckedHeaders {
  /** `Name: value`, with the spaces around the value trimmed. */
  headers: string[];
  problems: Problem[];
}

export function checkHeaders(value: unknown, channel: ChannelType): CheckedHeaders {
  if (value === undefined) return { headers: [], problems: [] };
  if (!Array.isArray(value)) return { headers: [], problems: [malformed('Subscription.channel.header', 'channel.header must be a list of strings')] };
  if (value.length && channel !== 'rest-hook') {
    return {
      headers: [],
      problems: [refused('Subscription.channel.header', `channel.header is sent only with rest-hook POSTs; a ${channel} subscription takes none`)],
    };
  }
  const headers: string[] = [];
  const problems: Problem[] = [];
  value.forEach((entry: unknown, index) => {
    const expression = `Subscription.channel.header[${index}]`;
    if (typeof entry !== 'string') {
      problems.push(malformed(expression, 'a channel.header entry must be a string, `Name: value`'));
      return;
    }
    if (/[\r\n]/.test(entry)) {
      problems.push(malformed(expression, 'a channel.header entry must be one line: a line break would add headers of its own; one header per entry'));
      return;
    }
    const colon = entry.indexOf(':');
    const name = colon > 0 ? entry.slice(0, colon) : '';
    const field = entry.slice(colon + 1).replace(/^[\t ]+|[\t ]+$/g, '');
    const fault = headerFault(name, field);
    if (fault === 'name') {
      problems.push(malformed(expression, 'a channel.header entry must be `Name: value`, the name an HTTP token (letters, digits, -)'));
    } else if (fault === 'value') {
      problems.push(malformed(expression, `the value of channel.header ${name} has a character an HTTP header cannot carry (a control character, or one beyond Latin-1)`));
    } else if (fault === 'set-by-server') {
      problems.push(refused(expression, `channel.header ${name} is set by the server for each notification, not by a subscription`, 'business-rule'));
    } else {
      headers.push(`${name}: ${field}`);
    }
  });
  return { headers, problems };
}
