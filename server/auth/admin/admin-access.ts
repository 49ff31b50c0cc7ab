import type { Caller } from '../../access/caller.js';

/**
 * Who may use the admin API: a token carrying the scope (`admin`; `ehr-launch` for launch contexts, which `admin`
 * covers too), held by a backend client registered for it or by a user whose role is administrator. Returns the
 * HTTP status of a refusal, or undefined when allowed.
 */
export function adminRefusal(caller: Caller, scope: 'admin' | 'ehr-launch'): 401 | 403 | undefined {
  if (caller.kind === 'unrestricted') return undefined;
  if (caller.kind === 'anonymous') return 401;
  const scopes = caller.otherScopes ?? [];
  if (!scopes.includes(scope) && !scopes.includes('admin')) return 403;
  if (caller.kind === 'user' && !caller.role?.roles.includes('administrator')) return 403;
  return undefined;
}
