import { FhirError, type Issue } from './outcome.js';
import { PROTOTYPE_KEYS, textProblem } from './text-rules.js';

/** Deep enough for every official R4 example (the deepest, Bundle-v3-valuesets.json, nests 22 levels). */
export const DEFAULT_MAX_JSON_DEPTH = 100;

/** The most MAX_JSON_DEPTH may be: the recursive walkers of request input are tested to this depth. */
export const MAX_JSON_DEPTH_LIMIT = 500;

/** Enough issues for a client to fix a body in one round, few enough that a hostile body cannot make a huge answer. */
const MAX_ISSUES = 20;

/**
 * Parses JSON text a client sent, and refuses (400, each problem named as a FHIRPath) what the server could not
 * keep exactly or safely: nesting deeper than `maxDepth`, numbers a double cannot hold as written, strings FHIR
 * forbids (server/fhir/text-rules.ts), and keys that reach an object's prototype. V8's JSON.parse is iterative, and
 * so is the scan, so nothing here recurses however deep the text nests: the depth limit protects what runs later
 * (JSON.stringify, the validators, FHIRPath, index extraction all recurse).
 */
export function parseJsonText(text: string, maxDepth: number, what = 'The body'): unknown {
  // The scan comes first: JSON.parse of a body of nothing but brackets costs seconds, the scan stops at the limit.
  const issues = scanJsonText(text, maxDepth);
  if (issues[0]?.code === 'too-costly') throw new FhirError(400, issues);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text) as unknown;
  } catch (error) {
    throw new FhirError(400, { code: 'structure', diagnostics: `${what} is not valid JSON: ${(error as Error).message}` });
  }
  if (issues.length) throw new FhirError(400, issues);
  return parsed;
}

/** One open object or array; its key or index is where the next value goes. */
interface Frame {
  array: boolean;
  awaitingKey: boolean;
  key: string;
  index: number;
}

interface Found {
  code: Issue['code'];
  frames: Array<string | number>;
  problem: (path: string) => string;
}

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

/**
 * The problems of JSON text, in document order; past `maxDepth` only that one (the scan stops there). The scan
 * keeps only a stack of the open containers' current keys and indexes, and spells a path out only for a problem.
 * Text that is not JSON gets no promise beyond ending the scan: JSON.parse names its syntax error.
 */
export function scanJsonText(text: string, maxDepth: number): Issue[] {
  const found: Found[] = [];
  const stack: Frame[] = [];
  let rootType: string | undefined;
  let nextEscape = text.indexOf('\\');
  let nextSurrogate = findSurrogate(text, 0);
  const here = (): Array<string | number> => stack.map((frame) => (frame.array ? frame.index : frame.key));
  // Past the cap nothing is spelled out: a body of a million bad numbers costs no more than one of a million good ones.
  const note = (code: Issue['code'], problem: (path: string) => string, parentOnly = false): void => {
    if (found.length >= MAX_ISSUES) return;
    const frames = here();
    found.push({ code, frames: parentOnly ? frames.slice(0, -1) : frames, problem });
  };

  for (let i = skipSpace(text, 0); i < text.length; i = skipSpace(text, i)) {
    const c = text.charCodeAt(i);
    const top = stack[stack.length - 1];
    if (c === 0x7b || c === 0x5b) {
      // `{` or `[`: the container's own path is its parent's current key or index.
      if (stack.length === maxDepth) {
        const path = spell(rootType ?? '$', here());
        return [{ code: 'too-costly', diagnostics: `${path} nests deeper than the ${maxDepth} levels this server accepts`, expression: [path] }];
      }
      stack.push({ array: c === 0x5b, awaitingKey: c === 0x7b, key: '', index: 0 });
      i++;
    } else if (c === 0x7d || c === 0x5d) {
      stack.pop();
      i++;
    } else if (c === 0x2c && top) {
      if (top.array) top.index++;
      else top.awaitingKey = true;
      i++;
    } else if (c === 0x22) {
      const end = stringEnd(text, i);
      // Where forbidden characters can hide: escapes (\u0000, \ud800) and surrogates. Most strings have neither,
      // and are not even copied; the next of each is looked up once and kept (the scan stays linear).
      if (nextEscape >= 0 && nextEscape < i) nextEscape = text.indexOf('\\', i);
      if (nextSurrogate >= 0 && nextSurrogate < i) nextSurrogate = findSurrogate(text, i);
      const escaped = nextEscape >= 0 && nextEscape < end;
      const suspect = escaped || (nextSurrogate >= 0 && nextSurrogate < end);
      const isKey = top !== undefined && !top.array && top.awaitingKey;
      if (isKey || suspect || (stack.length === 1 && top.key === 'resourceType')) {
        // JSON.parse of the one token decodes its escapes exactly.
        const value = escaped ? decodeString(text.slice(i, end)) : text.slice(i + 1, end - 1);
        const problem = suspect ? textProblem(value) : undefined;
        if (isKey) {
          top.awaitingKey = false;
          top.key = value;
          if (problem) note('invalid', (path) => `An element name in ${path} ${problem}`, true);
          else if (PROTOTYPE_KEYS.has(value)) note('invalid', (path) => `${path} is not a FHIR element name`);
        } else {
          if (problem) note('value', (path) => `${path} ${problem}`);
          if (stack.length === 1 && top.key === 'resourceType') rootType = value;
        }
      }
      i = end;
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      NUMBER.lastIndex = i;
      const token = NUMBER.exec(text)?.[0] ?? text[i];
      const problem = numberProblem(token);
      if (problem) note('value', (path) => `${path} ${problem}`);
      i += token.length;
    } else if (c === 0x74 || c === 0x6e) {
      i += 4; // true, null
    } else if (c === 0x66) {
      i += 5; // false
    } else {
      i++; // whitespace, `:`
    }
  }

  const root = rootType ?? '$';
  return found.map(({ code, frames, problem }) => {
    const path = spell(root, frames);
    return { code, diagnostics: problem(path), expression: [path] };
  });
}

