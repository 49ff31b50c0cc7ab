import r4 from 'fhirpath/fhir-context/r4';
import { SYSTEM_TYPES, type Evaluator } from './fhirpath.js';
import { isRecord, type FhirValue } from './values.js';

/**
 * Most search parameters' expressions only walk members from the resource type (`CarePlan.subject`,
 * `Patient.name.family`, `Resource.meta.tag`). For those, the FHIRPath engine's work (a node object per item, type
 * resolution per step, array flattening through its collections) buys nothing: the R4 model already says each
 * step's datatype, so the walk is done here over the JSON, with the datatypes the engine would give. Anything
 * else (filters, functions, type tests, a step the model does not type) is left to the engine. That both agree
 * is tested over every official R4 example and every parameter (test/search/member-path.test.ts).
 */
const MEMBER_PATH = /^([A-Z][A-Za-z]*)((?:\.[a-z][A-Za-z]*)+)$/;

/**
 * The engine wraps numbers (their text then differs from JavaScript's for some), and types a contained resource
 * by what it is: those stay with it.
 */
const ENGINE_ONLY_TYPES = new Set(['decimal', 'integer', 'positiveInt', 'unsignedInt', 'System.Decimal', 'System.Integer', 'Resource', 'BackboneElement', 'Element']);
/** Elements defined inline, looked up by their own path. */
const BACKBONES = new Set(['BackboneElement', 'Element']);

/** Types a root may name that every resource (or every DomainResource) is. */
const NOT_DOMAIN_RESOURCES = new Set(['Bundle', 'Binary', 'Parameters']);

/** One step of a compiled walk: the JSON names to read (several for a choice) and the datatype each gives. */
interface Step {
  names: { json: string; type: string }[];
}

/**
 * An evaluator for `expression` when it is a plain member path, else undefined. Like the engine, it selects
 * nothing from a resource of another type than its root, skips nulls (a primitive known only by its extension),
 * and flattens arrays.
 */
export function compileMemberPath(expression: string): Evaluator | undefined {
  const match = MEMBER_PATH.exec(expression);
  if (!match) return undefined;
  const root = match[1];
  const members = match[2].slice(1).split('.');
  if (root !== 'Resource' && root !== 'DomainResource' && !compileWalk(root, members)) return undefined;
  const walks = new Map<string, Step[] | undefined>();
  return (input) => {
    if (!isRecord(input) || typeof input.resourceType !== 'string') return [];
    const type = input.resourceType;
    if (!rootApplies(root, type)) return [];
    let steps = walks.get(type);
    if (!walks.has(type)) walks.set(type, (steps = compileWalk(type, members)));
    // A step the model leaves untyped for this resource type: the engine decides (a rare path, never cached wrong).
    if (!steps) return ENGINE_FALLBACK;
    return walk(input, steps);
  };
}

/** Marks an answer the caller must get from the engine instead. */
export const ENGINE_FALLBACK: FhirValue[] = Object.freeze([]) as unknown as FhirValue[];

function rootApplies(root: string, type: string): boolean {
  if (root === 'Resource') return true;
  if (root === 'DomainResource') return !NOT_DOMAIN_RESOURCES.has(type);
  return root === type;
}

/** The steps from `type` through `members`, each with its JSON names and datatypes; undefined where the model is silent. */
function compileWalk(type: string, members: string[]): Step[] | undefined {
  const steps: Step[] = [];
  // Where the model looks a member up: the datatype's name, or the element's own path inside a resource or
  // backbone element (`CarePlan.activity.detail`).
  let modelPath = type;
  for (let i = 0; i < members.length; i++) {
    const last = i === members.length - 1;
    let path = `${modelPath}.${members[i]}`;
    path = r4.pathsDefinedElsewhere[path] ?? path;
    const suffixes = r4.choiceTypePaths[path];
    if (suffixes) {
      // A choice ends the walk here: what follows it depends on which type each item has.
      if (!last) return undefined;
      const names = suffixes.map((suffix) => ({ json: `${members[i]}${suffix}`, type: r4.path2Type[`${path}${suffix}`] }));
      if (names.some((name) => !name.type || ENGINE_ONLY_TYPES.has(name.type))) return undefined;
      steps.push({ names: names.map((name) => ({ json: name.json, type: SYSTEM_TYPES[name.type] ?? name.type })) });
      continue;
    }
    const declared = r4.path2Type[path];
    if (!declared || ENGINE_ONLY_TYPES.has(declared) && !BACKBONES.has(declared)) return undefined;
    if (BACKBONES.has(declared)) {
      // A backbone element is walked through by its own path, but never handed out as a value.
      if (last) return undefined;
      steps.push({ names: [{ json: members[i], type: declared }] });
      modelPath = path;
      continue;
    }
    steps.push({ names: [{ json: members[i], type: SYSTEM_TYPES[declared] ?? declared }] });
    modelPath = declared;
  }
  return steps;
}

function walk(resource: Record<string, unknown>, steps: Step[]): FhirValue[] {
  let items: unknown[] = [resource];
  const values: FhirValue[] = [];
  for (let s = 0; s < steps.length; s++) {
    const last = s === steps.length - 1;
    const next: unknown[] = [];
    for (const item of items) {
      if (!isRecord(item)) continue;
      for (const name of steps[s].names) {
        const member = item[name.json];
        if (member === undefined || member === null) continue;
        if (Array.isArray(member)) {
          for (const element of member) if (element !== null && element !== undefined) last ? values.push(value(name.type, element)) : next.push(element);
        } else if (last) values.push(value(name.type, member));
        else next.push(member);
      }
    }
    items = next;
  }
  return values;
}

function value(type: string, data: unknown): FhirValue {
  return { type, data, node: undefined };
}
