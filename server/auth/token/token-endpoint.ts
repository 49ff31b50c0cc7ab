import type { AuthServer } from '../auth-server.js';
import { OAuthError } from '../oauth-error.js';
import { authenticateClient, type ClientCredentials } from './authenticate-client.js';
import { authorizationCode } from './authorization-code.js';
import { clientCredentials } from './client-credentials.js';
import { clientOfRefreshToken, refreshToken } from './refresh-token.js';
import type { TokenResponse } from './token-response.js';

/** `POST /auth/token`: the grant type picks the pipeline; every pipeline starts by authenticating the client. */
export async function tokenEndpoint(auth: AuthServer, request: ClientCredentials & { root: string }): Promise<TokenResponse> {
  const grantType = request.form.grant_type;
  if (!grantType) throw new OAuthError('invalid_request', 'grant_type is required');
  if (!['client_credentials', 'authorization_code', 'refresh_token'].includes(grantType)) {
    throw new OAuthError('unsupported_grant_type', `grant_type ${grantType} is not supported`);
  }
  const client = await authenticateClient(auth.db, auth.clients, await withImpliedClientId(auth, request));
  switch (grantType) {
    case 'client_credentials':
      return clientCredentials(auth.db, client, request.form);
    case 'authorization_code':
      return authorizationCode(auth, client, request.form, request.root);
    default:
      return refreshToken(auth, client, request.form, request.root);
  }
}

/**
 * RFC 6749 §6 does not ask a public client to name itself when refreshing (only `authorization_code` does,
 * §3.2.1), and SMART clients such as fhirclient do not: the refresh token's own client is then the one that must
 * be public. A confidential client still has to authenticate.
 */
async function withImpliedClientId(auth: AuthServer, request: ClientCredentials): Promise<ClientCredentials> {
  const { form } = request;
  const credentials = form.client_id ?? form.client_secret ?? form.client_assertion ?? request.authorization;
  if (form.grant_type !== 'refresh_token' || credentials !== undefined || !form.refresh_token) return request;
  const clientId = await clientOfRefreshToken(auth.db, form.refresh_token);
  return clientId ? { ...request, form: { ...form, client_id: clientId } } : request;
}
