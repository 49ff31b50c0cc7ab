import type { Definitions } from '../../conformance/definitions.js';
import type { Issue } from '../../fhir/outcome.js';
import type { CodeValidator } from '../../terminology/terminology.js';
import { isObject, type Validation } from './context.js';
import { Invariants } from './invariants.js';
import { resourceContext, walkResource } from './resource.js';
import { Structures } from './structures.js';

/** What a run checks beyond the structure, cardinality, types and bindings: by default, everything. */
export interface ValidateOptions {
  /** false: of the invariants, only ele-1 and ext-1 (native, no FHIRPath). The write path's base check. */
  invariants?: boolean;
}

export interface ProfileValidator {
  /** The issues of `resource` against the StructureDefinition at canonical URL `profile` (default: the base definition of its resourceType). Never throws on bad input: problems are issues. */
  validate(resource: Record<string, unknown>, profile?: string, options?: ValidateOptions): Issue[];
}

/**
 * A validator driven by StructureDefinition snapshots (R4 core and our guide): each definition is compiled into
 * an element tree on first use, each invariant into a FHIRPath function, and both kept for the process.
 */
export function createProfileValidator(definitions: Definitions, terminology: CodeValidator): ProfileValidator {
  const validation: Validation = { structures: new Structures(definitions), terminology, invariants: new Invariants() };
  // The same compiled element trees, with the FHIRPath invariants left out.
  const withoutInvariants: Validation = { ...validation, invariants: new Invariants(true) };
  return {
    validate(resource, profile, options) {
      if (!isObject(resource)) return [{ severity: 'error', code: 'structure', diagnostics: 'A resource must be a JSON object' }];
      const type = resource.resourceType;
      if (typeof type !== 'string') {
        return [{ severity: 'error', code: 'required', diagnostics: 'The resource has no resourceType', expression: ['resourceType'] }];
      }
      const structure = profile ? validation.structures.structure(profile) : validation.structures.type(type);
      if (!structure) {
        const what = profile ? `the profile ${profile} is not known` : `${type} is not a known R4 resource type`;
        return [{ severity: 'error', code: profile ? 'not-supported' : 'structure', diagnostics: `Cannot validate: ${what}` }];
      }
      if (structure.type !== type) {
        return [{ severity: 'error', code: 'invalid', diagnostics: `The profile ${profile} is for ${structure.type}, not ${type}`, expression: ['resourceType'] }];
      }
      const run = options?.invariants === false ? withoutInvariants : validation;
      const ctx = { ...resourceContext({ ...run, issues: [], notChecked: new Set() }, resource) };
      try {
        walkResource(ctx, structure, resource, type);
      } catch (error) {
        // A bug of ours must not fail the write as if the resource were wrong, nor pass silently.
        const message = error instanceof Error ? error.message : String(error);
        ctx.issues.push({ severity: 'error', code: 'exception', diagnostics: `Validation stopped by an internal error: ${message}` });
      }
      return ctx.issues;
    },
  };
}
