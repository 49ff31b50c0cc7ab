import { OAuthError } from '../oauth-error.js';
import type { AuthorizationDraft } from './authorization-request.js';

/**
 * The redirect URI is one the client registered, compared as exact strings (RFC 9700 §4.1.3: no prefix or pattern
 * matching, which let codes be stolen). Omitted, it may be inferred only when the client registered exactly one.
 * Until this check passes, errors are shown to the user, never sent to an unchecked address.
 */
export function checkRedirectUri(draft: AuthorizationDraft): void {
  const registered = draft.client!.redirectUris;
  const given = draft.params.redirect_uri;
  if (given === undefined) {
    if (registered.length !== 1) throw new OAuthError('invalid_request', 'redirect_uri is required: the client registered several');
    draft.request.redirectUri = registered[0];
    return;
  }
  if (!registered.includes(given)) throw new OAuthError('invalid_request', 'redirect_uri is not registered for this client');
  draft.request.redirectUri = given;
}
