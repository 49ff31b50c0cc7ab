import type { Json } from './context.js';

/**
 * Whether an invariant can be false for an instance, judged from which of the children its expression starts
 * from are absent or present, without running FHIRPath. Most core invariants only constrain children that are
 * there: `binding.empty() or …`, `(code = 'Reference') or targetProfile.empty()`, `x.exists() implies …`,
 * `a.all(…)`. With the absent ones known to be empty collections, the expression is evaluated abstractly over
 * FHIRPath's three-valued logic (true, false, empty): when no combination of the unknown parts can make it
 * `false`, the invariant holds (the validator fails only on `false`) and is not evaluated.
 *
 * The analysis is conservative: anything it does not model (a function it does not know, `%resource`, `$this`,
 * an identifier that may be a type name) makes that part "anything", which never lets it skip wrongly. A skipped
 * evaluation that would have thrown (a function given many items where it takes one) is not reported as "not
 * checked"; the invariant could not have been false.
 */
export interface Guard {
  /** The children the expression navigates from its context, each tested for presence once per instance. */
  names: string[];
  /** True when the invariant cannot be false, given each name's state (see `nameState`). */
  cannotFail(states: NameState[]): boolean;
}

/** absent: no key of that name (nor `_name`, nor a choice `nameType`); present: the key itself holds a value. */
export type NameState = 'absent' | 'present' | 'unknown';

/** The possible outcomes of a boolean (sub)expression: a subset of true, false and empty. */
type Outcomes = number;
const T = 1;
const F = 2;
const E = 4;
const ALL = T | F | E;

/** What the analysis knows of a subexpression's value. */
type Abstract = { kind: 'empty' } | { kind: 'nonEmpty' } | { kind: 'bool'; outcomes: Outcomes } | { kind: 'any' };
const EMPTY: Abstract = { kind: 'empty' };
const NON_EMPTY: Abstract = { kind: 'nonEmpty' };
const ANY: Abstract = { kind: 'any' };
const bool = (outcomes: Outcomes): Abstract => ({ kind: 'bool', outcomes });

type Node =
  | { op: 'member'; name: string }
  | { op: 'path'; input: Node; name: string }
  | { op: 'call'; input: Node | undefined; name: string }
  | { op: 'binary'; operator: string; left: Node; right: Node }
  | { op: 'other' };

export function guardOf(expression: string): Guard | undefined {
  let ast: Node;
  try {
    ast = new Parser(tokenize(expression)).parseAll();
  } catch {
    return undefined;
  }
  const names = [...new Set(rootNames(ast))];
  if (!names.length) return undefined;
  const cache = new Map<string, boolean>();
  return {
    names,
    cannotFail(states) {
      const key = states.join();
      let answer = cache.get(key);
      if (answer === undefined) {
        const state = new Map(names.map((n, i) => [n, states[i]]));
        const value = evaluate(ast, state);
        answer = value.kind === 'empty' || (value.kind === 'bool' && (value.outcomes & F) === 0);
        cache.set(key, answer);
      }
      return answer;
    },
  };
}

/** The state of child `name` in an instance's JSON. */
export function nameState(value: Json, name: string): NameState {
  const own = value[name];
  if (own !== undefined && own !== null && !(Array.isArray(own) && own.length === 0)) return 'present';
  for (const key in value) {
    const bare = key.charCodeAt(0) === 95 ? key.slice(1) : key;
    if (bare === name) return 'unknown';
    if (bare.length > name.length && bare.startsWith(name)) {
      const next = bare.charCodeAt(name.length);
      if (next >= 65 && next <= 90) return 'unknown';
    }
  }
  return 'absent';
}

// ---- abstract evaluation ----

/** Functions that give an empty collection for an empty input, whatever their arguments. */
const EMPTY_IN_EMPTY_OUT = new Set([
  'where', 'select', 'first', 'last', 'tail', 'skip', 'take', 'single', 'distinct', 'ofType', 'as', 'trace',
  'matches', 'matchesFull', 'startsWith', 'endsWith', 'contains', 'substring', 'length', 'toInteger', 'toDecimal',
  'toString', 'toDate', 'toDateTime', 'toQuantity', 'toBoolean', 'lower', 'upper', 'replace', 'replaceMatches',
  'indexOf', 'children', 'descendants', 'repeat', 'resolve', 'extension', 'memberOf', 'abs', 'ceiling', 'floor',
  'round', 'sqrt', 'truncate', 'exp', 'ln', 'log', 'power', 'split', 'trim', 'encode', 'decode', 'toChars',
  'intersect', 'exclude', 'not',
]);

