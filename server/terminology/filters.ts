import type { CodeSystemConceptProperty, ValueSetComposeIncludeFilter } from 'fhir/r4';
import type { CodeSystemIndex, IndexedConcept } from './code-system-index.js';

/** A filter this server cannot apply: the reason becomes the expansion's gap. */
export class UnsupportedFilter extends Error {}

type Test = (concept: IndexedConcept) => boolean;

/**
 * The test a `compose.include.filter` makes of each concept of its code system (R4 ValueSet §4.9.5, filter-operator).
 * `concept`/`code` filters use the hierarchy; other properties compare the concept's property values as text.
 */
export function filterTest(index: CodeSystemIndex, filter: ValueSetComposeIncludeFilter): Test {
  const { property, op, value } = filter;
  if (property === 'concept' || property === 'code') return conceptTest(index, op, value);
  if (property === 'display') return valueTest(op, value, (c) => (c.display === undefined ? [] : [c.display]), `${property} ${op} ${value}`);
  if (property === 'parent' || property === 'child') {
    const related = (c: IndexedConcept) => [...(property === 'parent' ? c.parents : c.children)];
    return valueTest(op, value, related, `${property} ${op} ${value}`);
  }
  const used = index.properties.has(property) || index.concepts.some((c) => c.property?.some((p) => p.code === property));
  if (!used) {
    const declared = index.codeSystem.filter?.some((f) => f.code === property);
    throw new UnsupportedFilter(
      declared
        ? `the filter ${property} of ${index.url} is defined by the code system but not computable from its concepts`
        : `${index.url} has no property ${property} to filter on`,
    );
  }
  return valueTest(op, value, (c) => (c.property ?? []).filter((p) => p.code === property).map(propertyText), `${property} ${op} ${value}`);
}

function conceptTest(index: CodeSystemIndex, op: ValueSetComposeIncludeFilter['op'], value: string): Test {
  const code = index.find(value)?.code ?? value;
  switch (op) {
    case 'is-a': {
      const below = index.descendants(code);
      return (c) => c.code === code || below.has(c.code);
    }
    case 'descendent-of': {
      const below = index.descendants(code);
      return (c) => below.has(c.code);
    }
    case 'is-not-a': {
      const below = index.descendants(code);
      return (c) => c.code !== code && !below.has(c.code);
    }
    case 'generalizes': {
      const above = index.ancestors(code);
      return (c) => c.code === code || above.has(c.code);
    }
    default:
      return valueTest(op, value, (c) => [c.code], `concept ${op} ${value}`);
  }
}

/** `=`, `in`, `not-in`, `regex`, `exists` over the values `of` a concept has. */
function valueTest(op: ValueSetComposeIncludeFilter['op'], value: string, of: (c: IndexedConcept) => string[], what: string): Test {
  switch (op) {
    case '=':
      return (c) => of(c).includes(value);
    case 'in': {
      const list = new Set(value.split(',').map((v) => v.trim()));
      return (c) => of(c).some((v) => list.has(v));
    }
    case 'not-in': {
      const list = new Set(value.split(',').map((v) => v.trim()));
      return (c) => !of(c).some((v) => list.has(v));
    }
    case 'regex': {
      // The whole value must match, as XML Schema patterns (which FHIR's regexes follow) are anchored.
      let pattern: RegExp;
      try {
        pattern = new RegExp(`^(?:${value})$`, 'u');
      } catch {
        throw new UnsupportedFilter(`the regex of filter ${what} is not one this server can read`);
      }
      return (c) => of(c).some((v) => pattern.test(v));
    }
    case 'exists': {
      if (value !== 'true' && value !== 'false') throw new UnsupportedFilter(`filter ${what}: exists takes true or false`);
      const wanted = value === 'true';
      return (c) => of(c).length > 0 === wanted;
    }
    default:
      throw new UnsupportedFilter(`filter ${what}: the operator ${op} does not apply to this property`);
  }
}

function propertyText(property: CodeSystemConceptProperty): string {
  const value =
    property.valueCode ?? property.valueString ?? property.valueBoolean ?? property.valueInteger ?? property.valueDateTime ?? property.valueDecimal ?? property.valueCoding?.code;
  return value === undefined ? '' : String(value);
}
