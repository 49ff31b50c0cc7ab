import { isIPv4, isIPv6 } from 'node:net';

/**
 * Which kind of address an IP is, for the SSRF rule of rest-hooks (issue 20): a subscription must not make the
 * server reach its own host or network. Only `public` addresses are reachable; `loopback` too where the
 * configuration allows it for local tests. IPv6 forms that carry an IPv4 address (mapped, compatible, NAT64,
 * 6to4) are judged by the IPv4 address they carry, so `::ffff:10.0.0.1` is as private as `10.0.0.1`.
 */
export type AddressKind =
  | 'public'
  | 'loopback'
  | 'private'
  | 'shared'
  | 'link-local'
  | 'unique-local'
  | 'unspecified'
  | 'multicast'
  | 'reserved';

interface Range {
  prefix: number[];
  bits: number;
  kind: Exclude<AddressKind, 'public'>;
}

/** RFC 6890's special-purpose IPv4 blocks that a notification never has a reason to reach. */
const IPV4_RANGES: Range[] = [
  { prefix: [0, 0, 0, 0], bits: 32, kind: 'unspecified' },
  { prefix: [0, 0, 0, 0], bits: 8, kind: 'reserved' }, // "this network"
  { prefix: [127, 0, 0, 0], bits: 8, kind: 'loopback' },
  { prefix: [10, 0, 0, 0], bits: 8, kind: 'private' },
  { prefix: [172, 16, 0, 0], bits: 12, kind: 'private' },
  { prefix: [192, 168, 0, 0], bits: 16, kind: 'private' },
  { prefix: [100, 64, 0, 0], bits: 10, kind: 'shared' }, // carrier-grade NAT
  { prefix: [169, 254, 0, 0], bits: 16, kind: 'link-local' }, // cloud metadata services live here
  { prefix: [192, 0, 0, 0], bits: 24, kind: 'reserved' }, // IETF protocol assignments
  { prefix: [192, 0, 2, 0], bits: 24, kind: 'reserved' }, // documentation
  { prefix: [198, 18, 0, 0], bits: 15, kind: 'reserved' }, // benchmarking
  { prefix: [198, 51, 100, 0], bits: 24, kind: 'reserved' }, // documentation
  { prefix: [203, 0, 113, 0], bits: 24, kind: 'reserved' }, // documentation
  { prefix: [224, 0, 0, 0], bits: 4, kind: 'multicast' },
  { prefix: [240, 0, 0, 0], bits: 4, kind: 'reserved' }, // future use and the broadcast address
];

const IPV6_RANGES: Range[] = [
  { prefix: bytes6('::'), bits: 128, kind: 'unspecified' },
  { prefix: bytes6('::1'), bits: 128, kind: 'loopback' },
  { prefix: bytes6('fe80::'), bits: 10, kind: 'link-local' },
  { prefix: bytes6('fec0::'), bits: 10, kind: 'private' }, // site-local, deprecated but still routed by some
  { prefix: bytes6('fc00::'), bits: 7, kind: 'unique-local' },
  { prefix: bytes6('ff00::'), bits: 8, kind: 'multicast' },
  { prefix: bytes6('100::'), bits: 64, kind: 'reserved' }, // discard-only
  { prefix: bytes6('2001:db8::'), bits: 32, kind: 'reserved' }, // documentation
];

/** IPv6 prefixes whose addresses carry an IPv4 address, with where it sits. */
const IPV4_CARRIERS: { prefix: number[]; bits: number; at: number; obsolete?: boolean }[] = [
  { prefix: bytes6('::ffff:0:0'), bits: 96, at: 12 }, // IPv4-mapped
  { prefix: bytes6('::'), bits: 96, at: 12, obsolete: true }, // IPv4-compatible, deprecated by RFC 4291
  { prefix: bytes6('64:ff9b::'), bits: 96, at: 12 }, // NAT64 well-known prefix
  { prefix: bytes6('64:ff9b:1::'), bits: 48, at: 12 }, // NAT64 local-use prefix
  { prefix: bytes6('2002::'), bits: 16, at: 2 }, // 6to4
];

/** The kind of `address` (an IPv4 or IPv6 address as text, an IPv6 zone allowed), or undefined if it is not one. */
export function addressKind(address: string): AddressKind | undefined {
  if (isIPv4(address)) return kindOf(address.split('.').map(Number), IPV4_RANGES);
  const bare = address.replace(/%.*$/, '');
  if (!isIPv6(bare)) return undefined;
  const bytes = bytes6(bare);
  const own = kindOf(bytes, IPV6_RANGES);
  if (own !== 'public') return own;
  for (const carrier of IPV4_CARRIERS) {
    if (!inRange(bytes, carrier.prefix, carrier.bits)) continue;
    const carried = kindOf(bytes.slice(carrier.at, carrier.at + 4), IPV4_RANGES);
    // An IPv4-compatible address has no use today, whatever it carries.
    return carried === 'public' && carrier.obsolete ? 'reserved' : carried;
  }
  return 'public';
}

function kindOf(bytes: number[], ranges: Range[]): AddressKind {
  // The most specific range wins (0.0.0.0 is unspecified, not merely "this network").
  let best: Range | undefined;
  for (const range of ranges) {
    if (inRange(bytes, range.prefix, range.bits) && (!best || range.bits > best.bits)) best = range;
  }
  return best?.kind ?? 'public';
}

function inRange(bytes: number[], prefix: number[], bits: number): boolean {
  for (let bit = 0; bit < bits; bit += 8) {
    const index = bit / 8;
    const take = Math.min(8, bits - bit);
    const mask = (0xff << (8 - take)) & 0xff;
    if ((bytes[index] & mask) !== (prefix[index] & mask)) return false;
  }
  return true;
}

/** The 16 bytes of a valid IPv6 address, `::` and a dotted IPv4 tail included. */
function bytes6(address: string): number[] {
  let text = address.toLowerCase();
  const tail: number[] = [];
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted[1].split('.').map(Number);
    tail.push((a << 8) | b, (c << 8) | d);
    text = text.slice(0, -dotted[1].length);
    if (!text.endsWith('::')) text = text.slice(0, -1); // the ':' before the IPv4 part
  }
  const [head, rest] = text.includes('::') ? text.split('::') : [text, undefined];
  const groups = (part: string | undefined): number[] => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const left = groups(head);
  const right = [...groups(rest), ...tail];
  const words = rest === undefined ? [...left, ...tail] : [...left, ...Array(8 - left.length - right.length).fill(0), ...right];
  return words.flatMap((word) => [word >> 8, word & 0xff]);
}
