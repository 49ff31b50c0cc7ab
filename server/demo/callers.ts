import { clientCaller } from '../access/callers.js';
import { userCaller } from '../auth/caller-of-token.js';
import type { User } from '../auth/users.js';
import type { FhirContext } from '../rest/types.js';
import type { Database } from '../store/database.js';
import { actor, type Actor } from './requests.js';
import { DEMO_APP, LOCAL_ADMIN } from './world.js';

/** What the world's people act with: the scope the token helper asks for by default, through the demo app. */
export const USER_SCOPE = 'openid fhirUser user/*.cruds';

/**
 * A person of the world as a token of theirs would make them (server/auth/caller-of-token.ts builds the same
 * caller from the same account, role and scope): their organization, practitioner and role rights.
 */
export async function userActor(db: Database, context: FhirContext, baseUrl: string, user: User): Promise<Actor> {
  const caller = await userCaller(db, { clientId: DEMO_APP, userId: user.id, scope: USER_SCOPE, practitionerRoleId: user.practitionerRoleId });
  return actor(context, baseUrl, caller, user.username ?? user.id);
}

/** The operator's backend client, as a client_credentials token for `system/*.cruds` makes it. */
export function operatorActor(context: FhirContext, baseUrl: string): Actor {
  return actor(context, baseUrl, clientCaller({ clientId: LOCAL_ADMIN, scope: 'system/*.cruds' }), LOCAL_ADMIN);
}
