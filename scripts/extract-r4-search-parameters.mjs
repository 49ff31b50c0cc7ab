#!/usr/bin/env node
// Extracts the official R4 search parameters (Bundle-searchParams.json of npm hl7.fhir.r4.examples: the 1,375
// SearchParameters of the specification; the loose SearchParameter-*.json files also hold examples, so they are
// not read) into server/fhir/r4/search-parameters.generated.ts, one definition per (base, code). The test suite
// checks that the committed file is current.
//
// Left out, because index extraction cannot evaluate them from an expression:
//   type special:        Location `near` (needs geo matching; _filter is not an R4 SearchParameter at all)
//   no expression:       _text (DomainResource), _content and _query (Resource)
// A parameter with several bases keeps, for each base, only the union parts of its expression rooted at that
// base, so that an evaluator never walks expressions for other types.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = path.dirname(fileURLToPath(import.meta.url));
const packageDir = path.dirname(require.resolve('hl7.fhir.r4.examples/package.json'));
const out = path.join(root, '..', 'server', 'fhir', 'r4', 'search-parameters.generated.ts');

/** Splits a FHIRPath expression at its top-level `|` (not inside parentheses, brackets or string literals). */
export function splitUnion(expression) {
  const parts = [];
  let depth = 0;
  let quote = null;
  let start = 0;
  for (let i = 0; i < expression.length; i++) {
    const ch = expression[i];
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = null;
    } else if (ch === "'" || ch === '"' || ch === '`') quote = ch;
    else if (ch === '(' || ch === '[') depth++;
    else if (ch === ')' || ch === ']') depth--;
    else if (ch === '|' && depth === 0) {
      parts.push(expression.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(expression.slice(start).trim());
  return parts.filter((p) => p.length > 0);
}

/** The type a union part starts from: `(ActivityDefinition.useContext.value as Quantity)` → ActivityDefinition. */
export function rootOf(part) {
  return /^\(*\s*([A-Za-z][A-Za-z0-9]*)/.exec(part)?.[1];
}

/** The sentence for one base: the `* [Base](…): text` bullet of a multi-resource description, else the first line. */
export function describe(description, base) {
  if (!description) return undefined;
  const lines = description.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
  const bullet = lines.find((l) => l.startsWith(`* [${base}](`));
  let text = bullet ? bullet.replace(/^\* \[[^\]]*\]\([^)]*\):\s*/, '') : lines[0];
  if (text === undefined) return undefined;
  const stop = text.search(/\.\s/);
  if (stop >= 0) text = text.slice(0, stop + 1);
  return text.trim() || undefined;
}

export function extractSearchParameters() {
  const bundle = JSON.parse(readFileSync(path.join(packageDir, 'Bundle-searchParams.json'), 'utf8'));
  const parameters = bundle.entry.map((e) => e.resource);
  const codeByUrl = new Map(parameters.map((p) => [p.url, p.code]));
  const expressionByUrl = new Map(parameters.map((p) => [p.url, p.expression ?? '']));
  const result = [];
  for (const sp of parameters) {
    if (sp.type === 'special' || !sp.expression) continue;
    // One official expression (InsurancePlan-name: `name | alias`) is relative to its single base.
    const parts = splitUnion(sp.expression).map((p) =>
      sp.base.length === 1 && !sp.base.includes(rootOf(p)) ? `${sp.base[0]}.${p}` : p,
    );
    for (const base of sp.base) {
      const own = parts.filter((p) => rootOf(p) === base);
      if (own.length === 0) throw new Error(`${sp.id}: no part of "${sp.expression}" starts at ${base}`);
      const definition = { code: sp.code, base, type: sp.type, expression: own.join(' | ') };
      if (sp.target?.length) definition.target = [...sp.target];
      if (sp.component?.length) {
        definition.component = uncross(sp.component, expressionByUrl).map((c) => {
          const code = codeByUrl.get(c.definition);
          if (!code) throw new Error(`${sp.id}: component ${c.definition} is not an R4 search parameter`);
          return { code, expression: c.expression };
        });
      }
      definition.url = sp.url;
      const description = describe(sp.description, base);
      if (description) definition.description = description;
      result.push(definition);
    }
  }
  result.sort((a, b) => (a.base === b.base ? (a.code < b.code ? -1 : a.code > b.code ? 1 : 0) : a.base < b.base ? -1 : 1));
  return result;
}

/**
 * R4 errata: DocumentReference-relationship gives its `relatesto` component (a reference parameter on
 * relatesTo.target) the expression `code`, and its `relation` component (a token on relatesTo.code) `target`.
 * When every component's expression names the element of another component's parameter and not its own, the
 * expressions are given back to the parameters they belong to; the component order stays as published.
 */
export function uncross(components, expressionByUrl) {
  const ownsTail = (c, expression) => (expressionByUrl.get(c.definition) ?? '').endsWith(`.${expression}`);
  if (components.length !== 2 || components.some((c) => ownsTail(c, c.expression))) return components;
  const [a, b] = components;
  if (!ownsTail(a, b.expression) || !ownsTail(b, a.expression)) return components;
  return [
    { ...a, expression: b.expression },
    { ...b, expression: a.expression },
  ];
}

export function render(definitions) {
  return [
    '// Generated by scripts/extract-r4-search-parameters.mjs from the official R4 SearchParameters. Do not edit.',
    "import type { SearchParamDefinition } from '../../search/types.js';",
    '',
    'export const R4_SEARCH_PARAMETERS: SearchParamDefinition[] = [',
    ...definitions.map((d) => `  ${JSON.stringify(d)},`),
    '];',
    '',
  ].join('\n');
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const definitions = extractSearchParameters();
  writeFileSync(out, render(definitions));
  console.log(`wrote ${definitions.length} search parameter definitions to ${path.relative(process.cwd(), out)}`);
}
