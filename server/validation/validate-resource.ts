import type { Resource } from 'fhir/r4';
import { FhirError } from '../fhir/outcome.js';
import { isResourceType } from '../fhir/resource-types.js';
import { checkContainedInvariants } from './core-invariants.js';
import { checkJsonRules } from './json-rules.js';
import type { SchemaValidator } from './schema-validator.js';

/**
 * Checks a body offered for create or update as `expectedType`. Not a FHIR resource of that type (structure,
 * schema): 400. Well-formed but breaking a FHIR invariant: 422. Returns the body typed as a resource.
 */
export function validateResource(schema: SchemaValidator, body: unknown, expectedType: string): Resource {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new FhirError(400, { code: 'structure', diagnostics: 'The body must be a JSON object holding a FHIR resource' });
  }
  const resource = body as Record<string, unknown>;
  const declared = resource.resourceType;
  if (typeof declared !== 'string') {
    throw new FhirError(400, { code: 'required', diagnostics: 'The resource has no resourceType', expression: ['resourceType'] });
  }
  if (declared !== expectedType) {
    const known = isResourceType(declared) ? '' : ' (not a known R4 resource type)';
    throw new FhirError(400, {
      code: 'invalid',
      diagnostics: `resourceType is ${declared}${known} but the URL names ${expectedType}`,
      expression: ['resourceType'],
    });
  }

  const structural = [...checkJsonRules(resource, expectedType), ...schema.validate(resource, expectedType)];
  if (structural.length) throw new FhirError(400, structural);

  const invariants = checkContainedInvariants(resource, expectedType);
  if (invariants.length) throw new FhirError(422, invariants);
  return resource as unknown as Resource;
}
