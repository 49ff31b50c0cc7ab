import { headerFault } from '../../subscriptions/headers.js';

/**
 * A rest-hook Subscription's `channel.header` lines (`Name: value`, e.g. `Authorization: Bearer …`), which the
 * Backport IG has the server send with every POST, read again when it is sent by the rule the Subscription was
 * checked by (`headerFault`, server/subscriptions/headers.ts: RFC 9110's grammar, no line breaks, and not the
 * headers the server sets). Messages name the line by its index, never its value (a value is often a secret).
 */
export type ParsedHeaders = { ok: true; headers: [string, string][] } | { ok: false; reason: string };

export function parseChannelHeaders(lines: readonly string[]): ParsedHeaders {
  const headers: [string, string][] = [];
  for (const [index, line] of lines.entries()) {
    const colon = line.indexOf(':');
    const where = `channel.header[${index}]`;
    if (colon <= 0) return { ok: false, reason: `${where} is not "Name: value"` };
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    const fault = headerFault(name, value);
    if (fault === 'name') return { ok: false, reason: `${where} has an invalid header name` };
    if (fault === 'value') return { ok: false, reason: `${where} has characters a header value cannot carry` };
    if (fault === 'set-by-server') return { ok: false, reason: `${where} sets ${name}, which the server sets itself` };
    headers.push([name, value]);
  }
  return { ok: true, headers };
}
