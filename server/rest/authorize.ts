import { auditorRestriction } from '../access/auditor-access.js';
import { consentGateFor, isConsentHeld } from '../access/consent-gate.js';
import { grantFor, requirePermission } from '../access/decide.js';
import { isGatedType } from '../consent/vocabulary.js';
import { rowAccess } from '../access/search-access.js';
import type { Permission } from '../access/scopes.js';
import { notFound } from '../fhir/outcome.js';
import { parseSearch } from '../search/query/parse.js';
import { consentWriteRefusal, restrictedRouteRefusal, scopeWriteRefusal, viewOnlyRefusal } from './refusals.js';
import type { Route } from './routes.js';
import type { FhirContext, FhirRequest, FhirResponse, RouteParams } from './types.js';

/**
 * The route's access rule for this caller, before the interaction runs. A restricted grant (a `patient/` scope,
 * a scope with a query) reaches only some rows: a read, update, patch or delete by id needs the resource to be
 * among them (otherwise it is not found, as if it did not exist), and what a create, update or patch writes must
 * be among them too, which `checkWritten` asks after the write, inside its transaction. Searches carry the
 * restriction in their SQL (server/access/search-access.ts). A partner held by consent (server/access/consent-gate.ts)
 * is restricted the same way on the plan's types, row by row, at the level the permission needs: a row it may see
 * but not modify is a 403, one it may not see a 404. What would have to search first (conditional interactions,
 * type and system history) is refused under a restricted grant: deny by default.
 *
 * Returns the permissions whose restriction the written resource must satisfy (empty when nothing is restricted).
 */
export async function authorize(route: Route, params: RouteParams, request: FhirRequest, context: FhirContext): Promise<Permission[]> {
  const { access } = route;
  if (access === 'public' || access === 'interaction') return [];
  const type = params.type ?? '*';
  if (!Array.isArray(access)) {
    requirePermission(request.caller, type, access.anyOf);
    return [];
  }
  // A partner's reach into a patient's plan depends on registrations and directives, row by row (server/consent).
  const held = (type === '*' || isGatedType(type)) && isConsentHeld(request.caller, context.options);
  const afterWrite: Permission[] = [];
  for (const permission of access) {
    const grant = grantFor(request.caller, type, permission);
    if (grant === 'all' && !held && auditorRestriction(request.caller, type) === undefined) continue;
    if (params.id !== undefined && (permission === 'r' || permission === 'u' || permission === 'd')) {
      if (!(await isReachable(type, params.id, permission, request, context))) {
        // Update may create a resource that does not exist (or was deleted); one that exists must be reachable.
        const current = await context.store.read(type, params.id);
        const exists = current.kind === 'found';
        if (current.kind === 'found' && permission !== 'r' && held && (await isReachable(type, params.id, 'r', request, context))) {
          throw viewOnlyRefusal(permission === 'd' ? 'delete' : request.method === 'PATCH' ? 'patch' : 'update', current.resource, request.body);
        }
        if (exists || permission !== 'u') throw notFound(`${type}/${params.id} is not known`);
      }
      if (permission === 'u') afterWrite.push('u');
      continue;
    }
    if (permission === 'c' && params.id === undefined && request.headers['if-none-exist'] === undefined) {
      afterWrite.push('c');
      continue;
    }
    throw restrictedRouteRefusal(route, type, permission, request.caller, { grant, held });
  }
  return afterWrite;
}

/**
 * After a create, update or patch under a restricted grant: the resource as written must be reachable by the
 * grant (in the launch patient's compartment, matching the scope's query). Throwing here rolls the write back.
 */
export async function checkWritten(type: string, response: FhirResponse, permissions: Permission[], request: FhirRequest, context: FhirContext): Promise<void> {
  const id = response.body?.id ?? /\/([A-Za-z0-9\-.]{1,64})\/_history\//.exec(response.headers?.Location ?? '')?.[1];
  for (const permission of permissions) {
    if (id && (await isReachable(type, id, permission, request, context))) continue;
    // Which rule keeps it out: the token's scopes (out of reach even without consent), else patient consent.
    if (!id || !(await isReachable(type, id, permission, request, context, false))) throw scopeWriteRefusal(type, grantFor(request.caller, type, permission));
    throw consentWriteRefusal(type, response.body, request.caller);
  }
}

/**
 * `type/id` is one of the rows the caller's `permission` grant reaches (asked of the database like a search); with
 * `consent` false, leaving patient consent aside (to tell which rule refused).
 */
async function isReachable(type: string, id: string, permission: Permission, request: FhirRequest, context: FhirContext, consent = true): Promise<boolean> {
  const reach = rowAccess(request.caller, [type], permission, context.registry, true);
  const query = parseSearch({ _id: [id] }, [type], context.registry, { defaultCount: 1, maxCount: 1 });
  query.access = reach.access;
  if (consent) query.consent = consentGateFor(request.caller, permission, context.options);
  query.total = 'none';
  const page = await context.store.search(query);
  return page.resources.length > 0;
}
