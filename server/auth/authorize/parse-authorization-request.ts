import type { AuthServer } from '../auth-server.js';
import { OAuthError } from '../oauth-error.js';
import type { AuthorizationDraft, AuthorizationParameters, AuthorizationRequest } from './authorization-request.js';
import { checkAud } from './check-aud.js';
import { checkClient } from './check-client.js';
import { checkLaunch } from './check-launch.js';
import { checkPkce } from './check-pkce.js';
import { checkPrompt } from './check-prompt.js';
import { checkRedirectUri } from './check-redirect-uri.js';
import { checkResponseType } from './check-response-type.js';
import { checkScope } from './check-scope.js';
import { checkState } from './check-state.js';

/** An error to send back to the client at its checked redirect URI, rather than show to the user. */
export class RedirectableError extends OAuthError {
  constructor(
    readonly redirectUri: string,
    readonly state: string | undefined,
    cause: OAuthError,
  ) {
    super(cause.error, cause.description);
  }

  location(): string {
    return withParameters(this.redirectUri, { error: this.error, error_description: this.description, state: this.state });
  }
}

/** `uri` with `parameters` added to its query, keeping any query it already has (RFC 6749 §3.1.2). */
export function withParameters(uri: string, parameters: Record<string, string | undefined>): string {
  const url = new URL(uri);
  for (const [name, value] of Object.entries(parameters)) if (value !== undefined) url.searchParams.append(name, value);
  return url.toString();
}

/**
 * Checks an authorization request, one rule at a time. The client and its redirect URI come first: until both
 * are known good, an error is an OAuthError for the user's eyes; after, a RedirectableError for the client.
 */
export async function parseAuthorizationRequest(auth: AuthServer, params: AuthorizationParameters, fhirBase: string): Promise<AuthorizationRequest> {
  const draft: AuthorizationDraft = { params, request: {} };
  await checkClient(draft, auth.clients);
  checkRedirectUri(draft);
  try {
    checkResponseType(draft);
    checkState(draft);
    checkPkce(draft);
    checkAud(draft, fhirBase);
    checkScope(draft);
    await checkLaunch(draft, auth.db);
    checkPrompt(draft);
  } catch (error) {
    if (error instanceof OAuthError) throw new RedirectableError(draft.request.redirectUri!, params.state, error);
    throw error;
  }
  return draft.request as AuthorizationRequest;
}
