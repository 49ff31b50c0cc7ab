import { notFound } from '../../fhir/outcome.js';
import type { Interaction } from '../../rest/types.js';

export const SUBSCRIPTION = 'Subscription';

/**
 * The Backport IG's operations are routed on `[type]` and `[type]/[id]` like every operation (so the router and
 * the audit trail know their target) but exist on Subscription only: on any other type they are not found.
 */
export function onSubscriptions(name: string, interaction: Interaction): Interaction {
  return (request, params, context) => {
    if (params.type !== SUBSCRIPTION) throw notFound(`$${name} is defined on ${SUBSCRIPTION} only, not on ${params.type}`);
    return interaction(request, params, context);
  };
}
