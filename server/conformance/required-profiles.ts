import { readFileSync } from 'node:fs';
import type { Resource, StructureDefinition } from 'fhir/r4';
import fhirpath from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4';
import { isResourceType } from '../fhir/resource-types.js';
import { r4Definitions } from './definitions.js';
import { conformanceGuide } from './guide.js';

/**
 * One line of the required-profiles file (REQUIRED_PROFILES, default conformance/required-profiles.json): every
 * resource of `resourceType` for which the FHIRPath expression `where` is true must conform to `profile`,
 * whether or not it claims the profile in `meta.profile`.
 */
export interface RequiredProfileRule {
  resourceType: string;
  where: string;
  profile: string;
}

export interface RequiredProfiles {
  readonly rules: readonly RequiredProfileRule[];
  /**
   * The canonical URLs of the profiles `resource` must conform to: those of the rules of its type whose `where`
   * is true (a single `true`; false, empty or anything else is not). An expression that fails on this resource
   * (a function given several items where it takes one) counts as true: a rule that cannot decide requires its
   * profile rather than let the resource pass unchecked.
   */
  requiredProfiles(resource: Resource): string[];
}

type Compiled = RequiredProfileRule & { test(resource: Resource): boolean };

/** Looks a profile up by canonical URL: the guide's first (cheap, always loaded), then FHIR's core definitions. */
export type ProfileLookup = (url: string) => StructureDefinition | undefined;

const defaultLookup: ProfileLookup = (url) => {
  const own = conformanceGuide().resources.find((resource) => resource.url === url);
  if (own) return own.resourceType === 'StructureDefinition' ? own : undefined;
  return r4Definitions().structureDefinition(url);
};

const KEYS = ['resourceType', 'where', 'profile'];

/**
 * Reads and checks a required-profiles file. Returns the rules, compiled once, or every problem found (each naming
 * the rule by its position and what is wrong with it), for the configuration to report at start.
 */
export function loadRequiredProfiles(file: string, lookup: ProfileLookup = defaultLookup): RequiredProfiles | { problems: string[] } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    return { problems: [`cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`] };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { problems: [`${file} is not JSON: ${(error as Error).message}`] };
  }
  return parseRequiredProfiles(json, file, lookup);
}

export function parseRequiredProfiles(json: unknown, source: string, lookup: ProfileLookup = defaultLookup): RequiredProfiles | { problems: string[] } {
  if (!Array.isArray(json)) return { problems: [`${source} must hold a JSON array of rules { "resourceType", "where", "profile" }`] };
  const problems: string[] = [];
  const compiled: Compiled[] = [];
  json.forEach((entry: unknown, index) => {
    const rule = checkRule(entry, lookup);
    const name = `${source} rule ${index + 1}`;
    if (Array.isArray(rule)) problems.push(...rule.map((problem) => `${name}: ${problem}`));
    else compiled.push(rule);
  });
  if (problems.length) return { problems };
  const rules = compiled.map(({ resourceType, where, profile }) => ({ resourceType, where, profile }));
  return {
    rules,
    requiredProfiles(resource) {
      const urls: string[] = [];
      for (const rule of compiled) if (rule.resourceType === resource.resourceType && rule.test(resource) && !urls.includes(rule.profile)) urls.push(rule.profile);
      return urls;
    },
  };
}

/** The rule compiled, or what is wrong with it. */
function checkRule(entry: unknown, lookup: ProfileLookup): Compiled | string[] {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return ['must be an object { "resourceType", "where", "profile" }'];
  const fields = entry as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of Object.keys(fields)) if (!KEYS.includes(key)) problems.push(`unknown field "${key}" (a rule has resourceType, where and profile)`);
  for (const key of KEYS) if (typeof fields[key] !== 'string' || !(fields[key] as string).trim()) problems.push(`"${key}" must be a non-empty string`);
  if (problems.length) return problems;
  const { resourceType, where, profile } = fields as unknown as RequiredProfileRule;

  if (!isResourceType(resourceType)) problems.push(`resourceType "${resourceType}" is not an R4 resource type`);
  const definition = lookup(profile);
  if (!definition) problems.push(`profile ${profile} is not a StructureDefinition the server knows (FHIR R4's or the CCP guide's)`);
  else if (definition.kind !== 'resource' || definition.type !== resourceType) {
    problems.push(`profile ${profile} constrains ${definition.type}, not ${resourceType}: no ${resourceType} could conform to it`);
  }
  let test: Compiled['test'] | undefined;
  try {
    const compiled = fhirpath.compile(where, r4);
    // Without `async`, fhirpath.js evaluates synchronously (its async functions, terminology, are then refused).
    const evaluate = (resource: Resource) => compiled(resource) as unknown[];
    // Evaluated once on a bare resource of the type, so an unknown function fails now rather than on a write.
    evaluate({ resourceType } as Resource);
    test = (resource) => {
      try {
        const result = evaluate(resource);
        return result.length === 1 && result[0] === true;
      } catch {
        return true;
      }
    };
  } catch (error) {
    problems.push(`where "${where}" is not a FHIRPath expression the server can evaluate: ${firstLine(error)}`);
  }
  return problems.length || !test ? problems : { resourceType, where, profile, test };
}

const firstLine = (error: unknown) => (error instanceof Error ? error.message : String(error)).split('\n')[0];
