import { forbiddenRange, isIpLiteral, isLoopback } from './address-ranges.js';
import { malformed, refused, type Problem } from './problems.js';

/**
 * Where a notification may be sent (`Subscription.channel.endpoint`). A rest-hook endpoint is an https URL without
 * credentials whose host, when it is a literal address, is public unicast; a DNS name is judged when a delivery
 * connects, by the addresses it then resolves to (a name can be re-pointed after this check). An email endpoint is a
 * `mailto:` URI with one address. A websocket subscription has none: the client connects to the server.
 */

const EXPRESSION = 'Subscription.channel.endpoint';

export interface EndpointOptions {
  /**
   * Let a rest-hook use `http:`, and a loopback host, when the host is a loopback literal (127.0.0.0/8, ::1) or
   * `localhost`: for a receiver on the same machine in local tests. Never in production.
   */
  allowHttpLoopback?: boolean;
}

export interface CheckedEndpoint {
  /** The endpoint as the server will use it (the URL parser's form, so that what was checked is what is used). */
  endpoint?: string;
  problems: Problem[];
}

const ABSOLUTE = /^[A-Za-z][A-Za-z0-9+.-]*:/;

export function checkRestHookEndpoint(value: unknown, options: EndpointOptions): CheckedEndpoint {
  if (value === undefined || value === '') {
    return only(refused(EXPRESSION, 'A rest-hook subscription needs channel.endpoint: the https URL notifications are POSTed to', 'required'));
  }
  if (typeof value !== 'string') return only(malformed(EXPRESSION, 'channel.endpoint must be a string (a URL)'));
  if (!ABSOLUTE.test(value)) {
    return only(refused(EXPRESSION, 'channel.endpoint must be an absolute https URL: a relative one would point at this server', 'security'));
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return only(malformed(EXPRESSION, 'channel.endpoint is not a URL', 'value'));
  }
  const problems: Problem[] = [];
  const host = url.hostname;
  // Without brackets (IPv6) or the root's trailing dot (`localhost.` is localhost).
  const bare = host.startsWith('[') ? host.slice(1, -1) : host.replace(/\.$/, '');
  const loopbackAllowed = options.allowHttpLoopback === true && (bare === 'localhost' || isLoopback(bare));
  if (url.protocol === 'http:' && !loopbackAllowed) {
    problems.push(
      refused(
        EXPRESSION,
        'channel.endpoint must be an https: URL: notifications are not sent in clear text (http: is only for a loopback receiver, when the server is configured for local tests)',
        'security',
      ),
    );
  } else if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    problems.push(refused(EXPRESSION, `channel.endpoint must be an https: URL, not ${url.protocol}`));
  }
  if (url.username || url.password) {
    problems.push(
      refused(
        EXPRESSION,
        'channel.endpoint must not carry credentials (user:password@): send them in a channel.header such as Authorization',
        'security',
      ),
    );
  }
  if (!loopbackAllowed) {
    const range = isIpLiteral(bare) ? forbiddenRange(bare) : undefined;
    if (range) {
      problems.push(
        refused(EXPRESSION, `channel.endpoint's host ${host} is a ${range} address: notifications are sent only to public addresses`, 'security'),
      );
    } else if (bare === 'localhost' || bare.endsWith('.localhost')) {
      problems.push(refused(EXPRESSION, `channel.endpoint's host ${host} names this machine: notifications are sent only to public addresses`, 'security'));
    }
  }
  return problems.length ? { problems } : { endpoint: url.href, problems };
}

/** RFC 5322's dot-atom local part at a domain of LDH labels: the plain addresses a notification may go to. */
const ADDRESS = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

export function checkEmailEndpoint(value: unknown): CheckedEndpoint {
  if (value === undefined || value === '') {
    return only(refused(EXPRESSION, 'An email subscription needs channel.endpoint: mailto: and the address', 'required'));
  }
  if (typeof value !== 'string') return only(malformed(EXPRESSION, 'channel.endpoint must be a string (a mailto: URI)'));
  if (!/^mailto:/i.test(value)) return only(refused(EXPRESSION, 'An email subscription\'s channel.endpoint must be a mailto: URI'));
  const rest = value.slice('mailto:'.length);
  if (rest.includes('?')) {
    return only(refused(EXPRESSION, 'channel.endpoint takes no mailto: fields (?cc=, ?subject=…): the server writes each message, to the one address'));
  }
  let address: string;
  try {
    address = decodeURIComponent(rest);
  } catch {
    return only(malformed(EXPRESSION, 'channel.endpoint is not a valid mailto: URI (bad percent-encoding)', 'value'));
  }
  if (address.includes(',')) return only(refused(EXPRESSION, 'channel.endpoint must name one address: one subscription per recipient'));
  if (!isEmailAddress(address)) {
    return only(malformed(EXPRESSION, 'channel.endpoint is not mailto: followed by an email address (name@example.org)', 'value'));
  }
  // Kept as a URI: what decoding turned back into `%` or `?` is encoded again, so the channel reads the same address.
  return { endpoint: `mailto:${address.replace(/%/g, '%25').replace(/\?/g, '%3F')}`, problems: [] };
}

/** A plain address a notification may go to (an Organization's notification address is held to it as well). */
export function isEmailAddress(address: string): boolean {
  return address.length <= 254 && ADDRESS.test(address);
}

function only(problem: Problem): CheckedEndpoint {
  return { problems: [problem] };
}
