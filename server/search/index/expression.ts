import { compileFhirPath, isChoiceName, jsonNames, type Evaluator } from './fhirpath.js';
import { compileMemberPath, ENGINE_FALLBACK } from './member-path.js';
import { referenceType } from './reference.js';
import { splitUnion, unwrap } from './union.js';
import { isRecord, type FhirValue } from './values.js';

/** One compiled union part of an expression; `targetType` keeps only references to that resource type. */
interface Branch {
  evaluate: Evaluator;
  /** The same selection without the engine, for a plain member path (member-path.ts); its values carry no node. */
  walk?: Evaluator;
  targetType?: string;
  /** A plain path from the resource selects nothing unless one of these JSON properties is present. */
  requires?: string[];
  /** A plain path relative to an element selects nothing unless the element has this member (any choice type). */
  member?: string;
  /** Only expressions that read %resource get an environment: building one costs on every call. */
  usesResource: boolean;
  /** A trailing `.where(member = 'literal')`, applied here: the engine's equality is slow for so simple a test. */
  where?: { member: string; literal: string };
}

const RESOLVE_IS = /^(.*)\.where\(\s*resolve\(\)\s+is\s+([A-Za-z]+)\s*\)$/s;
const WHERE_EQUALS = /^(.*)\.where\(\s*([a-z][A-Za-z]*)\s*=\s*'([^'\\]*)'\s*\)$/s;

/**
 * A navigation from the root type through members, filters and type filters, which is empty whenever its first
 * member is. Expressions with operators or functions such as exists() are not: `X.deceased.exists() and …` is
 * false, not empty, on a resource without `deceased`.
 */
const STEPS = String.raw`(?:\.[a-z][A-Za-z]*|\.(?:where|ofType|extension)\([^()]*\)|\[\d+\]|\.first\(\))*`;
const PLAIN_PATH = new RegExp(String.raw`^([A-Z][A-Za-z]*)\.([a-z][A-Za-z]*)${STEPS}$`);
const PLAIN_RELATIVE_PATH = new RegExp(String.raw`^([a-z][A-Za-z]*)${STEPS}$`);

const branchCache = new Map<string, Branch[]>();

/**
 * The evaluators of an expression, one per top-level union part. Parts are evaluated apart and their results
 * concatenated (the extractor drops duplicate rows itself): fhirpath.js's `|` compares items to remove duplicates
 * and throws on a Quantity with a comparator. There is no resolver at index time, so a part ending in
 * `.where(resolve() is X)` is compiled without that clause, and keeps only the references whose own text
 * (`X/id`, `…/X/id`) or Reference.type says X.
 */
export function compileExpression(expression: string): Branch[] {
  let branches = branchCache.get(expression);
  if (!branches) {
    branches = splitUnion(repair(expression)).map((part) => {
      const match = RESOLVE_IS.exec(unwrap(part));
      let path = match ? match[1] : part;
      if (path.includes('resolve()')) throw new Error(`resolve() is only supported as .where(resolve() is X): ${part}`);
      const equals = whereEquals(unwrap(path));
      if (equals) path = equals.path;
      const branch: Branch = { evaluate: compileFhirPath(path), walk: compileMemberPath(unwrap(path)), usesResource: path.includes('%resource') };
      if (match) branch.targetType = match[2];
      if (equals) branch.where = { member: equals.member, literal: equals.literal };
      const plain = PLAIN_PATH.exec(unwrap(path));
      if (plain) branch.requires = jsonNames(`${plain[1]}.${plain[2]}`, plain[2]);
      const relative = PLAIN_RELATIVE_PATH.exec(unwrap(path));
      if (relative) branch.member = relative[1];
      return branch;
    });
    branchCache.set(expression, branches);
  }
  return branches;
}

function whereEquals(path: string): { path: string; member: string; literal: string } | undefined {
  const match = WHERE_EQUALS.exec(path);
  // Only for a member with one JSON name: `where(value = 'x')` must also see valueString.
  return match && !isChoiceName(match[2]) ? { path: match[1], member: match[2], literal: match[3] } : undefined;
}

/**
 * The items an expression selects from a resource. `withNodes`: the caller evaluates further from the items (a
 * composite's components), so each must carry the engine's node.
 */
export function selectFromResource(expression: string, resource: object, withNodes = false): FhirValue[] {
  // Most parameters of a type name elements a given resource does not have; the engine would still walk them.
  return select(expression, resource, resource, (branch) => !branch.requires || branch.requires.some((n) => n in resource), withNodes);
}

/**
 * The items an expression selects relative to an element a composite selected. The environment carries
 * %resource, which MolecularSequence's composite components read.
 */
export function selectFromElement(expression: string, element: FhirValue, resource: object): FhirValue[] {
  const data = element.data;
  return select(expression, element.node, resource, (branch) => !branch.member || !isRecord(data) || hasMember(data, branch.member), true);
}

function select(expression: string, input: unknown, resource: object, worthEvaluating: (branch: Branch) => boolean, withNodes: boolean): FhirValue[] {
  const values: FhirValue[] = [];
  for (const branch of compileExpression(expression)) {
    if (!worthEvaluating(branch)) continue;
    let selected = branch.walk && !withNodes ? branch.walk(input) : ENGINE_FALLBACK;
    if (selected === ENGINE_FALLBACK) selected = branch.evaluate(input, branch.usesResource ? { resource } : undefined);
    for (const value of selected) {
      if (branch.targetType && referenceType(value) !== branch.targetType) continue;
      if (branch.where && !(isRecord(value.data) && value.data[branch.where.member] === branch.where.literal)) continue;
      values.push(value);
    }
  }
  return values;
}

/** Whether JSON has the member, directly or as a choice (`value` → `valueQuantity`). */
function hasMember(data: Record<string, unknown>, name: string): boolean {
  if (name in data) return true;
  for (const key in data) {
    const next = key.charCodeAt(name.length);
    if (key.startsWith(name) && next >= 65 && next <= 90) return true;
  }
  return false;
}

/**
 * Official R4 expressions as fhirpath.js can run them, with the meaning their authors gave them:
 * - R4 writes type filters as `(X.value as Quantity)` and `X.value.as(Quantity)`; FHIRPath's `as` requires a single
 *   item and fhirpath.js throws on several (a resource with two useContexts), so both become `ofType()`, the
 *   filter that R5's expressions use instead.
 * - Observation-code-value-date's component says `as(DateTime)`, the System type, which no FHIR dateTime is.
 */
export function repair(expression: string): string {
  return expression
    .replace(/\(([^()]+?)\s+as\s+([A-Za-z]+)\)/g, '($1.ofType($2))')
    .replace(/\.as\(\s*([A-Za-z]+)\s*\)/g, '.ofType($1)')
    .replace(/\bofType\(DateTime\)/g, 'ofType(dateTime)');
}