function evaluate(node: Node, state: Map<string, NameState>): Abstract {
  switch (node.op) {
    case 'member': {
      const s = state.get(node.name);
      return s === 'absent' ? EMPTY : s === 'present' ? NON_EMPTY : ANY;
    }
    case 'path':
      return evaluate(node.input, state).kind === 'empty' ? EMPTY : ANY;
    case 'call':
      return call(node.name, node.input ? evaluate(node.input, state) : ANY);
    case 'binary':
      return binary(node.operator, evaluate(node.left, state), evaluate(node.right, state));
    default:
      return ANY;
  }
}

function call(name: string, input: Abstract): Abstract {
  if (input.kind === 'empty') {
    if (name === 'exists' || name === 'hasValue') return bool(F);
    if (name === 'empty' || name === 'all' || name === 'isDistinct' || name === 'allTrue' || name === 'allFalse') return bool(T);
    if (name === 'anyTrue' || name === 'anyFalse') return bool(F);
    return EMPTY_IN_EMPTY_OUT.has(name) ? EMPTY : ANY;
  }
  if (input.kind === 'nonEmpty') {
    if (name === 'exists') return bool(T);
    if (name === 'empty') return bool(F);
  }
  if (input.kind === 'bool' && name === 'not') return bool(flip(input.outcomes));
  return ANY;
}

const flip = (o: Outcomes): Outcomes => (o & E) | (o & T ? F : 0) | (o & F ? T : 0);

/** A value used as a boolean: empty stays empty; anything else may be true, false, empty (or an error). */
function outcomesOf(value: Abstract): Outcomes {
  if (value.kind === 'empty') return E;
  if (value.kind === 'bool') return value.outcomes;
  return ALL;
}

const TABLES: Record<string, (a: number, b: number) => number> = {
  and: (a, b) => (a === F || b === F ? F : a === T && b === T ? T : E),
  or: (a, b) => (a === T || b === T ? T : a === F && b === F ? F : E),
  xor: (a, b) => (a === E || b === E ? E : a === b ? F : T),
  implies: (a, b) => (a === F ? T : a === T ? b : b === T ? T : E),
};

function binary(operator: string, left: Abstract, right: Abstract): Abstract {
  const table = TABLES[operator];
  if (table) {
    const l = outcomesOf(left);
    const r = outcomesOf(right);
    let out = 0;
    for (const a of [T, F, E]) if (l & a) for (const b of [T, F, E]) if (r & b) out |= table(a, b);
    return bool(out);
  }
  // Comparisons, arithmetic and membership of an empty left side are empty (`in`: the left; `contains`: the
  // right); so is any comparison with an empty right side.
  const emptyLeft = left.kind === 'empty';
  const emptyRight = right.kind === 'empty';
  if (['=', '!=', '<', '>', '<=', '>=', '+', '-', '*', '/', 'div', 'mod', 'is', 'as'].includes(operator) && (emptyLeft || emptyRight)) return EMPTY;
  if (operator === 'in' && emptyLeft) return EMPTY;
  if (operator === 'contains' && emptyRight) return EMPTY;
  if (operator === '|' && emptyLeft && emptyRight) return EMPTY;
  return ANY;
}

/** The names navigated from the context: the first member of each path outside function arguments. */
function rootNames(node: Node): string[] {
  switch (node.op) {
    case 'member':
      return [node.name];
    case 'path':
      return rootNames(node.input);
    case 'call':
      return node.input ? rootNames(node.input) : [];
    case 'binary':
      return [...rootNames(node.left), ...rootNames(node.right)];
    default:
      return [];
  }
}

// ---- a FHIRPath parser, as far as the analysis needs ----

