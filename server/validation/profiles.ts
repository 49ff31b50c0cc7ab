import type { Resource } from 'fhir/r4';
import { r4Definitions } from '../conformance/definitions.js';
import type { RequiredProfiles } from '../conformance/required-profiles.js';
import type { Issue } from '../fhir/outcome.js';
import { sharedTerminology } from '../terminology/shared.js';
import { createProfileValidator, type ProfileValidator, type ValidateOptions } from './profile/profile-validator.js';

/**
 * Profile validation as the write path and `$validate` use it: the snapshot validator (server/validation/profile)
 * over R4 core and the CCP guide, and the profiles configuration requires (REQUIRED_PROFILES).
 */
export interface Profiles {
  /** Issues of `resource` against `profile` (default: its type's base definition). */
  validate(resource: Resource, profile?: string, options?: ValidateOptions): Issue[];
  /** Whether the server holds the StructureDefinition `url`. */
  knows(url: string): boolean;
  /** The profiles configuration requires of `resource`, whatever it claims. */
  required(resource: Resource): string[];
}

let sharedValidator: ProfileValidator | undefined;

/** The validator is created, and the definitions loaded, on the first resource that needs it, not at start. */
export function sharedProfiles(requiredProfiles?: RequiredProfiles): Profiles {
  const validator = () => (sharedValidator ??= createProfileValidator(r4Definitions(), sharedTerminology()));
  return {
    validate: (resource, profile, options) => validator().validate(resource as unknown as Record<string, unknown>, profile, options),
    knows: (url) => r4Definitions().structureDefinition(url) !== undefined,
    required: (resource) => requiredProfiles?.requiredProfiles(resource) ?? [],
  };
}

/**
 * The profiles a write must conform to: those it claims in `meta.profile` that the server knows, and those
 * configuration requires. A claimed profile the server does not hold is not an error: FHIR lets a resource claim
 * profiles the receiver has never seen (it is reported by `$validate`, as a warning).
 */
export function profilesToCheck(profiles: Profiles, resource: Resource): { known: string[]; unknown: string[] } {
  const claimed = resource.meta?.profile ?? [];
  const known = new Set<string>();
  const unknown: string[] = [];
  for (const url of claimed) {
    if (profiles.knows(url)) known.add(url);
    else unknown.push(url);
  }
  for (const url of profiles.required(resource)) known.add(url);
  return { known: [...known], unknown };
}

/** Every issue of `resource` against each of `urls`, saying which profile each comes from; the same issue once. */
export function issuesAgainst(profiles: Profiles, resource: Resource, urls: (string | undefined)[]): Issue[] {
  const seen = new Set<string>();
  const issues: Issue[] = [];
  for (const url of urls) {
    for (const issue of profiles.validate(resource, url)) {
      const key = `${issue.severity}|${issue.code}|${issue.expression?.join()}|${issue.diagnostics}`;
      if (seen.has(key)) continue;
      seen.add(key);
      issues.push(url ? { ...issue, diagnostics: `${issue.diagnostics} (profile ${url})` } : issue);
    }
  }
  return issues;
}

export const isError = (issue: Issue): boolean => issue.severity === undefined || issue.severity === 'error' || issue.severity === 'fatal';
