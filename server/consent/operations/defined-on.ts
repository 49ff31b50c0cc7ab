import { notFound } from '../../fhir/outcome.js';
import type { Interaction } from '../../rest/types.js';

/**
 * An instance operation routed as `[type]/[id]/$name` (so the router and the audit trail know its target) that
 * exists on one resource type only: on any other it is not found.
 */
export function definedOn(type: string, name: string, interaction: Interaction): Interaction {
  return (request, params, context) => {
    if (params.type !== type) throw notFound(`$${name} is defined on ${type} only, not on ${params.type}`);
    return interaction(request, params, context);
  };
}
