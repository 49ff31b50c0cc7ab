import { forbidden, grantFor, requirePermission } from '../access/decide.js';
import { rowAccess } from '../access/search-access.js';
import { PERMISSION_VERBS } from '../access/scopes.js';
import { notFound } from '../fhir/outcome.js';
import { parseSearch } from '../search/query/parse.js';
import type { Route } from './routes.js';
import type { FhirContext, FhirRequest, RouteParams } from './types.js';

/**
 * The route's access rule for this caller, before the interaction runs. A restricted grant (a `patient/` scope,
 * a scope with a query) is honoured for reads by id: the resource must be among the rows the grant reaches,
 * or it is not found. Writes and history under a restricted grant are refused (deny by default) for now.
 */
export async function authorize(route: Route, params: RouteParams, request: FhirRequest, context: FhirContext): Promise<void> {
  const { access } = route;
  if (access === 'public' || access === 'interaction') return;
  const type = params.type ?? '*';
  if (!Array.isArray(access)) {
    requirePermission(request.caller, type, access.anyOf);
    return;
  }
  for (const permission of access) {
    const grant = grantFor(request.caller, type, permission);
    if (grant === 'all') continue;
    if (permission === 'r' && params.id !== undefined) {
      await assertReachable(type, params.id, request, context);
      continue;
    }
    throw forbidden(`your access to ${type} is restricted (a patient/ scope or a scope with a query): ${PERMISSION_VERBS[permission]} is not allowed that way`);
  }
}

/** `type/id` is one of the rows the caller's read grant reaches (asked of the database like a search). */
async function assertReachable(type: string, id: string, request: FhirRequest, context: FhirContext): Promise<void> {
  const reach = rowAccess(request.caller, [type], 'r', context.registry, true);
  const query = parseSearch({ _id: [id] }, [type], context.registry, { defaultCount: 1, maxCount: 1 });
  query.access = reach.access;
  query.total = 'none';
  const page = await context.store.search(query);
  if (!page.resources.length) throw notFound(`${type}/${id} is not known`);
}
