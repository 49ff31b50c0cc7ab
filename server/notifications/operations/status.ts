import { badRequest } from '../../fhir/outcome.js';
import type { Interaction } from '../../rest/types.js';
import type { SubscriptionStatusCode, SubscriptionStatusReport } from '../../subscriptions/model.js';
import { statusBundle } from '../../subscriptions/notification-bundle.js';
import { operationInput } from './input.js';
import { idParameter, reachableSubscriptionIds } from './reachable-subscriptions.js';
import { reportOf, subscriptionStateOf } from './subscription-state.js';

const STATUSES: readonly SubscriptionStatusCode[] = ['requested', 'active', 'error', 'off'];

/**
 * `GET|POST [base]/Subscription/$status` and `[base]/Subscription/[id]/$status` (the Backport IG's
 * backport-subscription-status): a `searchset` Bundle of one status Parameters (backport-subscription-status-r4,
 * notification type `query-status`) per Subscription, as the notification engine knows it now.
 *
 * At the type level, the Subscriptions are those a search of Subscription finds for the caller (reachable-subscriptions.ts),
 * so a caller is told of its own only; `id` (repeated: OR) narrows them to the ids named, and an id the caller does
 * not reach is left out as one that does not exist would be; `status` (repeated: OR) keeps those in one of the
 * statuses named. At the instance level both parameters are ignored, as the IG says, and a Subscription the caller
 * may not read is a 404 (the pipeline's consent gate, like a read).
 */
export const subscriptionStatus: Interaction = async (request, params, context) => {
  const input = operationInput(request, context, '$status', ['id', 'status']);
  if (params.id !== undefined) {
    const state = await subscriptionStateOf(params, context);
    return { status: 200, body: statusBundle([{ ...reportOf(state), type: 'query-status' }], request.baseUrl) };
  }
  const ids = idParameter(input.all('id'));
  const statuses = statusParameter(input.all('status'));
  const reports: SubscriptionStatusReport[] = [];
  for (const id of await reachableSubscriptionIds(request, context, ids)) {
    const state = await context.store.subscriptionState(id);
    // A Subscription the engine has no record of is not one this server notifies for: nothing to report.
    if (state && (!statuses || statuses.includes(state.status))) reports.push({ ...reportOf(state), type: 'query-status' });
  }
  return { status: 200, body: statusBundle(reports, request.baseUrl) };
};

function statusParameter(values: readonly string[]): SubscriptionStatusCode[] | undefined {
  const codes = values.flatMap((value) => value.split(',')).map((code) => code.trim());
  if (!codes.length) return undefined;
  const unknown = codes.find((code) => !(STATUSES as readonly string[]).includes(code));
  if (unknown !== undefined) throw badRequest(`status: "${unknown}" is not a Subscription status (${STATUSES.join(' | ')})`, ['status']);
  return codes as SubscriptionStatusCode[];
}
