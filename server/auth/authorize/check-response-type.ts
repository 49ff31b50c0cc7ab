import { OAuthError } from '../oauth-error.js';
import type { AuthorizationDraft } from './authorization-request.js';

/** Only the authorization code flow: the implicit flow leaks tokens in URLs (RFC 9700 §2.1.2). */
export function checkResponseType(draft: AuthorizationDraft): void {
  const responseType = draft.params.response_type;
  if (responseType === undefined) throw new OAuthError('invalid_request', 'response_type is required (code)');
  if (responseType !== 'code') throw new OAuthError('unsupported_response_type', 'only response_type=code is supported');
}
