import type { SearchParameter } from 'fhir/r4';
import { splitUnion } from './index/union.js';
import type { SearchParamDefinition, SearchParamType } from '../fhir/r4/search-parameter.js';

/**
 * SearchParameter resources as the definitions the index and the compiler use: one per (base, code), each base
 * keeping only the union parts of the expression rooted at it, components named by their parameters' codes.
 * Used by the generator of the official R4 list (scripts/extract-r4-search-parameters.mjs) and for custom
 * parameters at start-up, so both follow the same rules.
 *
 * `known` resolves component definitions that point outside `parameters` (a custom composite may reuse
 * official component parameters).
 */
export function toDefinitions(parameters: SearchParameter[], known: SearchParameter[] = []): SearchParamDefinition[] {
  const all = [...known, ...parameters];
  const codeByUrl = new Map(all.map((p) => [p.url, p.code]));
  const expressionByUrl = new Map(all.map((p) => [p.url, p.expression ?? '']));
  const result: SearchParamDefinition[] = [];
  for (const sp of parameters) {
    if (sp.type === 'special' || !sp.expression) continue;
    const bases = sp.base as string[];
    // One official expression (InsurancePlan-name: `name | alias`) is relative to its single base.
    const parts = splitUnion(sp.expression).map((p) => (bases.length === 1 && !bases.includes(rootOf(p) ?? '') ? `${bases[0]}.${p}` : p));
    for (const base of bases) {
      const own = parts.filter((p) => rootOf(p) === base);
      if (own.length === 0) throw new Error(`${sp.id ?? sp.url}: no part of "${sp.expression}" starts at ${base}`);
      const component = sp.component?.length
        ? uncross(sp.component, expressionByUrl).map((c) => {
            const code = codeByUrl.get(c.definition);
            if (!code) throw new Error(`${sp.id ?? sp.url}: component ${c.definition} is not a known search parameter`);
            return { code, expression: c.expression };
          })
        : undefined;
      const description = describe(sp.description, base);
      result.push({
        code: sp.code,
        base,
        type: sp.type as SearchParamType,
        expression: own.join(' | '),
        ...(sp.target?.length ? { target: [...sp.target] } : {}),
        ...(component ? { component } : {}),
        url: sp.url,
        ...(description ? { description } : {}),
      });
    }
  }
  return result;
}

/** The type a union part starts from: `(ActivityDefinition.useContext.value as Quantity)` → ActivityDefinition. */
export function rootOf(part: string): string | undefined {
  return /^\(*\s*([A-Za-z][A-Za-z0-9]*)/.exec(part)?.[1];
}

/** The sentence for one base: the `* [Base](…): text` bullet of a multi-resource description, else the first line. */
export function describe(description: string | undefined, base: string): string | undefined {
  if (!description) return undefined;
  const lines = description.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
  const bullet = lines.find((l) => l.startsWith(`* [${base}](`));
  let text = bullet ? bullet.replace(/^\* \[[^\]]*\]\([^)]*\):\s*/, '') : lines[0];
  if (text === undefined) return undefined;
  const stop = text.search(/\.\s/);
  if (stop >= 0) text = text.slice(0, stop + 1);
  return text.trim() || undefined;
}

type Component = { definition: string; expression: string };

/**
 * R4 errata: DocumentReference-relationship gives its `relatesto` component (a reference parameter on
 * relatesTo.target) the expression `code`, and its `relation` component (a token on relatesTo.code) `target`.
 * When every component's expression names the element of another component's parameter and not its own, the
 * expressions are given back to the parameters they belong to; the component order stays as published.
 */
export function uncross(components: Component[], expressionByUrl: Map<string, string>): Component[] {
  const ownsTail = (c: Component, expression: string) => (expressionByUrl.get(c.definition) ?? '').endsWith(`.${expression}`);
  if (components.length !== 2 || components.some((c) => ownsTail(c, c.expression))) return components;
  const [a, b] = components;
  if (!ownsTail(a, b.expression) || !ownsTail(b, a.expression)) return components;
  return [
    { ...a, expression: b.expression },
    { ...b, expression: a.expression },
  ];
}
