import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Bundle } from 'fhir/r4';
import type { Channel, SendOutcome, SubscriptionSpec } from '../../subscriptions/model.js';
import { parseChannelHeaders } from './channel-headers.js';
import { EndpointRefused, endpointTarget, guardedLookup, type EndpointOptions } from './endpoint-rules.js';

/**
 * The Backport IG's `rest-hook` channel: the notification Bundle POSTed to the Subscription's endpoint as
 * `application/fhir+json`, with its `channel.header` lines. node:http(s) rather than `fetch`, because only they
 * take a `lookup`, where the address rules of endpoint-rules.ts are applied to the addresses actually connected
 * to. Redirects are not followed (a 3xx could lead anywhere, the server's own network included). Outcomes follow
 * the IG's advice on retrying: what may pass (the endpoint away, slow, overloaded) is worth another try, what the
 * endpoint refused is not. Reasons name a status or an error code, never a body, a header value or the URL.
 */
export interface RestHookOptions extends EndpointOptions {
  /** Sent as `User-Agent`. */
  userAgent?: string;
}

export function createRestHookChannel(options: RestHookOptions = {}): Channel {
  return {
    type: 'rest-hook',
    send: (subscription, bundle) => post(subscription, bundle, options),
  };
}

async function post(subscription: SubscriptionSpec, bundle: Bundle, options: RestHookOptions): Promise<SendOutcome> {
  const target = endpointTarget(subscription.endpoint, options);
  if (typeof target === 'string') return permanent(target);
  const parsed = parseChannelHeaders(subscription.headers);
  if (!parsed.ok) return permanent(parsed.reason);

  const body = Buffer.from(JSON.stringify(bundle), 'utf8');
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of parsed.headers) {
    const key = name.toLowerCase();
    const previous = headers[key];
    headers[key] = previous === undefined ? value : [...(Array.isArray(previous) ? previous : [String(previous)]), value];
  }
  // The IG: the POST's type is the one the Subscription asked for (application/fhir+json or application/json).
  headers['content-type'] = subscription.contentType ?? 'application/fhir+json';
  headers['content-length'] = body.length;
  headers['user-agent'] = options.userAgent ?? 'ccp-exchange';

  const request = target.url.protocol === 'https:' ? httpsRequest : httpRequest;
  const seconds = subscription.timeoutSeconds;
  return new Promise<SendOutcome>((resolve) => {
    let settled = false;
    const finish = (outcome: SendOutcome): void => {
      if (settled) return;
      settled = true;
      resolve(outcome);
    };
    const req = request(
      target.url,
      {
        method: 'POST',
        headers,
        // A connection of its own each time: the address rule then runs for every notification.
        agent: false,
        lookup: guardedLookup({ allowLoopback: options.allowLoopback, loopbackOnly: target.loopbackOnly }),
      },
      (response: IncomingMessage) => {
        finish(outcomeOf(response.statusCode ?? 0));
        // The answer's body is not ours to read; it drains (within the timeout) so the connection ends cleanly.
        response.on('error', () => undefined);
        response.on('close', stop);
        response.resume();
      },
    );
    // One deadline for the whole exchange, connecting included (the IG's timeout is for the notification).
    const timer = setTimeout(() => {
      finish(retry(`no answer within ${seconds} s (timeout)`));
      req.destroy();
    }, seconds * 1000);
    function stop(): void {
      clearTimeout(timer);
    }
    req.on('error', (error: NodeJS.ErrnoException) => {
      stop();
      finish(error instanceof EndpointRefused ? permanent(error.message) : retry(`the connection failed (${error.code ?? 'error'})`));
    });
    req.on('close', stop);
    req.end(body);
  });
}

function outcomeOf(status: number): SendOutcome {
  if (status >= 200 && status < 300) return { ok: true };
  if (status >= 300 && status < 400) return permanent(`HTTP ${status}: redirects are not followed`);
  if (status === 408 || status === 429 || status >= 500) return retry(`HTTP ${status}`);
  return permanent(`HTTP ${status}`);
}

const retry = (reason: string): SendOutcome => ({ ok: false, retry: true, reason });
const permanent = (reason: string): SendOutcome => ({ ok: false, retry: false, reason });