const SURROGATE = /[\uD800-\uDFFF]/g;
const SPACE = /[ \t\r\n:]*/y;

/** Past whitespace and `:`, which carry nothing the scan needs; a regex steps over indentation faster than a loop. */
function skipSpace(text: string, from: number): number {
  // Past the end (a literal cut short), a failed sticky match would reset lastIndex to 0: the scan would restart.
  if (from >= text.length) return from;
  SPACE.lastIndex = from;
  SPACE.test(text);
  return SPACE.lastIndex;
}

function findSurrogate(text: string, from: number): number {
  SURROGATE.lastIndex = from;
  return SURROGATE.exec(text)?.index ?? -1;
}

/** The index just past the string token that starts at `start` (an opening quote); the end for an unclosed one. */
function stringEnd(text: string, start: number): number {
  let i = start + 1;
  for (;;) {
    const quote = text.indexOf('"', i);
    if (quote < 0) return text.length;
    let backslashes = 0;
    for (let j = quote - 1; text.charCodeAt(j) === 0x5c; j--) backslashes++;
    if (backslashes % 2 === 0) return quote + 1;
    i = quote + 1;
  }
}

/** A string token's value; an invalid escape reads as nothing to check (JSON.parse refuses the text anyway). */
function decodeString(raw: string): string {
  try {
    return JSON.parse(raw) as string;
  } catch {
    return '';
  }
}

/** `Observation.component[0].valueQuantity.value`: each open container's current key or index, from the root. */
function spell(root: string, frames: Array<string | number>): string {
  let path = root;
  for (const frame of frames) path += typeof frame === 'number' ? `[${frame}]` : `.${frame}`;
  return path;
}

/**
 * Why a JSON number cannot be kept as written, or undefined. JSON.parse makes a double of it, and what is stored is
 * that double's shortest form: so the token must name a finite double whose significant digits are the token's.
 * Trailing zeros are not digits a double can keep (1.10 is stored as 1.1; docs/DEVIATIONS.md), nor is the notation
 * (1e2 and 100 are one value).
 */
export function numberProblem(token: string): string | undefined {
  // At most 15 digits and no exponent: a double keeps every such decimal (DBL_DIG is 15). Most numbers end here.
  if (token.length <= 15 && !token.includes('e') && !token.includes('E')) return undefined;
  const value = Number(token);
  if (!Number.isFinite(value)) return `is a number too large for this server to store (${describe(token)})`;
  if (significant(token) !== significant(String(value))) {
    return `is a number with more precision than this server can store exactly (${describe(token)}; it would become ${value})`;
  }
  return undefined;
}

/** Sign, significant digits and exponent: `-0.0120e3` → `-12e0`; every zero → `0`. */
function significant(number: string): string {
  const m = /^(-?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?$/.exec(number)!;
  const fraction = m[3] ?? '';
  let digits = (m[2] + fraction).replace(/^0+/, '');
  if (!digits) return '0';
  const trimmed = digits.replace(/0+$/, '');
  const exponent = BigInt(m[4] ?? '0') - BigInt(fraction.length) + BigInt(digits.length - trimmed.length);
  digits = trimmed;
  return `${m[1]}${digits}e${exponent}`;
}

/** A number as the client wrote it, shortened: a hostile token can be megabytes long. */
function describe(token: string): string {
  return token.length > 40 ? `${token.slice(0, 20)}…${token.slice(-10)} (${token.length} characters)` : token;
}