interface Token {
  kind: 'id' | 'string' | 'number' | 'punct' | 'other';
  text: string;
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'" || c === '`') {
      let j = i + 1;
      while (j < text.length && text[j] !== c) j += text[j] === '\\' ? 2 : 1;
      if (j >= text.length) throw new Error('unterminated literal');
      tokens.push({ kind: c === "'" ? 'string' : 'id', text: text.slice(i + 1, j) });
      i = j + 1;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i))![0];
      tokens.push({ kind: 'id', text: m });
      i += m.length;
    } else if (/[0-9]/.test(c)) {
      const m = /^[0-9]+(\.[0-9]+)?/.exec(text.slice(i))![0];
      tokens.push({ kind: 'number', text: m });
      i += m.length;
    } else if (c === '@' || c === '%' || c === '$') {
      // Date and time literals, environment variables, $this/$index/$total: values the analysis does not know.
      const m = (c === '@' ? /^@[0-9A-Za-z:.+\-]*/ : /^[%$][A-Za-z0-9_]*/).exec(text.slice(i))![0];
      let end = i + m.length;
      if (c === '%' && text[i + 1] === '`') end = text.indexOf('`', i + 2) + 1;
      if (end <= i) throw new Error('unterminated variable');
      tokens.push({ kind: 'other', text: text.slice(i, end) });
      i = end;
    } else {
      const two = text.slice(i, i + 2);
      const op = ['!=', '<=', '>=', '!~'].includes(two) ? two : c;
      tokens.push({ kind: 'punct', text: op });
      i += op.length;
    }
  }
  return tokens;
}

/** Binary operators by precedence, loosest first (FHIRPath §Operator precedence). */
const LEVELS: string[][] = [['implies'], ['or', 'xor'], ['and'], ['in', 'contains'], ['=', '~', '!=', '!~'], ['<', '>', '<=', '>='], ['|'], ['is', 'as'], ['+', '-', '&'], ['*', '/', 'div', 'mod']];

class Parser {
  private at = 0;
  constructor(private readonly tokens: Token[]) {}

  parseAll(): Node {
    const node = this.parse(0);
    if (this.at !== this.tokens.length) throw new Error('unparsed rest');
    return node;
  }

  private peek(): Token | undefined {
    return this.tokens[this.at];
  }

  private isOperator(token: Token | undefined, level: number): boolean {
    return !!token && (token.kind === 'punct' || token.kind === 'id') && LEVELS[level].includes(token.text);
  }

  private expect(text: string): void {
    if (this.peek()?.text !== text) throw new Error(`expected ${text}`);
    this.at++;
  }

  private parse(level: number): Node {
    if (level === LEVELS.length) return this.unary();
    let left = this.parse(level + 1);
    while (this.isOperator(this.peek(), level)) {
      const operator = this.tokens[this.at++].text;
      if (operator === 'is' || operator === 'as') {
        this.typeSpecifier();
        left = { op: 'binary', operator, left, right: { op: 'other' } };
      } else {
        left = { op: 'binary', operator, left, right: this.parse(level + 1) };
      }
    }
    return left;
  }

  private typeSpecifier(): void {
    this.identifier();
    while (this.peek()?.text === '.') {
      this.at++;
      this.identifier();
    }
  }

  private identifier(): string {
    const token = this.tokens[this.at++];
    if (token?.kind !== 'id') throw new Error('expected an identifier');
    return token.text;
  }

  private unary(): Node {
    const token = this.peek();
    if (token?.kind === 'punct' && (token.text === '-' || token.text === '+')) {
      this.at++;
      this.unary();
      return { op: 'other' };
    }
    return this.postfix(this.term());
  }

  private term(): Node {
    const token = this.tokens[this.at++];
    if (!token) throw new Error('unexpected end');
    if (token.kind === 'punct' && token.text === '(') {
      const inner = this.parse(0);
      this.expect(')');
      return inner;
    }
    if (token.kind === 'punct' && token.text === '{') {
      this.expect('}');
      return { op: 'other' };
    }
    if (token.kind === 'id') {
      if (token.text === 'true' || token.text === 'false') return { op: 'other' };
      if (this.peek()?.text === '(') {
        this.arguments();
        return { op: 'call', input: undefined, name: token.text };
      }
      // A capitalised identifier may name a type (`Patient.name` at a resource's root): not a child.
      return /^[a-z]/.test(token.text) ? { op: 'member', name: token.text } : { op: 'other' };
    }
    if (token.kind === 'number' && this.peek()?.kind === 'string') {
      this.at++; // a quantity: 4 'mg'
    }
    if (token.kind === 'punct') throw new Error(`unexpected ${token.text}`);
    return { op: 'other' };
  }

  private arguments(): void {
    this.expect('(');
    if (this.peek()?.text === ')') {
      this.at++;
      return;
    }
    this.parse(0);
    while (this.peek()?.text === ',') {
      this.at++;
      this.parse(0);
    }
    this.expect(')');
  }

  private postfix(node: Node): Node {
    for (;;) {
      const token = this.peek();
      if (token?.text === '.') {
        this.at++;
        const name = this.identifier();
        if (this.peek()?.text === '(') {
          this.arguments();
          node = { op: 'call', input: node, name };
        } else {
          node = { op: 'path', input: node, name };
        }
      } else if (token?.text === '[') {
        this.at++;
        this.parse(0);
        this.expect(']');
        node = { op: 'path', input: node, name: '[]' };
      } else {
        return node;
      }
    }
  }
}
