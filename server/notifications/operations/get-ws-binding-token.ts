import { FhirError, notFound } from '../../fhir/outcome.js';
import type { FhirContext, FhirRequest, Interaction, SubscriptionOptions } from '../../rest/types.js';
import type { SubscriptionState } from '../../store/subscription-state.js';
import { bindingTokenParameters } from '../../subscriptions/ws-binding-token.js';
import { SUBSCRIPTION } from './defined-on.js';
import { operationInput } from './input.js';
import { idParameter, reachableSubscriptionIds } from './reachable-subscriptions.js';
import { subscriptionStateOf } from './subscription-state.js';

/**
 * What the websocket channel (server/delivery/channels/) gives this operation, handed in by the route table, which
 * composes the server: how a binding token is made (signed with the configured secret), and the path the channel
 * answers upgrades on.
 */
export interface WebSocketBinding {
  issue(secret: string, subscriptions: readonly string[], ttlSeconds: number): { token: string; expiration: string };
  path: string;
}

/**
 * `GET|POST [base]/Subscription/[id]/$get-ws-binding-token` and `[base]/Subscription/$get-ws-binding-token` (the
 * Backport IG's backport-subscription-get-ws-binding-token): a short-lived token the client sends on the websocket
 * (`bind-with-token`) to receive the notifications of the Subscriptions it names, when it expires, those
 * Subscriptions, and the `ws:`/`wss:` URL to connect to (the request's origin, so it is the server the client reached).
 *
 * Instance level: the Subscription, which the caller may read (else 404, the pipeline's consent gate, as a read).
 * Type level: the Subscriptions named by `id` (each must be reachable by the caller: else 404, as if it did not
 * exist), or without `id` every websocket Subscription the caller reaches (the IG leaves the choice to the server).
 * A Subscription whose channel is not websocket has nothing to bind: 422. A server without the binding secret
 * configured cannot make tokens: 501, the server's configuration and not the caller's request being what is missing.
 */
export function getWsBindingToken(binding: WebSocketBinding): Interaction {
  return async (request, params, context) => {
    const input = operationInput(request, context, '$get-ws-binding-token', ['id']);
    const options = configured(context);
    const states = params.id !== undefined ? [await subscriptionStateOf(params, context)] : await named(request, context, idParameter(input.all('id')));
    const refused = states.filter((state) => state.subscription.channel !== 'websocket');
    if (refused.length) {
      throw new FhirError(422, {
        code: 'not-supported',
        diagnostics: `$get-ws-binding-token: ${refused.map((state) => `${SUBSCRIPTION}/${state.subscription.id} (channel ${state.subscription.channel})`).join(', ')} ${refused.length > 1 ? 'are' : 'is'} not a websocket Subscription: a binding token binds websocket Subscriptions only`,
      });
    }
    const ids = states.map((state) => state.subscription.id);
    const { token, expiration } = binding.issue(options.bindingSecret, ids, options.bindingTokenSeconds);
    const websocketUrl = websocketUrlOf(request.baseUrl, binding.path);
    return { status: 200, body: bindingTokenParameters({ token, expiration: new Date(expiration), subscriptionIds: ids, websocketUrl }) };
  };
}

/** The type level's Subscriptions: those named, each reachable; or every websocket one the caller reaches. */
async function named(request: FhirRequest, context: FhirContext, ids: string[] | undefined): Promise<SubscriptionState[]> {
  const reached = await reachableSubscriptionIds(request, context, ids);
  const missing = ids?.find((id) => !reached.includes(id));
  if (missing !== undefined) throw notFound(`${SUBSCRIPTION}/${missing} is not known`);
  const states: SubscriptionState[] = [];
  for (const id of ids ?? reached) {
    const state = await context.store.subscriptionState(id);
    if (ids && !state) throw notFound(`${SUBSCRIPTION}/${id} is not a topic-based Subscription this server sends notifications for`);
    if (state && (ids || state.subscription.channel === 'websocket')) states.push(state);
  }
  if (!states.length) {
    throw new FhirError(422, { code: 'not-found', diagnostics: '$get-ws-binding-token: you have no websocket Subscription to bind (create one, or name it with id)' });
  }
  return states;
}

function configured(context: FhirContext): SubscriptionOptions {
  const options = context.options.subscriptions;
  if (!options) {
    throw new FhirError(501, { code: 'not-supported', diagnostics: '$get-ws-binding-token: this server is not configured for websocket notifications (no binding token secret)' });
  }
  return options;
}

/** `ws://host[:port]/…` for an `http:` base, `wss://…` for `https:`: the websocket of the server the request reached. */
export function websocketUrlOf(baseUrl: string, path: string): string {
  const base = new URL(baseUrl);
  return `${base.protocol === 'https:' ? 'wss:' : 'ws:'}//${base.host}${path}`;
}
