import { CLIENT_ACTIVE, USER_ACTIVE } from '../store/auth-activity.js';
import type { Database } from '../store/database.js';
import { accessChanged } from './auth-changes.js';
import { randomSecret, secretHash } from './secrets.js';

/** What a SMART client learns with its token: the patient, encounter and resources the launch was about. */
export interface LaunchContext {
  patient?: string;
  encounter?: string;
  fhirContext?: { reference: string }[];
  need_patient_banner?: boolean;
}

export interface TokenGrant {
  grantId: string;
  clientId: string;
  userId?: string;
  sessionHash?: string;
  scope: string;
  context: LaunchContext;
  authTime?: Date;
}

/** An access token as the resource server sees it, with what decides whether it still works. */
export interface AccessTokenRecord extends TokenGrant {
  expiresAt: Date;
  /** How long until it expires, by the database's clock (which decided that it has not yet). */
  expiresInMs: number;
  /** The client is registered and active, and its organization (if any) is active. */
  clientActive: boolean;
  /** For a user's token: the account is active and so are its PractitionerRole and organization. */
  userActive: boolean;
  practitionerRoleId?: string;
  /** A backend client's registered organization. */
  clientOrganizationId?: string;
}

export const ACCESS_TOKEN_SECONDS = { user: 3600, backend: 300 };

/** Issues a token of `kind` for `grant`, stored as a hash; the caller gets the only copy of the secret. */
export async function issueToken(db: Database, kind: 'access' | 'refresh', grant: TokenGrant, lifetimeSeconds: number): Promise<string> {
  const token = randomSecret();
  await db.query(
    `INSERT INTO auth_token (token_hash, kind, grant_id, client_id, user_id, session_hash, scope, context, auth_time, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now() + make_interval(secs => $10))`,
    [secretHash(token), kind, grant.grantId, grant.clientId, grant.userId ?? null, grant.sessionHash ?? null, grant.scope, grant.context, grant.authTime ?? null, lifetimeSeconds],
  );
  return token;
}

/**
 * An unexpired, unrevoked access token and the state of everyone it speaks for, read in one statement: deactivating
 * an account, a role, an organization or a client stops its tokens at once. Requests find their caller in the
 * process's cache first (caller-cache.ts), which every such change empties (auth-changes.ts).
 */
export function findAccessToken(db: Database, token: string): Promise<AccessTokenRecord | undefined> {
  return findAccessTokenByHash(db, secretHash(token));
}

export async function findAccessTokenByHash(db: Database, tokenHash: string): Promise<AccessTokenRecord | undefined> {
  const rows = await db.query<{
    grant_id: string;
    client_id: string;
    user_id: string | null;
    session_hash: string | null;
    scope: string;
    context: LaunchContext;
    auth_time: Date | null;
    expires_at: Date;
    expires_in_ms: number;
    client_active: boolean;
    user_active: boolean;
    practitioner_role_id: string | null;
    organization_id: string | null;
  }>(
    `SELECT t.grant_id, t.client_id, t.user_id, t.session_hash, t.scope, t.context, t.auth_time, t.expires_at,
            (extract(epoch FROM t.expires_at - now()) * 1000)::float8 AS expires_in_ms,
            ${CLIENT_ACTIVE} AS client_active,
            t.user_id IS NULL OR (${USER_ACTIVE}) AS user_active,
            u.practitioner_role_id, c.organization_id
     FROM auth_token t
     LEFT JOIN auth_client c ON c.client_id = t.client_id
     LEFT JOIN auth_user u ON u.id = t.user_id
     WHERE t.token_hash = $1 AND t.kind = 'access' AND t.revoked_at IS NULL AND t.expires_at > now()
       AND (t.session_hash IS NULL OR EXISTS (
         SELECT 1 FROM auth_session s WHERE s.id_hash = t.session_hash AND s.ended_at IS NULL))`,
    [tokenHash],
    { prepared: true },
  );
  if (!rows.length) return undefined;
  const row = rows[0];
  return {
    grantId: row.grant_id,
    clientId: row.client_id,
    userId: row.user_id ?? undefined,
    sessionHash: row.session_hash ?? undefined,
    scope: row.scope,
    context: row.context,
    authTime: row.auth_time ?? undefined,
    expiresAt: row.expires_at,
    expiresInMs: row.expires_in_ms,
    clientActive: row.client_active,
    userActive: row.user_active,
    practitionerRoleId: row.practitioner_role_id ?? undefined,
    clientOrganizationId: row.organization_id ?? undefined,
  };
}

/** Revokes every token of a grant (a reused code or refresh token, a revocation request). */
export async function revokeGrant(db: Database, grantId: string): Promise<void> {
  await db.query('UPDATE auth_token SET revoked_at = now() WHERE grant_id = $1 AND revoked_at IS NULL', [grantId]);
  await accessChanged(db);
}
