import { notFound } from '../../fhir/outcome.js';
import type { FhirContext, RouteParams } from '../../rest/types.js';
import type { SubscriptionState } from '../../store/subscription-state.js';
import type { SubscriptionStatusReport } from '../../subscriptions/model.js';
import { SUBSCRIPTION } from './defined-on.js';

/**
 * The Subscription an instance operation is about, as the notification engine knows it. By the time an instance
 * operation runs, the pipeline's consent gate has let through only a Subscription the caller may read (a caller
 * that may not gets the 404 a read would); what is left is a Subscription that is not there, or one the engine has
 * no record of: not found either.
 */
export async function subscriptionStateOf(params: RouteParams, context: FhirContext): Promise<SubscriptionState> {
  const id = params.id!;
  const reached = context.reached?.type === SUBSCRIPTION && context.reached.id === id;
  if (!reached && (await context.store.read(SUBSCRIPTION, id)).kind !== 'found') throw notFound(`${SUBSCRIPTION}/${id} is not known`);
  const state = await context.store.subscriptionState(id);
  if (!state) throw notFound(`${SUBSCRIPTION}/${id} is not a topic-based Subscription this server sends notifications for`);
  return state;
}

/** What a status Parameters reports of a Subscription: its engine state, with no events (the caller adds them). */
export function reportOf(state: SubscriptionState): Omit<SubscriptionStatusReport, 'type'> {
  return {
    subscription: state.subscription,
    status: state.status,
    eventsSinceSubscriptionStart: state.eventsSinceSubscriptionStart,
    events: [],
    ...(state.error !== undefined ? { error: state.error } : {}),
  };
}
