import { NOTICE_KIND_SYSTEM } from '../conformance/notice-vocabulary.js';
import type { Caller } from './caller.js';
import type { Permission, ResourceScope } from './scopes.js';

/**
 * Service notices (server/conformance/notice-vocabulary.ts) are for everyone who uses the service: any caller with
 * a valid access token may read and search them, whatever its scopes and role (a privacy auditor, a registration
 * authority, a backend client with CarePlan scopes only). They name no patient and carry no one's health
 * information; what they say is also on the sign-in page. Other Communications keep the usual rules, so the
 * opening is a restriction of its own, as a scope's query is: `category=<notice-kind system>|`, any code of that
 * system. Searches and reads by id apply it row by row (server/access/search-access.ts, server/rest/reachable.ts),
 * so a caller without other rights on Communication sees the notices and nothing else (another Communication by
 * id is a 404). Writes keep the usual rules, and the notice write rule (server/notices/) allows administrators only.
 */
export function noticeReadScope(caller: Caller, resourceType: string, permission: Permission): ResourceScope | undefined {
  if (resourceType !== 'Communication' || (permission !== 'r' && permission !== 's')) return undefined;
  return {
    context: caller.kind === 'system' ? 'system' : 'user',
    resourceType: 'Communication',
    permissions: ['r', 's'],
    query: { category: [`${NOTICE_KIND_SYSTEM}|`] },
    text: `service notices (Communication?category=${NOTICE_KIND_SYSTEM}|), open to every access token`,
  };
}

/**
 * Who may post, change or remove a service notice: the server itself (AUTH_DISABLED, `npm run import`), a user whose
 * role is administrator, or a backend client whose token carries the `admin` scope (the operator's own automation,
 * as for the admin API: server/auth/admin/admin-access.ts). The administrator role's rights on every type
 * (roles.ts) are necessary, not sufficient: contributors and coordinators write Communications too.
 */
export function mayPostServiceNotices(caller: Caller): boolean {
  if (caller.kind === 'unrestricted') return true;
  if (caller.kind === 'user') return caller.role?.roles.includes('administrator') ?? false;
  return caller.kind === 'system' && (caller.otherScopes ?? []).includes('admin');
}
