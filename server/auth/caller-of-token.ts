import type { Caller } from '../access/caller.js';
import { clientCaller, userCallerWithRole } from '../access/callers.js';
import type { Database } from '../store/database.js';
import type { AuthServer } from './auth-server.js';
import { readPractitionerRole } from '../store/auth-activity.js';
import { secretHash } from './secrets.js';
import { findAccessTokenByHash } from './tokens.js';

/**
 * The caller an access token speaks for, or undefined when the token is unknown, expired, revoked, or anyone
 * behind it (user, role, organization, client) has been deactivated since it was issued. Found in the process's
 * cache when it can be (caller-cache.ts: no round trip), looked up in the database otherwise.
 */
export async function callerOfToken(auth: AuthServer, token: string): Promise<Caller | undefined> {
  const tokenHash = secretHash(token);
  const cached = auth.callers.find(tokenHash);
  if (cached) return cached;
  const started = auth.callers.start();
  const record = await findAccessTokenByHash(auth.db, tokenHash);
  if (!record || !record.clientActive || !record.userActive) return undefined;
  const caller = record.userId
    ? await userCaller(auth.db, { ...record, userId: record.userId })
    : clientCaller({ clientId: record.clientId, scope: record.scope, organizationId: record.clientOrganizationId });
  auth.callers.store(tokenHash, caller, record.expiresInMs, started);
  return caller;
}

/** A signed-in user acting through `clientId` with `scope`: rights are the scopes within the user's roles. */
export async function userCaller(
  db: Database,
  user: { clientId: string; userId: string; scope: string; practitionerRoleId?: string; context?: { patient?: string } },
): Promise<Caller> {
  return userCallerWithRole(user, await readPractitionerRole(db, user.practitionerRoleId));
}
