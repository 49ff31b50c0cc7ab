import { existsSync, readFileSync } from 'node:fs';

/**
 * The local addresses TCP sockets listen on at `port`, from the kernel's own tables (Linux `/proc/net/tcp` and
 * `tcp6`): what a server actually bound, found without sending it any traffic. `0.0.0.0` and `::` are every
 * interface.
 */
export function listeningAddresses(port: number): string[] {
  const addresses: string[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(table)) continue;
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (!local || state !== LISTEN) continue;
      const [hex, portHex] = local.split(':');
      if (parseInt(portHex, 16) === port) addresses.push(hex.length === 8 ? ipv4(hex) : ipv6(hex));
    }
  }
  return addresses;
}

/** The kernel's TCP_LISTEN state, as the tables print it. */
const LISTEN = '0A';

/** The table prints the address as the host-order (little-endian here) 32-bit word. */
function ipv4(hex: string): string {
  return (hex.match(/../g) ?? []).reverse().map((byte) => parseInt(byte, 16)).join('.');
}

/** Four 32-bit words, each printed as in `ipv4`; the URL parser gives the usual compressed spelling. */
function ipv6(hex: string): string {
  const bytes = (hex.match(/.{8}/g) ?? []).flatMap((word) => (word.match(/../g) ?? []).reverse());
  const groups = (bytes.join('').match(/.{4}/g) ?? []).join(':');
  return new URL(`http://[${groups}]/`).hostname.slice(1, -1);
}
