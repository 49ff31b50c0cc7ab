import { forbidden, grantFor, requirePermission } from '../access/decide.js';
import { rowAccess } from '../access/search-access.js';
import { type Permission, PERMISSION_VERBS } from '../access/scopes.js';
import { notFound } from '../fhir/outcome.js';
import { parseSearch } from '../search/query/parse.js';
import type { Route } from './routes.js';
import type { FhirContext, FhirRequest, FhirResponse, RouteParams } from './types.js';

/**
 * The route's access rule for this caller, before the interaction runs. A restricted grant (a `patient/` scope,
 * a scope with a query) reaches only some rows: a read, update, patch or delete by id needs the resource to be
 * among them (otherwise it is not found, as if it did not exist), and what a create, update or patch writes must
 * be among them too, which `checkWritten` asks after the write, inside its transaction. Searches carry the
 * restriction in their SQL (server/access/search-access.ts). What would have to search first (conditional
 * interactions, type and system history) is refused under a restricted grant: deny by default.
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
  const afterWrite: Permission[] = [];
  for (const permission of access) {
    const grant = grantFor(request.caller, type, permission);
    if (grant === 'all') continue;
    if (params.id !== undefined && (permission === 'r' || permission === 'u' || permission === 'd')) {
      // Update may create a resource that does not exist (or was deleted); one that exists must be reachable.
      const reachable = await isReachable(type, params.id, permission, request, context);
      if (!reachable && !(permission === 'u' && (await context.store.read(type, params.id)).kind !== 'found')) {
        throw notFound(`${type}/${params.id} is not known`);
      }
      if (permission === 'u') afterWrite.push('u');
      continue;
    }
    if (permission === 'c' && params.id === undefined && request.headers['if-none-exist'] === undefined) {
      afterWrite.push('c');
      continue;
    }
    throw forbidden(`your access to ${type} is restricted (a patient/ scope or a scope with a query): ${PERMISSION_VERBS[permission]} is not allowed that way`);
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
    if (!id || !(await isReachable(type, id, permission, request, context))) {
      throw forbidden(`your access to ${type} is restricted (a patient/ scope or a scope with a query), and the resource as written would be outside it`);
    }
  }
}

/** `type/id` is one of the rows the caller's `permission` grant reaches (asked of the database like a search). */
async function isReachable(type: string, id: string, permission: Permission, request: FhirRequest, context: FhirContext): Promise<boolean> {
  const reach = rowAccess(request.caller, [type], permission, context.registry, true);
  const query = parseSearch({ _id: [id] }, [type], context.registry, { defaultCount: 1, maxCount: 1 });
  query.access = reach.access;
  query.total = 'none';
  const page = await context.store.search(query);
  return page.resources.length > 0;
}
