import { OAuthError } from '../oauth-error.js';
import type { AuthorizationDraft } from './authorization-request.js';

/**
 * `aud` names the FHIR server the app means to use (SMART App Launch 2): a token is never issued for a server the
 * app did not name, so a malicious server cannot relay an app's authorization to this one.
 */
export function checkAud(draft: AuthorizationDraft, fhirBase: string): void {
  const aud = draft.params.aud;
  if (!aud) throw new OAuthError('invalid_request', `aud is required: this server's FHIR base URL, ${fhirBase}`);
  if (aud.replace(/\/+$/, '') !== fhirBase) throw new OAuthError('invalid_request', `aud must be this server's FHIR base URL, ${fhirBase}`);
}
