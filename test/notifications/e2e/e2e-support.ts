import type { Organization, Resource, Subscription } from 'fhir/r4';
import type { Received } from '../../support/notification-receiver.js';

/**
 * What the end-to-end notification suites share: Subscriptions as a client writes them (the Backport IG's R4 shape,
 * written out here rather than taken from the server's code), FHIR calls over real HTTP, a real SMTP server in this
 * process, and the checks of what a receiver got.
 */

const IG = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition';
export const TOPIC = (name: string): string => `http://ccp-exchange.org/fhir/SubscriptionTopic/${name}`;

export interface SubscriptionSettings {
  topic?: string;
  channel?: 'rest-hook' | 'websocket' | 'email';
  endpoint?: string;
  payload?: 'empty' | 'id-only';
  filters?: string[];
  /** backport-max-count: 1 sends each event in a notification of its own. */
  maxCount?: number;
  timeoutSeconds?: number;
}

/** A Subscription to `settings.topic` (organization-joined unless told), status requested, as a client sends it. */
export function subscription(settings: SubscriptionSettings = {}): Subscription {
  const channel = settings.channel ?? 'rest-hook';
  return {
    resourceType: 'Subscription',
    status: 'requested',
    reason: 'end-to-end test',
    criteria: settings.topic ?? TOPIC('organization-joined'),
    ...(settings.filters?.length ? { _criteria: { extension: settings.filters.map((valueString) => ({ url: `${IG}/backport-filter-criteria`, valueString })) } } : {}),
    channel: {
      type: channel,
      ...(settings.endpoint !== undefined ? { endpoint: settings.endpoint } : {}),
      extension: [
        { url: `${IG}/backport-timeout`, valueUnsignedInt: settings.timeoutSeconds ?? 5 },
        { url: `${IG}/backport-max-count`, valuePositiveInt: settings.maxCount ?? 1 },
      ],
      // An email is plain text, the notification Bundle attached; the others carry the Bundle itself.
      payload: channel === 'email' ? 'text/plain;attach=application/fhir+json' : 'application/fhir+json',
      _payload: { extension: [{ url: `${IG}/backport-payload-content`, valueCode: settings.payload ?? 'id-only' }] },
    },
  };
}

export interface FhirAnswer<T = Resource> {
  status: number;
  body: T;
}

/** One FHIR call over HTTP (with a bearer token when given); the body parsed when there is one. */
export async function fhirCall<T = Resource>(method: string, url: string, body?: unknown, token?: string): Promise<FhirAnswer<T>> {
  const response = await fetch(url, {
    method,
    headers: {
      accept: 'application/fhir+json',
      ...(body !== undefined ? { 'content-type': 'application/fhir+json' } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

/** Creates `resource` at `fhir`, expecting 201; returns what the server stored. */
export async function created<T extends Resource>(fhir: string, resource: T, token?: string): Promise<T & { id: string }> {
  const answer = await fhirCall<T & { id: string }>('POST', `${fhir}/${resource.resourceType}`, resource, token);
  if (answer.status !== 201) throw new Error(`POST ${resource.resourceType}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
}

/** An Organization that joins (its creation is an organization-joined event). */
export const joining = (name: string): Organization => ({ resourceType: 'Organization', active: true, name });

/** The event numbers a receiver got for `subscription`, in arrival order (a notification may carry several). */
export function eventNumbers(received: Received[], subscription: string): number[] {
  return received.filter((r) => r.subscription === subscription && r.type === 'event-notification').flatMap((r) => r.eventNumbers);
}

/** 1 … n: every number from the first, none missing. */
export const oneTo = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

/** The distinct numbers, ascending (at-least-once allows a number twice; a gap is a lost notification). */
export const distinctSorted = (numbers: number[]): number[] => [...new Set(numbers)].sort((a, b) => a - b);

/** Whether `numbers` never goes down (arrival order follows event order; a repeat is allowed, a step back is not). */
export function ascending(numbers: number[]): boolean {
  return numbers.every((n, i) => i === 0 || n >= numbers[i - 1]);
}

export { MailCatcher, type Mail } from '../../support/mail-catcher.js';
