import type { AuthServer } from '../auth-server.js';
import { OAuthError } from '../oauth-error.js';
import { authenticateClient, type ClientCredentials } from './authenticate-client.js';
import { clientCredentials } from './client-credentials.js';
import type { TokenResponse } from './token-response.js';

/** `POST /auth/token`: the grant type picks the pipeline; every pipeline starts by authenticating the client. */
export async function tokenEndpoint(auth: AuthServer, request: ClientCredentials): Promise<TokenResponse> {
  const grantType = request.form.grant_type;
  if (!grantType) throw new OAuthError('invalid_request', 'grant_type is required');
  switch (grantType) {
    case 'client_credentials': {
      const client = await authenticateClient(auth.db, auth.clients, request);
      return clientCredentials(auth.db, client, request.form);
    }
    default:
      throw new OAuthError('unsupported_grant_type', `grant_type ${grantType} is not supported`);
  }
}
