import type { Resource } from 'fhir/r4';
import { FhirError } from '../fhir/outcome.js';
import { isResourceType } from '../fhir/resource-types.js';
import { checkContainedInvariants } from './core-invariants.js';
import { checkJsonRules } from './json-rules.js';
import { isError, issuesAgainst, profilesToCheck, type Profiles } from './profiles.js';
import type { SchemaValidator } from './schema-validator.js';

/** What checking a resource needs: the R4 JSON schema, and profile validation where a write must conform. */
export interface Validation {
  schema: SchemaValidator;
  /** Absent: no profile is checked (operation Parameters, for one). */
  profiles?: Profiles;
}

/**
 * Checks a body offered for create or update as `expectedType`. Not a FHIR resource of that type (structure,
 * schema): 400. Well-formed but breaking a FHIR invariant, or a profile it claims or configuration requires of
 * it: 422. Returns the body typed as a resource.
 */
export function validateResource({ schema, profiles }: Validation, body: unknown, expectedType: string): Resource {
  const resource = checkStructure(schema, body, expectedType);
  const invariants = checkContainedInvariants(resource as unknown as Record<string, unknown>, expectedType);
  if (invariants.length) throw new FhirError(422, invariants);
  if (profiles) {
    const errors = issuesAgainst(profiles, resource, profilesToCheck(profiles, resource).known).filter(isError);
    // A fault of the validator's own is the server's (500, logged without the resource), not the client's 422.
    const fault = errors.find((issue) => issue.code === 'exception');
    if (fault) throw new Error(`profile validation of a ${expectedType} failed: ${fault.diagnostics}`);
    if (errors.length) throw new FhirError(422, errors);
  }
  return resource;
}

/** The 400 checks: a JSON object of the expected resourceType, FHIR's JSON rules and the R4 JSON schema. */
export function checkStructure(schema: SchemaValidator, body: unknown, expectedType: string): Resource {
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
  return resource as unknown as Resource;
}
