import type { PractitionerRole } from 'fhir/r4';
import type { Database } from './database.js';

/**
 * Whether the parties an access token or a subscription speaks for are still active: the client (and its
 * registered organization), the user (and their PractitionerRole and its organization). The authorization server
 * asks it of every token it looks up (server/auth/tokens.ts) and the notifications of every subscription's owner
 * before a decision (server/notifications/access-check.ts): deactivating any of them stops both at once.
 */

/** SQL: the Organization named by `idColumn` is absent from the configuration (null) or active. */
export function organizationActive(idColumn: string): string {
  return `(${idColumn} IS NULL OR EXISTS (
    SELECT 1 FROM resource o WHERE o.resource_type = 'Organization' AND o.id = ${idColumn} AND NOT o.deleted
      AND coalesce((o.content->>'active')::boolean, true)))`;
}

/** SQL: the PractitionerRole named by `idColumn` exists, is active, and so is its organization. */
export function roleActive(idColumn: string): string {
  return `EXISTS (
    SELECT 1 FROM resource pr WHERE pr.resource_type = 'PractitionerRole' AND pr.id = ${idColumn} AND NOT pr.deleted
      AND coalesce((pr.content->>'active')::boolean, true)
      AND ${organizationActive(`nullif(split_part(pr.content->'organization'->>'reference', '/', 2), '')`)})`;
}

/** SQL over `auth_client c`: the client is registered and active, and so is its organization, if it has one. */
export const CLIENT_ACTIVE = `coalesce(c.active, false) AND ${organizationActive('c.organization_id')}`;

/** SQL over `auth_user u`: the account is active and so are its PractitionerRole and organization. */
export const USER_ACTIVE = `coalesce(u.active, false) AND ${roleActive('u.practitioner_role_id')}`;

/** A client and, optionally, a user as they stand now. */
export interface PartiesState {
  clientActive: boolean;
  /** True when no user was asked about. */
  userActive: boolean;
  clientOrganizationId?: string;
  practitionerRoleId?: string;
}

/** The state of `clientId` and `userId` (when given), in one statement. */
export async function partiesState(db: Database, clientId: string, userId?: string): Promise<PartiesState> {
  const [row] = await db.query<{ client_active: boolean; user_active: boolean; organization_id: string | null; practitioner_role_id: string | null }>(
    `SELECT ${CLIENT_ACTIVE} AS client_active,
            $2::text IS NULL OR (${USER_ACTIVE}) AS user_active,
            c.organization_id, u.practitioner_role_id
     FROM (SELECT $1::text AS client_id, $2::text AS user_id) asked
     LEFT JOIN auth_client c ON c.client_id = asked.client_id
     LEFT JOIN auth_user u ON u.id = asked.user_id`,
    [clientId, userId ?? null],
    { prepared: true },
  );
  return {
    clientActive: row.client_active,
    userActive: row.user_active,
    clientOrganizationId: row.organization_id ?? undefined,
    practitionerRoleId: row.practitioner_role_id ?? undefined,
  };
}

/** A user's current PractitionerRole (their Practitioner, organization and role codes), if it exists. */
export async function readPractitionerRole(db: Database, id: string | undefined): Promise<PractitionerRole | undefined> {
  if (!id) return undefined;
  const rows = await db.query<{ content: PractitionerRole }>(`SELECT content FROM resource WHERE resource_type = 'PractitionerRole' AND id = $1 AND NOT deleted`, [id]);
  return rows[0]?.content;
}

/** Whether the Organization `id` exists, is not deleted, and is active (R4: absent means active). */
export async function organizationIsActive(db: Database, id: string): Promise<boolean> {
  const [row] = await db.query<{ active: boolean }>(`SELECT ${organizationActive('$1::text')} AS active`, [id], { prepared: true });
  return row.active;
}
