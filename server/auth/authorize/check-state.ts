import { OAuthError } from '../oauth-error.js';
import type { AuthorizationDraft } from './authorization-request.js';

/** SMART App Launch requires `state`: the app's defence against forged redirects. */
export function checkState(draft: AuthorizationDraft): void {
  const state = draft.params.state;
  if (!state) throw new OAuthError('invalid_request', 'state is required');
  draft.request.state = state;
}
