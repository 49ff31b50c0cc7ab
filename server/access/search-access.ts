import { R4_COMPARTMENTS } from '../fhir/r4/compartments.generated.js';
import { parseSearch } from '../search/query/parse.js';
import type { AccessAlternative } from '../search/query/model.js';
import type { SearchParameterRegistry } from '../search/registry.js';
import { typeRestriction } from './type-restrictions.js';
import type { Caller } from './caller.js';
import { forbidden, grantFor } from './decide.js';
import type { Permission, ResourceScope } from './scopes.js';

const NOT_FILTERS = /^_(count|total|summary|elements|cursor|format|pretty|type|sort|include|revinclude)(:|$)/;

export interface RowAccess {
  /** The types the caller may reach this way (a system-wide search keeps only these). */
  types: string[];
  /** Per restricted type, the ways rows of it may be seen (see SearchQuery.access); absent when none is restricted. */
  access?: Record<string, AccessAlternative[]>;
}

/**
 * What `caller` may reach among `types` with `permission`, as SQL-ready restrictions. `explicit` types (named by
 * the request) must all be allowed, or the request is a 403; otherwise (a search of every type) the types the
 * caller may not reach are left out.
 */
export function rowAccess(
  caller: Caller,
  types: readonly string[],
  permission: Permission,
  registry: SearchParameterRegistry,
  explicit: boolean,
): RowAccess {
  const allowed: string[] = [];
  const access: Record<string, AccessAlternative[]> = {};
  let firstRefusal: unknown;
  for (const type of types) {
    let grant;
    try {
      grant = grantFor(caller, type, permission);
    } catch (error) {
      if (explicit) throw error;
      firstRefusal ??= error;
      continue;
    }
    allowed.push(type);
    if (grant !== 'all') access[type] = grant.flatMap((scope) => alternativeOf(scope, type, caller, registry) ?? []);
    const limit = typeRestriction(caller, type);
    if (limit !== undefined) {
      const filters = limit ? parseSearch(limit, [type], registry, { defaultCount: 1, maxCount: 1 }).filters : [];
      access[type] = limit ? (access[type] ?? [{ filters: [] }]).map((way) => ({ ...way, filters: [...way.filters, ...filters] })) : [];
    }
  }
  if (!allowed.length) throw firstRefusal ?? forbidden('the access token allows no resource type here');
  return Object.keys(access).length ? { types: allowed, access } : { types: allowed };
}

/**
 * A restricted scope as a row condition: its query's filters, and for `patient/` the patient's compartment. A
 * query the server cannot apply in full grants nothing: applying part of it would show more than the scope allows.
 */
function alternativeOf(scope: ResourceScope, type: string, caller: Caller, registry: SearchParameterRegistry): AccessAlternative | undefined {
  const alternative: AccessAlternative = { filters: [] };
  if (scope.query) {
    const parsed = parseSearch(scope.query, [type], registry, { defaultCount: 1, maxCount: 1 });
    // Result parameters (`_count`, `_sort`, `_include`…) restrict nothing: the parser passes over them.
    const unusable = Object.keys(scope.query).some((name) => NOT_FILTERS.test(name));
    if (parsed.ignored.length || unusable) return undefined;
    alternative.filters = parsed.filters;
  }
  if (scope.context === 'patient') {
    const params = R4_COMPARTMENTS.Patient[type];
    // A type outside the patient compartment has no row a patient scope reaches.
    if (!params || !caller.patient) return undefined;
    alternative.patientCompartment = { id: caller.patient, params: { [type]: params } };
  }
  return alternative;
}
