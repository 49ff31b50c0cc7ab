import { grantable, parseResourceScope, splitScopes } from '../../access/scopes.js';
import { OAuthError } from '../oauth-error.js';
import type { AuthorizationDraft } from './authorization-request.js';

/**
 * The scopes to ask the user about: those requested that the client is registered for. `system/` scopes belong
 * to backend services, and unknown scopes are dropped (RFC 6749 §3.3: the token response says what was granted).
 */
export function checkScope(draft: AuthorizationDraft): void {
  const requested = splitScopes(draft.params.scope).filter((text) => parseResourceScope(text)?.context !== 'system');
  const scope = grantable(requested, splitScopes(draft.client!.scope));
  if (!scope.length) throw new OAuthError('invalid_scope', 'none of the requested scopes is registered for this client');
  draft.request.scope = scope;
}
