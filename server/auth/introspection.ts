import type { AuthServer } from './auth-server.js';
import { OAuthError } from './oauth-error.js';
import { secretHash } from './secrets.js';
import { authenticateClient, type ClientCredentials } from './token/authenticate-client.js';
import { findAccessToken, type LaunchContext } from './tokens.js';

/** RFC 7662 §2.2, with SMART's additions (patient, fhirUser context). */
export interface IntrospectionResponse extends LaunchContext {
  active: boolean;
  scope?: string;
  client_id?: string;
  sub?: string;
  exp?: number;
  iat?: number;
  token_type?: 'Bearer';
}

/**
 * `POST /auth/introspect` (RFC 7662): a resource server or a confidential client asks whether an access token
 * works now. Only clients that authenticate with a secret or a key may ask; public clients could probe stolen
 * tokens with it. Everything that stops a token on the FHIR API (revocation, deactivated user, role, organization
 * or client) makes it inactive here, and an inactive token says nothing else.
 */
export async function introspectionEndpoint(auth: AuthServer, request: ClientCredentials): Promise<IntrospectionResponse> {
  const caller = await authenticateClient(auth.db, auth.clients, request);
  if (caller.authMethod === 'none') throw new OAuthError('invalid_client', 'introspection is for clients that authenticate');
  const token = request.form.token;
  if (!token) throw new OAuthError('invalid_request', 'token is required');
  const record = await findAccessToken(auth.db, token);
  if (!record || !record.clientActive || !record.userActive) return { active: false };
  const issued = await auth.db.query<{ created_at: Date }>('SELECT created_at FROM auth_token WHERE token_hash = $1', [secretHash(token)]);
  return {
    active: true,
    scope: record.scope,
    client_id: record.clientId,
    sub: record.userId,
    exp: Math.floor(record.expiresAt.getTime() / 1000),
    iat: Math.floor(issued[0].created_at.getTime() / 1000),
    token_type: 'Bearer',
    ...record.context,
  };
}
