import type { Resource } from 'fhir/r4';
import type { Caller } from '../access/caller.js';
import { consentGateFor } from '../access/consent-gate.js';
import type { Permission } from '../access/scopes.js';
import { rowAccess } from '../access/search-access.js';
import { parseSearch } from '../search/query/parse.js';
import type { FhirContext } from './types.js';

/**
 * The current version of `type/id` when it is one of the rows `caller`'s `permission` grant reaches (the launch
 * patient's compartment, a scope's query) and patient consent opens (server/search/sql/consent.ts), asked of the
 * database like a search of that one id; else undefined. With `consent` false, patient consent is left aside (to
 * tell which rule refused). The one decision of a restricted access by id: the pipeline's consent gate
 * (server/pipeline/steps/consent-gate.ts) and the notifications' access check (server/notifications) both ask it.
 * Throws the grant's 401/403 when `caller` has no way to exercise `permission` on `type` at all.
 */
export async function reachable(caller: Caller, type: string, id: string, permission: Permission, context: FhirContext, consent = true): Promise<Resource | undefined> {
  const reach = rowAccess(caller, [type], permission, context.registry, true);
  const query = parseSearch({ _id: [id] }, [type], context.registry, { defaultCount: 1, maxCount: 1 });
  query.access = reach.access;
  if (consent) query.consent = consentGateFor(caller, permission, context.options);
  query.total = 'none';
  const page = await context.store.search(query);
  return page.resources[0];
}
