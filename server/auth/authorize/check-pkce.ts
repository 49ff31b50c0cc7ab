import { OAuthError } from '../oauth-error.js';
import type { AuthorizationDraft } from './authorization-request.js';

/** A base64url SHA-256 digest is 43 characters. */
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

/**
 * PKCE (RFC 7636) is required of every client, confidential ones too (SMART App Launch 2), and only with S256:
 * `plain` would hand the verifier to whoever sees the authorization request.
 */
export function checkPkce(draft: AuthorizationDraft): void {
  const { code_challenge: challenge, code_challenge_method: method } = draft.params;
  if (!challenge) throw new OAuthError('invalid_request', 'code_challenge is required (PKCE with S256)');
  if (method !== 'S256') throw new OAuthError('invalid_request', 'code_challenge_method must be S256');
  if (!S256_CHALLENGE.test(challenge)) throw new OAuthError('invalid_request', 'code_challenge must be a base64url SHA-256 digest (43 characters)');
  draft.request.codeChallenge = challenge;
}
