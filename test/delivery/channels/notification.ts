import type { Bundle, Parameters } from 'fhir/r4';
import { BACKPORT, TOPIC_BASE, type NotificationType, type SubscriptionSpec } from '../../../server/subscriptions/model.js';

/** A checked Subscription as server/subscriptions hands it to a channel. */
export function subscriptionSpec(overrides: Partial<SubscriptionSpec> = {}): SubscriptionSpec {
  return {
    id: 'sub-1',
    topic: `${TOPIC_BASE}/ccp-changed`,
    filters: [{ name: 'patient', value: 'Patient/pat-1' }],
    channel: 'rest-hook',
    headers: [],
    payload: 'id-only',
    timeoutSeconds: 5,
    maxCount: 10,
    owner: { clientId: 'emr-1', scopes: ['system/CarePlan.rs'], organization: 'org-1' },
    ...overrides,
  };
}

/**
 * A notification Bundle of the Backport IG's R4 shape (history, the subscription-status Parameters first), written
 * out by hand. `display`, when given, is put where a careless channel would pick it up (the focus reference's
 * display), to show that it does not.
 */
export function notificationBundle(
  subscriptionId: string,
  options: { type?: NotificationType; topic?: string; display?: string } = {},
): Bundle {
  const type = options.type ?? 'event-notification';
  const events =
    type === 'event-notification'
      ? [
          {
            name: 'notification-event',
            part: [
              { name: 'event-number', valueString: '7' },
              { name: 'timestamp', valueInstant: '2026-12-07T14:00:00.000Z' },
              { name: 'focus', valueReference: { reference: 'CarePlan/cp-1', ...(options.display ? { display: options.display } : {}) } },
            ],
          },
        ]
      : [];
  return {
    resourceType: 'Bundle',
    type: 'history',
    timestamp: '2026-12-07T14:00:01.000Z',
    entry: [
      {
        fullUrl: `https://ccp.example.org/fhir/Subscription/${subscriptionId}/$status`,
        resource: <Parameters>{
          resourceType: 'Parameters',
          meta: { profile: [`${BACKPORT}/StructureDefinition/backport-subscription-status-r4`] },
          parameter: [
            { name: 'subscription', valueReference: { reference: `https://ccp.example.org/fhir/Subscription/${subscriptionId}` } },
            { name: 'topic', valueCanonical: options.topic ?? `${TOPIC_BASE}/ccp-changed` },
            { name: 'status', valueCode: 'active' },
            { name: 'type', valueCode: type },
            { name: 'events-since-subscription-start', valueString: type === 'event-notification' ? '7' : '0' },
            ...events,
          ],
        },
        request: { method: 'GET', url: `https://ccp.example.org/fhir/Subscription/${subscriptionId}/$status` },
        response: { status: '200' },
      },
      ...(type === 'event-notification'
        ? [{ fullUrl: 'https://ccp.example.org/fhir/CarePlan/cp-1', request: { method: 'PUT' as const, url: 'CarePlan/cp-1' }, response: { status: '200' } }]
        : []),
    ],
  };
}
