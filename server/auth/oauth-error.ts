/**
 * An OAuth 2.0 error (RFC 6749 §5.2, RFC 6750 §3.1): the `error` code a client acts on and a description for
 * its developer. Never a stack trace, never whether an account or token exists beyond what the code says.
 */
export class OAuthError extends Error {
  constructor(
    readonly error:
      | 'invalid_request'
      | 'invalid_client'
      | 'invalid_grant'
      | 'unauthorized_client'
      | 'unsupported_grant_type'
      | 'invalid_scope'
      | 'access_denied'
      | 'unsupported_response_type'
      | 'server_error'
      | 'invalid_token'
      | 'insufficient_scope'
      | 'login_required'
      | 'interaction_required'
      | 'consent_required',
    readonly description: string,
    readonly status = error === 'invalid_client' || error === 'invalid_token' ? 401 : error === 'insufficient_scope' ? 403 : 400,
  ) {
    super(description);
  }

  body(): { error: string; error_description: string } {
    return { error: this.error, error_description: this.description };
  }
}

/**
 * An OAuthError the operator must hear of too, because its cause lies outside the request (a client's key set URL
 * that fails): `logged` goes to the server log as it is, so it holds ids, URLs and reasons only, never a secret,
 * a token or anything about a patient.
 */
export class LoggedOAuthError extends OAuthError {
  constructor(
    error: OAuthError['error'],
    description: string,
    readonly logged: { message: string; fields: Record<string, string> },
  ) {
    super(error, description);
  }
}
