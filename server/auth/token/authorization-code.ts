import type { AuthServer } from '../auth-server.js';
import type { Client } from '../clients.js';
import { OAuthError } from '../oauth-error.js';
import { secretHash } from '../secrets.js';
import { type LaunchContext, revokeGrant } from '../tokens.js';
import { userUsable } from '../users.js';
import { checkCodeVerifier } from './check-code-verifier.js';
import type { TokenResponse } from './token-response.js';
import { OFFLINE_SECONDS, userTokens } from './user-tokens.js';

interface CodeRow {
  client_id: string;
  user_id: string;
  session_hash: string | null;
  redirect_uri: string;
  code_challenge: string;
  scope: string;
  context: LaunchContext;
  nonce: string | null;
  auth_time: Date;
  grant_id: string;
  practitioner_role_id: string | null;
  user_usable: boolean;
  session_seconds: number | null;
}

/**
 * `grant_type=authorization_code` (RFC 6749 §4.1.3 with PKCE): the code is used up by the first attempt, whatever
 * its outcome; a second use is a sign it was stolen, so the grant's tokens are revoked (RFC 6749 §4.1.2).
 */
export async function authorizationCode(auth: AuthServer, client: Client, form: Record<string, string>, root: string): Promise<TokenResponse> {
  if (client.kind === 'backend') throw new OAuthError('unauthorized_client', 'a backend service client cannot redeem authorization codes');
  if (!form.code) throw new OAuthError('invalid_request', 'code is required');
  if (!form.redirect_uri) throw new OAuthError('invalid_request', 'redirect_uri is required');

  const rows = await auth.db.query<CodeRow>(
    `UPDATE auth_code c SET used_at = now()
     FROM auth_user u
     WHERE c.code_hash = $1 AND c.used_at IS NULL AND c.expires_at > now() AND u.id = c.user_id
     RETURNING c.client_id, c.user_id, c.session_hash, c.redirect_uri, c.code_challenge, c.scope, c.context, c.nonce, c.auth_time,
       c.grant_id, u.practitioner_role_id, ${userUsable('u')} AS user_usable,
       (SELECT extract(epoch FROM s.expires_at - now())::integer FROM auth_session s
        WHERE s.id_hash = c.session_hash AND s.ended_at IS NULL AND s.expires_at > now()) AS session_seconds`,
    [secretHash(form.code)],
  );
  const code = rows[0];
  if (!code) {
    const reused = await auth.db.query<{ grant_id: string }>('SELECT grant_id FROM auth_code WHERE code_hash = $1 AND used_at IS NOT NULL', [secretHash(form.code)]);
    if (reused.length) await revokeGrant(auth.db, reused[0].grant_id);
    throw new OAuthError('invalid_grant', 'the code is unknown, expired or already used');
  }
  if (code.client_id !== client.clientId) throw new OAuthError('invalid_grant', 'the code was issued to another client');
  if (code.redirect_uri !== form.redirect_uri) throw new OAuthError('invalid_grant', 'redirect_uri differs from the authorization request');
  checkCodeVerifier(form.code_verifier, code.code_challenge);
  if (!code.user_usable) throw new OAuthError('invalid_grant', 'the account cannot be used');

  const online = code.scope.split(' ').includes('online_access');
  if (online && code.session_seconds === null) throw new OAuthError('invalid_grant', 'online_access was asked for, but the sign-in session has ended');
  // online_access lives as long as the browser session; offline_access outlives it.
  const refreshSeconds = online ? code.session_seconds! : OFFLINE_SECONDS;
  return userTokens(
    auth,
    {
      grantId: code.grant_id,
      clientId: client.clientId,
      userId: code.user_id,
      sessionHash: online ? (code.session_hash ?? undefined) : undefined,
      scope: code.scope,
      context: code.context,
      authTime: code.auth_time,
      practitionerRoleId: code.practitioner_role_id ?? undefined,
    },
    { root, refreshSeconds, nonce: code.nonce ?? undefined, withIdToken: true },
  );
}
