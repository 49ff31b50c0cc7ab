import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP } from 'node:net';
import type { SendOutcome } from '../../subscriptions/model.js';
import { forbiddenRange, isIpLiteral, isLoopback } from '../../subscriptions/address-ranges.js';

/**
 * Where a rest-hook may POST (issue 20): https only, to public addresses only, so that a
 * Subscription cannot make the server reach its own host, its network or a cloud metadata service. With
 * `allowLoopback` (local tests and development) loopback addresses are reachable too, over http as well, and
 * still nothing else that is private. The rule is applied twice: when a Subscription is created
 * (`checkEndpoint`), and on every connection, to the very addresses the connection uses (`guardedLookup`), so a
 * name that resolves differently later (DNS rebinding) is caught.
 */
export interface EndpointOptions {
  allowLoopback?: boolean;
}

/** Why an address may not be reached, or undefined when it may. */
export function addressRefusal(address: string, options: EndpointOptions & { loopbackOnly?: boolean }): string | undefined {
  if (!isIpLiteral(address)) return 'not an IP address';
  const loopback = isLoopback(address);
  if (options.loopbackOnly) return loopback ? undefined : 'http is allowed to loopback addresses only';
  const range = forbiddenRange(address);
  if (range === undefined || (loopback && options.allowLoopback)) return undefined;
  return `the endpoint resolves to a ${range} address`;
}

/** A refusal by these rules, as an error a connection fails with. */
export class EndpointRefused extends Error {
  readonly code = 'EENDPOINTREFUSED';
}

/** The parts of an endpoint URL the rules look at, once its scheme passed. */
export interface EndpointTarget {
  url: URL;
  /** The host without IPv6 brackets. */
  host: string;
  /** An http URL (allowed with `allowLoopback` only): every address it resolves to must be loopback. */
  loopbackOnly: boolean;
}

/** The scheme rule, and the address rule for a host written as an IP address (no lookup happens for those). */
export function endpointTarget(endpoint: string | undefined, options: EndpointOptions): EndpointTarget | string {
  let url: URL;
  try {
    url = new URL(endpoint ?? '');
  } catch {
    return 'the endpoint is not a URL';
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && options.allowLoopback)) {
    return options.allowLoopback ? 'the endpoint must use https or http' : 'the endpoint must use https';
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const target = { url, host, loopbackOnly: url.protocol === 'http:' };
  if (isIP(host)) {
    const refusal = addressRefusal(host, { ...options, loopbackOnly: target.loopbackOnly });
    if (refusal) return refusal;
  }
  return target;
}

/**
 * A `lookup` for node:http(s) and node:net that resolves as usual and refuses the connection unless every address
 * the name resolves to passes the rule (a name with one private address among public ones is refused: which of
 * them a connection ends up using is not ours to choose).
 */
export function guardedLookup(rule: EndpointOptions & { loopbackOnly: boolean }) {
  return (
    hostname: string,
    options: LookupOptions,
    callback: (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '');
      const refusal = refusalOf(addresses, rule);
      if (refusal) return callback(new EndpointRefused(refusal), '');
      if (options.all) return callback(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  };
}

function refusalOf(addresses: LookupAddress[], rule: EndpointOptions & { loopbackOnly: boolean }): string | undefined {
  if (addresses.length === 0) return 'the endpoint resolves to no address';
  for (const { address } of addresses) {
    const refusal = addressRefusal(address, rule);
    if (refusal) return refusal;
  }
  return undefined;
}

/**
 * The same rules for a Subscription being created: the URL's scheme, and every address its host resolves to now.
 * A refusal by the rules has `retry: false`; a name that does not resolve at the moment has `retry: true` (the
 * caller decides whether to accept such an endpoint). Reasons never repeat the URL.
 */
export async function checkEndpoint(endpoint: string | undefined, options: EndpointOptions = {}): Promise<SendOutcome> {
  const target = endpointTarget(endpoint, options);
  if (typeof target === 'string') return { ok: false, retry: false, reason: target };
  if (isIP(target.host)) return { ok: true };
  const rule = { ...options, loopbackOnly: target.loopbackOnly };
  return new Promise((resolve) => {
    dnsLookup(target.host, { all: true, verbatim: true }, (error, addresses) => {
      if (error) {
        resolve({ ok: false, retry: true, reason: `the endpoint's host name did not resolve (${error.code ?? 'error'})` });
        return;
      }
      const refusal = refusalOf(addresses, rule);
      resolve(refusal ? { ok: false, retry: false, reason: refusal } : { ok: true });
    });
  });
}
