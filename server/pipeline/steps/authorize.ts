import { typeRestriction } from '../../access/type-restrictions.js';
import { isConsentHeld } from '../../access/consent-gate.js';
import { grantFor, requirePermission } from '../../access/decide.js';
import { isGatedType } from '../../conformance/consent-vocabulary.js';
import { restrictedRouteRefusal } from '../refusals.js';
import type { Step } from '../step.js';

/**
 * Authorize: the route's permissions against what the caller's token scopes and role grant together
 * (server/access/decide.ts: 401 without a token, 403 naming the rule that refuses). A grant may reach only some rows
 * (a `patient/` scope, a scope with a query, a privacy auditor's organization, a partner held by consent): a read,
 * update, patch or delete by id, or a plain create, is then left to the consent gate, row by row; any other route
 * would have to reach every row at once (conditional interactions, which search first; type and system history;
 * operations on the whole type) and is refused: deny by default. Searches and Bundles (`interaction` access) decide
 * in the interaction, per type and entry; public routes need nothing.
 */
export const authorize: Step = async (state, next) => {
  const { route, params, request, context } = state;
  const access = route!.access;
  if (access === 'public' || access === 'interaction') return next();
  const type = params!.type ?? '*';
  if (!Array.isArray(access)) {
    requirePermission(request.caller, type, access.anyOf);
    return next();
  }
  // A partner's reach into a patient's plan depends on registrations and directives, row by row (server/consent).
  const held = (type === '*' || isGatedType(type)) && isConsentHeld(request.caller, context.options);
  for (const permission of access) {
    const grant = grantFor(request.caller, type, permission);
    if (grant === 'all' && !held && typeRestriction(request.caller, type) === undefined) continue;
    const byId = params!.id !== undefined && (permission === 'r' || permission === 'u' || permission === 'd');
    const plainCreate = permission === 'c' && params!.id === undefined && request.headers['if-none-exist'] === undefined;
    if (!byId && !plainCreate) throw restrictedRouteRefusal(route!, type, permission, request.caller, { grant, held });
    state.restricted.push({ permission, grant });
  }
  return next();
};
