import type { Caller } from '../../server/access/caller.js';
import { roleRights } from '../../server/access/roles.js';
import { parseResourceScope } from '../../server/access/scopes.js';

/**
 * A signed-in user as the access rules see one, without the token that would carry it: `user/*.cruds` scopes, so
 * that the role, the organization and consent are what decide.
 */
export function testUser(practitioner: string | undefined, organization: string | undefined, roles: string[] = ['contributor']): Caller {
  return {
    kind: 'user',
    clientId: 'app',
    userId: `user-${practitioner ?? 'none'}`,
    scopes: ['user/*.cruds'].map((text) => parseResourceScope(text)!),
    role: roleRights(roles),
    organization,
    practitioner,
  };
}
