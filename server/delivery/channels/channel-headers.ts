/**
 * A rest-hook Subscription's `channel.header` lines (`Name: value`, e.g. `Authorization: Bearer …`), which the
 * Backport IG has the server send with every POST. Names and values are held to RFC 9110's grammar (no line
 * breaks, so a header line cannot add another), and the headers that frame the request are ours to set. Usable at
 * create time too, to refuse a bad line before any notification is sent. Messages name the line by its index,
 * never its value (a value is often a secret).
 */
export type ParsedHeaders = { ok: true; headers: [string, string][] } | { ok: false; reason: string };

/** RFC 9110 `token`. */
const NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Visible ASCII, spaces and tabs: what every receiver reads the same way. */
const VALUE = /^[\t\x20-\x7e]*$/;

/** Set by the channel itself (the content and its framing) or by the connection. */
const RESERVED = new Set([
  'host',
  'content-type',
  'content-length',
  'content-encoding',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'expect',
]);

export function parseChannelHeaders(lines: readonly string[]): ParsedHeaders {
  const headers: [string, string][] = [];
  for (const [index, line] of lines.entries()) {
    const colon = line.indexOf(':');
    const where = `channel.header[${index}]`;
    if (colon <= 0) return { ok: false, reason: `${where} is not "Name: value"` };
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (!NAME.test(name)) return { ok: false, reason: `${where} has an invalid header name` };
    if (!VALUE.test(value)) return { ok: false, reason: `${where} has characters a header value cannot carry` };
    if (RESERVED.has(name.toLowerCase())) return { ok: false, reason: `${where} sets ${name}, which the server sets itself` };
    headers.push([name, value]);
  }
  return { ok: true, headers };
}
