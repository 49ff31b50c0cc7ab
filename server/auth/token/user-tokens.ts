import { splitScopes } from '../../access/scopes.js';
import type { AuthServer } from '../auth-server.js';
import { ACCESS_TOKEN_SECONDS, issueToken, type TokenGrant } from '../tokens.js';
import { idToken } from './id-token.js';
import type { TokenResponse } from './token-response.js';

/** `offline_access`: a refresh token lasts this long from the authorization, however often it is rotated. */
export const OFFLINE_SECONDS = 30 * 24 * 3600;

export interface UserGrant extends TokenGrant {
  userId: string;
  practitionerRoleId?: string;
}

/**
 * The tokens of a user's grant: an access token, a refresh token when `offline_access` or `online_access` was
 * granted (`refreshSeconds` left of its life), an id_token for `openid` with `fhirUser` or `profile`, and the
 * launch context. An `online_access` grant is bound to the browser session: signing out ends it.
 */
export async function userTokens(
  auth: AuthServer,
  grant: UserGrant,
  options: { root: string; refreshSeconds?: number; refreshScope?: string; nonce?: string; withIdToken: boolean },
): Promise<TokenResponse> {
  const scopes = splitScopes(grant.scope);
  const accessToken = await issueToken(auth.db, 'access', grant, ACCESS_TOKEN_SECONDS.user);
  const response: TokenResponse = { access_token: accessToken, token_type: 'Bearer', expires_in: ACCESS_TOKEN_SECONDS.user, scope: grant.scope, ...grant.context };

  // RFC 6749 §6: a rotated refresh token keeps the scope of the one it replaces, even when this access token's is narrower.
  const refreshScope = options.refreshScope ?? grant.scope;
  const refreshScopes = splitScopes(refreshScope);
  if (options.refreshSeconds !== undefined && options.refreshSeconds > 0 && (refreshScopes.includes('offline_access') || refreshScopes.includes('online_access'))) {
    response.refresh_token = await issueToken(auth.db, 'refresh', { ...grant, scope: refreshScope }, options.refreshSeconds);
  }
  if (options.withIdToken && scopes.includes('openid') && (scopes.includes('fhirUser') || scopes.includes('profile'))) {
    response.id_token = await idToken(auth, {
      root: options.root,
      userId: grant.userId,
      clientId: grant.clientId,
      nonce: options.nonce,
      authTime: grant.authTime,
      practitionerRoleId: grant.practitionerRoleId,
    });
  }
  return response;
}
