import type { Resource } from 'fhir/r4';
import { FhirError, type Issue } from '../fhir/outcome.js';
import { isResourceType } from '../fhir/resource-types.js';
import { checkContainedInvariants } from './core-invariants.js';
import { checkJsonRules } from './json-rules.js';
import { mergeIssues } from './merge-issues.js';
import { isError, issuesAgainst, profilesToCheck, type Profiles } from './profiles.js';
import type { SchemaValidator } from './schema-validator.js';

/** What checking a resource needs: the R4 JSON schema, and the StructureDefinitions for everything a write stores. */
export interface Validation {
  schema: SchemaValidator;
  /** Absent: neither the base definition nor any profile is checked (operation Parameters, which are not stored). */
  profiles?: Profiles;
}

/**
 * Checks a body offered for create or update as `expectedType`, and reports every problem in one answer. Not a
 * valid resource of that type (FHIR's JSON rules, the R4 JSON schema, the base StructureDefinition's cardinality,
 * types and required bindings): 400, "failed basic FHIR validation rules". Otherwise breaking a contained
 * resource's invariant, or a profile it claims or configuration requires of it: 422. A 400 carries the 422's
 * issues too, so a client fixes everything in one round. Returns the body typed as a resource.
 */
export function validateResource({ schema, profiles }: Validation, body: unknown, expectedType: string): Resource {
  const resource = resourceOf(body, expectedType);
  const structural = structureIssues(schema, resource, expectedType);
  const invariants = checkContainedInvariants(resource as unknown as Record<string, unknown>, expectedType);
  if (!profiles) {
    if (structural.length) throw new FhirError(400, [...structural, ...invariants]);
    if (invariants.length) throw new FhirError(422, invariants);
    return resource;
  }
  // The base definition without its FHIRPath invariants: measured to cost several times the rest (bench/write-validation.mjs).
  const base = profiles.validate(resource, undefined, { invariants: false }).filter(isError);
  const claimed = issuesAgainst(profiles, resource, profilesToCheck(profiles, resource).known).filter(isError);
  const basic = mergeIssues(structural, base.filter(notFault));
  if (basic.length) throw new FhirError(400, mergeIssues(basic, invariants, claimed.filter(notFault)));
  // A fault of the validator's own is the server's (500, logged without the resource), not the client's 4xx;
  // on a resource that already broke the schema it is that breakage, reported above.
  const fault = [...base, ...claimed].find((issue) => !notFault(issue));
  if (fault) throw new Error(`validation of a ${expectedType} failed: ${fault.diagnostics}`);
  const rest = mergeIssues(invariants, claimed);
  if (rest.length) throw new FhirError(422, rest);
  return resource;
}

/**
 * The core invariants a write checks: ele-1 and ext-1 (natively, in the base-definition walk) and dom-2/4/5 on
 * contained resources. The others, FHIRPath all, are left to `$validate` and claimed profiles (docs/CONFORMANCE.md).
 */
export const INVARIANTS_ON_WRITE: readonly string[] = ['ele-1', 'ext-1', 'dom-2', 'dom-4', 'dom-5'];

const notFault = (issue: Issue): boolean => issue.code !== 'exception';

/** The 400 checks of the JSON alone: a JSON object of the expected resourceType, FHIR's JSON rules and the R4 JSON schema. */
export function checkStructure(schema: SchemaValidator, body: unknown, expectedType: string): Resource {
  const resource = resourceOf(body, expectedType);
  const structural = structureIssues(schema, resource, expectedType);
  if (structural.length) throw new FhirError(400, structural);
  return resource;
}

/** A JSON object whose resourceType is `expectedType`, or a 400 saying what it is instead. */
export function resourceOf(body: unknown, expectedType: string): Resource {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new FhirError(400, { code: 'structure', diagnostics: 'The body must be a JSON object holding a FHIR resource' });
  }
  const declared = (body as Record<string, unknown>).resourceType;
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
  return body as Resource;
}

/** FHIR's JSON rules and the R4 JSON schema: what the JSON alone shows, without the StructureDefinitions. */
export function structureIssues(schema: SchemaValidator, resource: Resource, type: string): Issue[] {
  const json = resource as unknown as Record<string, unknown>;
  return [...checkJsonRules(json, type), ...schema.validate(json, type)];
}
