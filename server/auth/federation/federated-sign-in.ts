import * as oidc from 'openid-client';
import type { AuthServer } from '../auth-server.js';
import { OAuthError } from '../oauth-error.js';
import { type PendingAuthorization, saveProgress } from '../authorize/pending.js';
import { isUsable } from '../users.js';

/**
 * Sends the user to their organization's identity provider: an authorization code request with PKCE, `state`
 * (which finds this pending request again on return) and `nonce` (which binds the id_token to it).
 */
export async function startFederatedSignIn(auth: AuthServer, pending: PendingAuthorization, providerId: string, callbackUrl: string): Promise<string> {
  const provider = auth.identityProviders.find(providerId);
  if (!provider) throw new OAuthError('invalid_request', 'unknown identity provider');
  const configuration = await auth.identityProviders.configuration(provider);
  const codeVerifier = oidc.randomPKCECodeVerifier();
  const federation = { provider: provider.id, state: oidc.randomState(), codeVerifier, nonce: oidc.randomNonce() };
  pending.progress = { ...pending.progress, federation };
  await saveProgress(auth.db, pending);
  return oidc
    .buildAuthorizationUrl(configuration, {
      redirect_uri: callbackUrl,
      scope: provider.scope ?? 'openid',
      code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state: federation.state,
      nonce: federation.nonce,
    })
    .toString();
}

/** Why a federated sign-in did not give a user; the page shows `message`, the log gets `reason` (no identifiers). */
export class FederationError extends Error {
  constructor(
    message: string,
    readonly reason: string,
    readonly pending?: PendingAuthorization,
  ) {
    super(message);
  }
}

/**
 * The provider sent the user back (`currentUrl` is the callback with its query) to the browser that holds
 * `pending` (its cookie): the code is exchanged and the id_token checked by openid-client (signature, issuer,
 * audience, expiry, nonce, state, PKCE). The provider's `iss` and `sub` must be linked to an account here, and
 * the account must be usable: nobody gets an account just by existing at a provider.
 */
export async function finishFederatedSignIn(auth: AuthServer, pending: PendingAuthorization | undefined, currentUrl: URL): Promise<string> {
  const federation = pending?.progress.federation;
  if (!pending || !federation || currentUrl.searchParams.get('state') !== federation.state) {
    throw new FederationError('This sign-in has expired or was started in another browser. Start again from the app.', 'unknown state');
  }
  const provider = auth.identityProviders.find(federation.provider);
  if (!provider) throw new FederationError('The identity provider is no longer configured.', 'provider removed', pending);

  let claims: oidc.IDToken | undefined;
  try {
    const configuration = await auth.identityProviders.configuration(provider);
    const tokens = await oidc.authorizationCodeGrant(configuration, currentUrl, {
      pkceCodeVerifier: federation.codeVerifier,
      expectedState: federation.state,
      expectedNonce: federation.nonce,
      idTokenExpected: true,
    });
    claims = tokens.claims();
  } catch (error) {
    const reason = error instanceof Error ? `${error.name}: ${'code' in error ? String(error.code) : ''} ${error.message}` : 'unknown failure';
    throw new FederationError(`Signing in with ${provider.name} did not succeed. Try again.`, reason, pending);
  }
  if (!claims?.sub) throw new FederationError(`Signing in with ${provider.name} did not succeed. Try again.`, 'no subject', pending);
  const user = await auth.users.findByIdentity(claims.iss, claims.sub);
  if (!user || !(await isUsable(auth.db, user.id))) {
    throw new FederationError(
      `Your ${provider.name} account is not linked to an active account here. Ask your organization's local registration authority.`,
      user ? 'account not usable' : 'identity not linked',
      pending,
    );
  }
  return user.id;
}
