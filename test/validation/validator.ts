import { loadDefinitions } from '../../server/conformance/definitions.js';
import type { Issue } from '../../server/fhir/outcome.js';
import { createTerminology } from '../../server/terminology/service.js';
import { createProfileValidator, type ProfileValidator } from '../../server/validation/profile/profile-validator.js';

let shared: ProfileValidator | undefined;

/** One validator over the real R4 core and CCP definitions and the real local terminology, for all suites. */
export function validator(): ProfileValidator {
  shared ??= (() => {
    const definitions = loadDefinitions();
    return createProfileValidator(definitions, createTerminology(definitions));
  })();
  return shared;
}

export const errors = (issues: Issue[]): Issue[] => issues.filter((i) => i.severity === 'error');

/** The errors as `code @ location`, the shape most assertions compare. */
export const errorsAt = (issues: Issue[]): string[] => errors(issues).map((i) => `${i.code} @ ${i.expression?.[0]}`);

export const validate = (resource: Record<string, unknown>, profile?: string): Issue[] => validator().validate(resource, profile);
