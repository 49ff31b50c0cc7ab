import { partiesState, readPractitionerRole } from '../store/auth-activity.js';
import type { Database } from '../store/database.js';
import type { Caller } from './caller.js';
import { clientCaller, userCallerWithRole } from './callers.js';

/** Who acts, as recorded when they asked: the client, the user if any, the token's scopes as written. */
export interface RecordedParties {
  clientId: string;
  userId?: string;
  scopes: readonly string[];
  /** The patient in context (SMART launch), for `patient/` scopes. */
  patient?: string;
}

/**
 * The caller `parties` are now, for work done later on their behalf (a subscription's notifications, a Bulk Data
 * export's job): the client, and the user when there is one, still active (the query the authorization server
 * asks of every token, server/store/auth-activity.ts), or undefined; the scopes as written, within the user's
 * current role; the organization, practitioner and role from the current registration and PractitionerRole, so
 * someone moved to another organization is decided as they now are.
 */
export async function currentCaller(db: Database, parties: RecordedParties): Promise<Caller | undefined> {
  const state = await partiesState(db, parties.clientId, parties.userId);
  if (!state.clientActive || !state.userActive) return undefined;
  const scope = parties.scopes.join(' ');
  if (parties.userId === undefined) return clientCaller({ clientId: parties.clientId, scope, organizationId: state.clientOrganizationId });
  const role = await readPractitionerRole(db, state.practitionerRoleId);
  return userCallerWithRole({ clientId: parties.clientId, userId: parties.userId, scope, context: { patient: parties.patient } }, role);
}
