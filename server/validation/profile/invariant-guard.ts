import type { Json } from './context.js';

/** The child whose absence (or presence) makes an invariant true, however the rest would evaluate. */
export interface Guard {
  name: string;
  trueWhen: 'absent' | 'present';
}

/**
 * Many core invariants open with a guard on one child: `fixed.empty() or …`, `binding.exists() implies …`,
 * `code.exists() or …`, or are `element.all(…)` as a whole. When the guard decides, the invariant is true
 * whatever follows (`true or x` is true, `false implies x` is true, `{}.all(…)` is true in FHIRPath), so it
 * need not be evaluated: on the official examples this skips a good share of the FHIRPath calls. A guard counts
 * only when the rest cannot regroup it: no `implies` (nor `xor`, after `or`) at the top level of the rest, since
 * `a.empty() or b implies c` means `(a.empty() or b) implies c`.
 */
const GUARD = /^([a-zA-Z][a-zA-Z0-9]*)\.(empty|exists)\(\) (or|implies) /;
const ALL = /^([a-zA-Z][a-zA-Z0-9]*)\.all\(/;

export function guardOf(expression: string): Guard | undefined {
  const all = ALL.exec(expression);
  if (all && expression.endsWith(')') && closingParen(expression, all[0].length - 1) === expression.length - 1) {
    return { name: all[1], trueWhen: 'absent' };
  }
  const match = GUARD.exec(expression);
  if (!match) return undefined;
  const [whole, name, test, operator] = match;
  if (test === 'exists' && operator === 'or') return safeRest(expression.slice(whole.length), operator) ? { name, trueWhen: 'present' } : undefined;
  if ((test === 'empty') !== (operator === 'or')) return undefined;
  return safeRest(expression.slice(whole.length), operator) ? { name, trueWhen: 'absent' } : undefined;
}

function safeRest(rest: string, operator: string): boolean {
  const words = topLevelWords(rest);
  return words !== undefined && !words.has('implies') && !(operator === 'or' && words.has('xor'));
}

/** The index of the parenthesis closing the one at `open`, skipping string literals. */
function closingParen(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (c === "'") {
      i = endOfLiteral(text, i);
      if (i < 0) return -1;
    } else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i;
  }
  return -1;
}

/** The words outside parentheses, brackets and string literals; undefined when the text does not balance. */
function topLevelWords(text: string): Set<string> | undefined {
  const words = new Set<string>();
  let depth = 0;
  let word = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "'" || c === '`') {
      const end = endOfLiteral(text, i);
      if (end < 0) return undefined;
      i = end;
      word = '';
    } else if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') {
      if (--depth < 0) return undefined;
    } else if (/[A-Za-z]/.test(c) && depth === 0) {
      word += c;
      continue;
    }
    if (word) words.add(word);
    word = '';
  }
  if (word) words.add(word);
  return depth === 0 ? words : undefined;
}

/** Whether the JSON holds the element `name`: the key itself, its `_name` companion, or a choice `name<Type>`. */
export function holds(value: Json, name: string): boolean {
  for (const key in value) {
    const bare = key.charCodeAt(0) === 95 ? key.slice(1) : key;
    if (bare === name) return true;
    if (bare.startsWith(name) && bare.length > name.length) {
      const next = bare.charCodeAt(name.length);
      if (next >= 65 && next <= 90) return true;
    }
  }
  return false;
}

/** The index of the quote closing the string literal (or delimited identifier) opened at `start`; `\\` escapes. */
function endOfLiteral(text: string, start: number): number {
  const quote = text[start];
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === quote) return i;
  }
  return -1;
}
