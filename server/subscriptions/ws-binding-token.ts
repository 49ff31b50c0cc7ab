import type { Parameters } from 'fhir/r4';

/**
 * The answer of `$get-ws-binding-token` (the Backport IG's OperationDefinition backport-subscription-get-ws-binding-token):
 * a token a websocket client sends (`bind-with-token <token>`) to bind its connection to one or more Subscriptions,
 * when the token stops being good, which Subscriptions it binds, and where to connect. Making, storing and checking
 * the token is the websocket channel's business; this is only the operation's Parameters.
 */
export interface BindingToken {
  token: string;
  expiration: Date;
  /** The ids of the Subscriptions the token binds. */
  subscriptionIds: readonly string[];
  /** The `ws:` or `wss:` URL to connect to. */
  websocketUrl: string;
}

export function bindingTokenParameters({ token, expiration, subscriptionIds, websocketUrl }: BindingToken): Parameters {
  return {
    resourceType: 'Parameters',
    parameter: [
      { name: 'token', valueString: token },
      { name: 'expiration', valueDateTime: expiration.toISOString() },
      ...subscriptionIds.map((id) => ({ name: 'subscription', valueString: `Subscription/${id}` })),
      { name: 'websocket-url', valueUrl: websocketUrl },
    ],
  };
}
