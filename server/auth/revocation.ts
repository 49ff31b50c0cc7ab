import { accessChanged } from './auth-changes.js';
import type { AuthServer } from './auth-server.js';
import { OAuthError } from './oauth-error.js';
import { secretHash } from './secrets.js';
import { authenticateClient, type ClientCredentials } from './token/authenticate-client.js';
import { revokeGrant } from './tokens.js';

/**
 * `POST /auth/revoke` (RFC 7009): a client gives up a token it holds. A refresh token takes its whole grant with
 * it (§2.1); an access token goes alone. Unknown tokens, and other clients' tokens, change nothing and are
 * answered the same way, so the endpoint tells nobody which tokens exist.
 */
export async function revocationEndpoint(auth: AuthServer, request: ClientCredentials): Promise<void> {
  const client = await authenticateClient(auth.db, auth.clients, request);
  const token = request.form.token;
  if (!token) throw new OAuthError('invalid_request', 'token is required');
  const rows = await auth.db.query<{ kind: 'access' | 'refresh'; grant_id: string }>(
    'SELECT kind, grant_id FROM auth_token WHERE token_hash = $1 AND client_id = $2',
    [secretHash(token), client.clientId],
  );
  if (!rows.length) return;
  if (rows[0].kind === 'refresh') await revokeGrant(auth.db, rows[0].grant_id);
  else {
    await auth.db.query('UPDATE auth_token SET revoked_at = now() WHERE token_hash = $1 AND revoked_at IS NULL', [secretHash(token)]);
    await accessChanged(auth.db);
  }
}
