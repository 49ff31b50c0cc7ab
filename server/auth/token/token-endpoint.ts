import type { AuthServer } from '../auth-server.js';
import { OAuthError } from '../oauth-error.js';
import { authenticateClient, type ClientCredentials } from './authenticate-client.js';
import { authorizationCode } from './authorization-code.js';
import { clientCredentials } from './client-credentials.js';
import { refreshToken } from './refresh-token.js';
import type { TokenResponse } from './token-response.js';

/** `POST /auth/token`: the grant type picks the pipeline; every pipeline starts by authenticating the client. */
export async function tokenEndpoint(auth: AuthServer, request: ClientCredentials & { root: string }): Promise<TokenResponse> {
  const grantType = request.form.grant_type;
  if (!grantType) throw new OAuthError('invalid_request', 'grant_type is required');
  if (!['client_credentials', 'authorization_code', 'refresh_token'].includes(grantType)) {
    throw new OAuthError('unsupported_grant_type', `grant_type ${grantType} is not supported`);
  }
  const client = await authenticateClient(auth.db, auth.clients, request);
  switch (grantType) {
    case 'client_credentials':
      return clientCredentials(auth.db, client, request.form);
    case 'authorization_code':
      return authorizationCode(auth, client, request.form, request.root);
    default:
      return refreshToken(auth, client, request.form, request.root);
  }
}
