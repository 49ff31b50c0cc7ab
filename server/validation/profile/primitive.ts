import type { Structures } from './structures.js';

/** What a primitive's JSON value must be: its JSON type, the regex its `value` element states, its length. */
export interface PrimitiveRule {
  type: string;
  json: 'string' | 'number' | 'boolean';
  integer: boolean;
  regex?: RegExp;
  maxLength?: number;
}

const REGEX_EXTENSION = 'http://hl7.org/fhir/StructureDefinition/regex';
const NUMBERS = new Set(['integer', 'positiveInt', 'unsignedInt', 'decimal']);
const INTEGERS = new Set(['integer', 'positiveInt', 'unsignedInt']);

/**
 * The specification's regexes are XML Schema regexes: implicitly anchored (they match the whole value), and
 * `\s` means space, tab, CR and LF only, where JavaScript's also matches Unicode spaces such as U+00A0 (which
 * official examples carry inside strings). `[ \r\n\t\S]` (any character) is the one class mixing both.
 */
export function schemaRegex(source: string): RegExp {
  const js = source
    .replaceAll('[ \\r\\n\\t\\S]', '\0')
    .replaceAll('[^\\s]', '[^ \\t\\n\\r]')
    .replaceAll('\\s', '[ \\t\\n\\r]')
    .replaceAll('\\S', '[^ \\t\\n\\r]')
    .replaceAll('\0', '[\\s\\S]');
  return new RegExp(`^(?:${js})$`);
}

const rules = new WeakMap<Structures, Map<string, PrimitiveRule>>();

export function primitiveRule(structures: Structures, type: string): PrimitiveRule {
  let perStructures = rules.get(structures);
  if (!perStructures) rules.set(structures, (perStructures = new Map()));
  let rule = perStructures.get(type);
  if (!rule) {
    const source = regexOf(structures, type);
    rule = {
      type,
      json: type === 'boolean' ? 'boolean' : NUMBERS.has(type) ? 'number' : 'string',
      integer: INTEGERS.has(type),
      regex: source ? schemaRegex(source) : undefined,
      maxLength: structures.definitions.typeDefinition(type)?.snapshot?.element.find((e) => e.path === `${type}.value`)?.maxLength,
    };
    perStructures.set(type, rule);
  }
  return rule;
}

function regexOf(structures: Structures, type: string): string | undefined {
  const element = structures.definitions.typeDefinition(type)?.snapshot?.element.find((e) => e.path === `${type}.value`);
  return element?.type?.[0]?.extension?.find((e) => e.url === REGEX_EXTENSION)?.valueString;
}

/** What is wrong with a primitive's JSON value, or undefined when it is a valid value of its type. */
export function primitiveProblem(rule: PrimitiveRule, value: unknown, maxLength: number | undefined): string | undefined {
  if (typeof value !== rule.json) {
    return `a ${rule.type} is a JSON ${rule.json}, found ${value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`}`;
  }
  if (rule.json === 'number') {
    const n = value as number;
    if (!Number.isFinite(n)) return `${n} is not a ${rule.type}`;
    if (rule.integer && (!Number.isInteger(n) || n > 2147483647 || n < -2147483648)) return `${n} is not a 32-bit ${rule.type}`;
  }
  const text = String(value);
  if (rule.regex && !rule.regex.test(text)) return `${JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text)} is not a valid ${rule.type}`;
  if (rule.json === 'string') {
    const limit = maxLength ?? rule.maxLength;
    if (limit !== undefined && text.length > limit) return `${rule.type} is ${text.length} characters long; at most ${limit} are allowed`;
  }
  return undefined;
}
