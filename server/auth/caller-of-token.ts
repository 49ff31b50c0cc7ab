import type { PractitionerRole } from 'fhir/r4';
import type { Caller } from '../access/caller.js';
import { ROLE_SYSTEM, roleRights } from '../access/roles.js';
import { parseResourceScope, splitScopes } from '../access/scopes.js';
import { idOfReference } from '../fhir/reference.js';
import type { Database } from '../store/database.js';
import type { AuthServer } from './auth-server.js';
import { readPractitionerRole } from './practitioner-role.js';
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

/** A backend client acting for itself (and its registered organization, if any) with `scope`. */
export function clientCaller(client: { clientId: string; scope: string; organizationId?: string }): Caller {
  return { kind: 'system', clientId: client.clientId, scopes: scopesOf(client.scope), otherScopes: otherScopesOf(client.scope), organization: client.organizationId };
}

/** A signed-in user acting through `clientId` with `scope`: rights are the scopes within the user's roles. */
export async function userCaller(
  db: Database,
  user: { clientId: string; userId: string; scope: string; practitionerRoleId?: string; context?: { patient?: string } },
): Promise<Caller> {
  const role = await readPractitionerRole(db, user.practitionerRoleId);
  return {
    kind: 'user',
    clientId: user.clientId,
    userId: user.userId,
    scopes: scopesOf(user.scope),
    otherScopes: otherScopesOf(user.scope),
    role: roleRights(rolesOf(role)),
    patient: user.context?.patient,
    organization: idOfReference(role?.organization?.reference, 'Organization'),
    practitioner: idOfReference(role?.practitioner?.reference, 'Practitioner'),
    practitionerRole: role?.id,
  };
}


function scopesOf(scope: string) {
  return splitScopes(scope).flatMap((text) => parseResourceScope(text) ?? []);
}

function otherScopesOf(scope: string): string[] {
  return splitScopes(scope).filter((text) => !parseResourceScope(text));
}

/** The role codes of a PractitionerRole (ours only: other code systems grant nothing). */
function rolesOf(role: PractitionerRole | undefined): string[] {
  return (role?.code ?? []).flatMap((concept) => concept.coding ?? []).filter((coding) => coding.system === ROLE_SYSTEM && coding.code).map((coding) => coding.code!);
}
