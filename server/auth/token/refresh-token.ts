import { grantable, splitScopes } from '../../access/scopes.js';
import type { AuthServer } from '../auth-server.js';
import type { Database } from '../../store/database.js';
import type { Client } from '../clients.js';
import { OAuthError } from '../oauth-error.js';
import { secretHash } from '../secrets.js';
import { type LaunchContext, revokeGrant } from '../tokens.js';
import { userUsable } from '../users.js';
import type { TokenResponse } from './token-response.js';
import { userTokens } from './user-tokens.js';

interface RefreshRow {
  grant_id: string;
  client_id: string;
  user_id: string;
  session_hash: string | null;
  scope: string;
  context: LaunchContext;
  auth_time: Date | null;
  seconds_left: number;
  practitioner_role_id: string | null;
  user_usable: boolean;
  session_live: boolean;
}

/**
 * `grant_type=refresh_token` (RFC 6749 §6) with rotation: each refresh token works once and is replaced. A used
 * one presented again means two parties hold it, so the whole grant is revoked (RFC 9700 §4.14.2). The access
 * token's scope may shrink, never grow; the new refresh token ends when the grant does, however often it is rotated.
 */
export async function refreshToken(auth: AuthServer, client: Client, form: Record<string, string>, root: string): Promise<TokenResponse> {
  if (!form.refresh_token) throw new OAuthError('invalid_request', 'refresh_token is required');
  const hash = secretHash(form.refresh_token);
  const rows = await auth.db.query<RefreshRow & { rotated: boolean; live: boolean }>(
    `SELECT t.grant_id, t.client_id, t.user_id, t.session_hash, t.scope, t.context, t.auth_time,
            extract(epoch FROM t.expires_at - now())::integer AS seconds_left,
            t.rotated_at IS NOT NULL AS rotated, t.revoked_at IS NULL AND t.expires_at > now() AS live,
            u.practitioner_role_id, ${userUsable('u')} AS user_usable,
            t.session_hash IS NULL OR EXISTS (SELECT 1 FROM auth_session s WHERE s.id_hash = t.session_hash AND s.ended_at IS NULL AND s.expires_at > now()) AS session_live
     FROM auth_token t JOIN auth_user u ON u.id = t.user_id
     WHERE t.token_hash = $1 AND t.kind = 'refresh'`,
    [hash],
  );
  const token = rows[0];
  if (!token || token.client_id !== client.clientId) throw new OAuthError('invalid_grant', 'the refresh token is unknown, expired or revoked');
  if (token.rotated) {
    await revokeGrant(auth.db, token.grant_id);
    throw new OAuthError('invalid_grant', 'the refresh token was already used; every token of this grant is now revoked');
  }
  if (!token.live || !token.session_live) throw new OAuthError('invalid_grant', 'the refresh token is unknown, expired or revoked');
  if (!token.user_usable) throw new OAuthError('invalid_grant', 'the account cannot be used');

  const granted = splitScopes(token.scope);
  let scope = token.scope;
  if (form.scope !== undefined) {
    const requested = splitScopes(form.scope);
    const within = grantable(requested, granted);
    const beyond = requested.filter((text) => !within.includes(text));
    if (beyond.length) throw new OAuthError('invalid_scope', `a refresh cannot add scopes not originally granted: ${beyond.join(' ')}`);
    scope = within.join(' ');
  }

  // Only one of two concurrent refreshes with the same token wins; the loser sees a reuse.
  const rotated = await auth.db.query("UPDATE auth_token SET rotated_at = now() WHERE token_hash = $1 AND rotated_at IS NULL AND revoked_at IS NULL RETURNING 1", [hash]);
  if (!rotated.length) {
    await revokeGrant(auth.db, token.grant_id);
    throw new OAuthError('invalid_grant', 'the refresh token was already used; every token of this grant is now revoked');
  }
  return userTokens(
    auth,
    {
      grantId: token.grant_id,
      clientId: client.clientId,
      userId: token.user_id,
      sessionHash: token.session_hash ?? undefined,
      scope,
      context: token.context,
      authTime: token.auth_time ?? undefined,
      practitionerRoleId: token.practitioner_role_id ?? undefined,
    },
    { root, refreshSeconds: token.seconds_left, refreshScope: token.scope, withIdToken: false },
  );
}

/** The client a refresh token was issued to, if the token exists. */
export async function clientOfRefreshToken(db: Database, token: string): Promise<string | undefined> {
  const rows = await db.query<{ client_id: string }>("SELECT client_id FROM auth_token WHERE token_hash = $1 AND kind = 'refresh'", [secretHash(token)]);
  return rows[0]?.client_id;
}
