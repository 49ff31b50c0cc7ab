import type { Bundle } from 'fhir/r4';
import { badRequest } from '../../fhir/outcome.js';
import { isValidId } from '../../fhir/resource-types.js';
import type { FhirContext, FhirRequest } from '../../rest/types.js';
import { SUBSCRIPTION } from './defined-on.js';

/**
 * The ids of the Subscriptions the caller reaches (of `ids` only, when given), found by a search of Subscription
 * dispatched through the whole request pipeline as the caller: whatever restricts the caller's searches (the
 * token's scopes and their queries, the rule that a caller reaches only the Subscriptions it owns) restricts the
 * type-level operations alike, with no rule of their own that could drift from the search's. Every page is read:
 * the IG's answers are not paged.
 */
export async function reachableSubscriptionIds(request: FhirRequest, context: FhirContext, ids?: readonly string[]): Promise<string[]> {
  const query: Record<string, string[]> = {
    _count: [String(context.options.maxPageSize)],
    _elements: ['id'],
    ...(ids ? { _id: [ids.join(',')] } : {}),
  };
  const found: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await context.dispatch(
      { method: 'GET', path: SUBSCRIPTION, query: cursor === undefined ? query : { ...query, _cursor: [cursor] }, headers: {}, baseUrl: request.baseUrl, caller: request.caller },
      context,
    );
    const bundle = page.body as Bundle;
    for (const entry of bundle.entry ?? []) {
      if (entry.search?.mode === 'match' && entry.resource?.resourceType === SUBSCRIPTION && entry.resource.id) found.push(entry.resource.id);
    }
    const next = bundle.link?.find((link) => link.relation === 'next')?.url;
    cursor = next === undefined ? undefined : (new URL(next).searchParams.get('_cursor') ?? undefined);
  } while (cursor !== undefined);
  return found;
}

/**
 * The `id` parameter of a type-level operation: repeated (the IG: joined with OR), each a FHIR id; a comma-separated
 * list is taken too, as a search's `_id` would. Undefined when none is given (the IG: every Subscription available
 * to the caller).
 */
export function idParameter(values: readonly string[]): string[] | undefined {
  const ids = values.flatMap((value) => value.split(',')).map((id) => id.trim());
  if (!ids.length) return undefined;
  const invalid = ids.find((id) => !isValidId(id));
  if (invalid !== undefined) throw badRequest(`id: "${invalid}" is not a FHIR id (1-64 of A-Z a-z 0-9 - .)`, ['id']);
  return [...new Set(ids)];
}
