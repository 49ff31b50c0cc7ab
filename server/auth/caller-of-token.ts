import type { PractitionerRole } from 'fhir/r4';
import type { Caller } from '../access/caller.js';
import { ROLE_SYSTEM, roleRights } from '../access/roles.js';
import { parseResourceScope, splitScopes } from '../access/scopes.js';
import type { AuthServer } from './auth-server.js';
import { findAccessToken } from './tokens.js';

/**
 * The caller an access token speaks for, or undefined when the token is unknown, expired, revoked, or anyone
 * behind it (user, role, organization, client) has been deactivated since it was issued.
 */
export async function callerOfToken(auth: AuthServer, token: string): Promise<Caller | undefined> {
  const record = await findAccessToken(auth.db, token);
  if (!record || !record.clientActive || !record.userActive) return undefined;
  const scopes = splitScopes(record.scope).flatMap((text) => parseResourceScope(text) ?? []);
  if (!record.userId) return { kind: 'system', clientId: record.clientId, scopes };
  return {
    kind: 'user',
    clientId: record.clientId,
    userId: record.userId,
    scopes,
    role: roleRights(await rolesOf(auth, record.practitionerRoleId)),
    patient: record.context.patient,
  };
}

async function rolesOf(auth: AuthServer, practitionerRoleId: string | undefined): Promise<string[]> {
  if (!practitionerRoleId) return [];
  const rows = await auth.db.query<{ content: PractitionerRole }>(
    `SELECT content FROM resource WHERE resource_type = 'PractitionerRole' AND id = $1 AND NOT deleted`,
    [practitionerRoleId],
  );
  return (rows[0]?.content.code ?? []).flatMap((concept) => concept.coding ?? []).filter((coding) => coding.system === ROLE_SYSTEM && coding.code).map((coding) => coding.code!);
}
