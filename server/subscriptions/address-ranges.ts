/**
 * The IP ranges a notification may not be sent to, so that a Subscription cannot make the server reach its own
 * network (SSRF): loopback, private, link-local, unique-local, unspecified, multicast, and the other ranges that are
 * not public unicast (IANA's special-purpose registries, RFC 6890 and its updates). The one implementation of the
 * rule: used on a literal address in `channel.endpoint` when the Subscription is checked, and, for a DNS name, on
 * each address it resolves to when a delivery connects (server/delivery/channels/endpoint-rules.ts). Addresses that
 * carry an IPv4 address inside an IPv6 one (IPv4-mapped, IPv4-compatible, NAT64, 6to4) are judged by the IPv4
 * address they carry. Each range has a name, for the messages that refuse an endpoint.
 */

interface Range4 {
  prefix: number;
  bits: number;
  name: string;
}

interface Range6 {
  prefix: bigint;
  bits: number;
  name: string;
}

const IPV4_RANGES: readonly Range4[] = [
  range4('0.0.0.0', 8, 'unspecified (this network)'),
  range4('10.0.0.0', 8, 'private'),
  range4('100.64.0.0', 10, 'shared (carrier-grade NAT)'),
  range4('127.0.0.0', 8, 'loopback'),
  range4('169.254.0.0', 16, 'link-local'),
  range4('172.16.0.0', 12, 'private'),
  range4('192.0.0.0', 24, 'IETF protocol assignments'),
  range4('192.0.2.0', 24, 'documentation'),
  range4('192.168.0.0', 16, 'private'),
  range4('198.18.0.0', 15, 'benchmarking'),
  range4('198.51.100.0', 24, 'documentation'),
  range4('203.0.113.0', 24, 'documentation'),
  range4('224.0.0.0', 4, 'multicast'),
  range4('240.0.0.0', 4, 'reserved (broadcast included)'),
];

const IPV6_RANGES: readonly Range6[] = [
  range6('::', 128, 'unspecified'),
  range6('::1', 128, 'loopback'),
  // Forbidden whole: RFC 6052 places the IPv4 address of a /48 around the u octet, and a site may use any layout.
  range6('64:ff9b:1::', 48, 'local-use NAT64'),
  range6('100::', 64, 'discard-only'),
  range6('2001:db8::', 32, 'documentation'),
  range6('fe80::', 10, 'link-local'),
  range6('fec0::', 10, 'site-local'),
  range6('fc00::', 7, 'unique-local'),
  range6('ff00::', 8, 'multicast'),
];

/**
 * IPv6 prefixes whose addresses carry an IPv4 address, and where it sits (bits from the right). A deprecated form
 * has the name it is refused by when what it carries is public: it has no use today.
 */
const CARRIES_IPV4: ReadonlyArray<{ prefix: bigint; bits: number; shift: bigint; deprecated?: string }> = [
  { prefix: parseIPv6('::ffff:0:0')!, bits: 96, shift: 0n }, // IPv4-mapped
  // :: and ::1 are matched first, as IPv6 ranges of their own.
  { prefix: parseIPv6('::')!, bits: 96, shift: 0n, deprecated: 'IPv4-compatible (deprecated)' }, // RFC 4291 2.5.5.1
  { prefix: parseIPv6('64:ff9b::')!, bits: 96, shift: 0n }, // NAT64, well-known prefix
  { prefix: parseIPv6('2002::')!, bits: 16, shift: 80n }, // 6to4
];

/**
 * The name of the forbidden range a literal IP address (IPv4, or IPv6 with or without brackets or a zone) is in;
 * undefined when it is public unicast, and for text that is not an IP address (a DNS name is judged by what it
 * resolves to).
 */
export function forbiddenRange(address: string): string | undefined {
  const v4 = parseIPv4(address);
  if (v4 !== undefined) return rangeOf4(v4);
  const v6 = parseIPv6(address);
  if (v6 === undefined) return undefined;
  const own = IPV6_RANGES.find((r) => inPrefix6(v6, r.prefix, r.bits));
  if (own) return own.name;
  const carrier = CARRIES_IPV4.find((c) => inPrefix6(v6, c.prefix, c.bits));
  if (!carrier) return undefined;
  const inner = rangeOf4(Number((v6 >> carrier.shift) & 0xffffffffn));
  return inner ? `${inner} (inside an IPv6 address)` : carrier.deprecated;
}

/** Whether text is a literal IP address at all. */
export function isIpLiteral(address: string): boolean {
  return parseIPv4(address) !== undefined || parseIPv6(address) !== undefined;
}

/** Whether a literal address is a loopback one (127.0.0.0/8, ::1, or an IPv6 address carrying 127.x.x.x). */
export function isLoopback(address: string): boolean {
  const range = forbiddenRange(address);
  return range === 'loopback' || range === 'loopback (inside an IPv6 address)';
}

function rangeOf4(address: number): string | undefined {
  return IPV4_RANGES.find((r) => inPrefix4(address, r.prefix, r.bits))?.name;
}

function inPrefix4(address: number, prefix: number, bits: number): boolean {
  const shift = 32 - bits;
  return address >>> shift === prefix >>> shift;
}

function inPrefix6(address: bigint, prefix: bigint, bits: number): boolean {
  const shift = BigInt(128 - bits);
  return address >> shift === prefix >> shift;
}

/** Dotted-decimal only: four numbers 0–255 (a URL's host is already in this form, whatever the client wrote). */
function parseIPv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((part) => /^(0|[1-9]\d{0,2})$/.test(part) && Number(part) <= 255)) return undefined;
  return parts.reduce((value, part) => value * 256 + Number(part), 0);
}

function parseIPv6(text: string): bigint | undefined {
  let body = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (!body.includes(':')) return undefined;
  // A zone (fe80::1%eth0, RFC 4007) says which interface, not which address.
  body = body.replace(/%[0-9A-Za-z._~-]+$/, '');
  // A trailing dotted IPv4 (::ffff:127.0.0.1) is two groups.
  const lastColon = body.lastIndexOf(':');
  const tail = body.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = parseIPv4(tail);
    if (v4 === undefined) return undefined;
    body = `${body.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const halves = body.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(':') : [];
  const rest = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  if (halves.length === 2 && head.length + rest.length > 7) return undefined;
  const groups = halves.length === 2 ? [...head, ...Array<string>(8 - head.length - rest.length).fill('0'), ...rest] : head;
  if (groups.length !== 8 || !groups.every((group) => /^[0-9a-fA-F]{1,4}$/.test(group))) return undefined;
  return groups.reduce((value, group) => (value << 16n) | BigInt(parseInt(group, 16)), 0n);
}

function range4(prefix: string, bits: number, name: string): Range4 {
  return { prefix: parseIPv4(prefix)!, bits, name };
}

function range6(prefix: string, bits: number, name: string): Range6 {
  return { prefix: parseIPv6(prefix)!, bits, name };
}
