import type { ElementDefinitionConstraint } from 'fhir/r4';
import fhirpath, { type UserInvocationTable } from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4';
import { report, type Json, type WalkContext } from './context.js';
import type { ElementNode } from './element-tree.js';
import { correctedExpression } from './invariant-corrections.js';
import { guardOf, nameState, type Guard } from './invariant-guard.js';
import { hasValueOrChildren, hasExtensionOrValue } from './native-invariants.js';

type Evaluate = (input: unknown, environment: Record<string, unknown>) => unknown[];

interface Compiled {
  constraint: ElementDefinitionConstraint;
  /** ele-1 and ext-1 natively, or a compiled FHIRPath (or why it does not compile). */
  check: 'ele-1' | 'ext-1' | Evaluate | Error;
  /** Which children's absence or presence makes the invariant true without FHIRPath (invariant-guard.ts). */
  guard?: Guard;
}

/**
 * FHIRPath `matches(regex[, flags])` as fhirpath.js's ESM build defines it (a partial match, flags `su` plus `i`
 * and `m` when asked), with each regex compiled once: fhirpath.js compiles it again at every call, which was a
 * tenth of the validator's time on the official examples (eld-19 and eld-20 run on every element definition).
 */
const compiledRegexes = new Map<string, RegExp>();

function matches(input: unknown[], regex: string, flags?: string): boolean | [] {
  if (input.length > 1) throw new Error(`Unexpected collection of ${input.length} items; expected a singleton String for matches()`);
  const value = input[0];
  if (value === undefined || value === null || regex === undefined || regex === null) return [];
  if (typeof value !== 'string') throw new Error(`Expected string, but got: ${JSON.stringify(value)}`);
  if (flags !== undefined && !/^[im]*$/.test(flags)) throw new Error('matches flags must only contain i and/or m');
  const js = `u${flags?.includes('i') ? 'i' : ''}${flags?.includes('m') ? 'm' : ''}s`;
  const key = `${js}/${regex}`;
  let compiled = compiledRegexes.get(key);
  if (!compiled) compiledRegexes.set(key, (compiled = new RegExp(regex, js)));
  return compiled.test(value);
}

/** `trace()` in core expressions (dom-3, ref-1) would otherwise print to the console. */
const USER_FUNCTIONS: UserInvocationTable = { matches: { fn: matches, arity: { 1: ['String'], 2: ['String', 'String'] } } };
const OPTIONS = { traceFn: () => undefined, userInvocationTable: USER_FUNCTIONS };

/**
 * Each invariant compiled once per (element path, expression), with the element's path as FHIRPath's base so
 * the R4 model types its children (choice elements, `is`, `as`), and each element's list of invariants (its own
 * and its type's, once per key) kept with the element. A compile error is kept and reported as "not checked",
 * like an evaluation error.
 */
export class Invariants {
  /**
   * `nativeOnly`: only ele-1 and ext-1, which cost no FHIRPath; the base-definition check of every write runs so
   * (docs/CONFORMANCE.md), `$validate` and profiles with every invariant.
   */
  constructor(private readonly nativeOnly = false) {}

  private readonly compiled = new Map<string, Evaluate | Error>();
  private readonly guards = new Map<string, Guard | undefined>();
  private readonly perNode = new WeakMap<ElementNode, Map<ElementNode | undefined, Compiled[]>>();
  private readonly perPrimitive = new WeakMap<ElementNode, Compiled[]>();

  /** A primitive element's own FHIRPath invariants (txt-1 on Narrative.div, eld-3 on max); ele-1 is native. */
  ofPrimitive(node: ElementNode): Compiled[] {
    let list = this.perPrimitive.get(node);
    if (!list) {
      list = this.nativeOnly ? [] : node.constraints.filter((c) => c.expression && c.key !== 'ele-1' && c.key !== 'ext-1').map((c) => this.compile(node.path, c));
      this.perPrimitive.set(node, list);
    }
    return list;
  }

  of(node: ElementNode, typeRoot: ElementNode | undefined): Compiled[] {
    let perType = this.perNode.get(node);
    if (!perType) this.perNode.set(node, (perType = new Map()));
    let list = perType.get(typeRoot);
    if (!list) {
      list = [];
      const seen = new Set<string>();
      const owners = typeRoot && typeRoot !== node ? [node, typeRoot] : [node];
      for (const owner of owners) {
        for (const constraint of owner.constraints) {
          const native = constraint.key === 'ele-1' || constraint.key === 'ext-1';
          if (seen.has(constraint.key) || (!constraint.expression && !native) || (this.nativeOnly && !native)) continue;
          seen.add(constraint.key);
          list.push(this.compile(owner.path, constraint));
        }
      }
      perType.set(typeRoot, list);
    }
    return list;
  }

  private compile(base: string, constraint: ElementDefinitionConstraint): Compiled {
    if (constraint.key === 'ele-1' || constraint.key === 'ext-1') return { constraint, check: constraint.key };
    const expression = correctedExpression(constraint.key, constraint.expression as string);
    const key = `${base}\u0000${expression}`;
    let check = this.compiled.get(key);
    if (!check) {
      try {
        check = fhirpath.compile({ base, expression }, r4, OPTIONS) as Evaluate;
      } catch (error) {
        check = error instanceof Error ? error : new Error(String(error));
      }
      this.compiled.set(key, check);
    }
    if (!this.guards.has(expression)) this.guards.set(expression, guardOf(expression));
    return { constraint, check, guard: this.guards.get(expression) };
  }
}

/**
 * ele-1 and ext-1 hold on every element and extension: they are checked natively (native-invariants.ts says
 * why each is equivalent), everything else through fhirpath. A result of `false` breaks the invariant; an empty
 * result (e.g. comparing dates of different precision) does not decide, and passes.
 */
export function checkInvariants(ctx: WalkContext, node: ElementNode, typeRoot: ElementNode | undefined, value: Json, path: string): void {
  for (const compiled of ctx.invariants.of(node, typeRoot)) {
    const { check, constraint, guard } = compiled;
    if (check === 'ele-1') {
      if (!hasValueOrChildren(value)) fail(ctx, constraint, path);
    } else if (check === 'ext-1') {
      if (!hasExtensionOrValue(value)) fail(ctx, constraint, path);
    } else if (!guard || !guard.cannotFail(guard.names.map((name) => nameState(value, name)))) {
      evaluate(ctx, check, constraint, value, path);
    }
  }
}

/** The invariants of a primitive element on its value: FHIRPath sees the value typed by the element's path. */
export function checkPrimitiveInvariants(ctx: WalkContext, node: ElementNode, value: unknown, path: string): void {
  for (const { check, constraint, guard } of ctx.invariants.ofPrimitive(node)) {
    if (typeof check === 'string') continue;
    // A primitive has no children but its id and extensions: an invariant a choice element states for its
    // complex types (ras-1 on probability[x]: `low.empty() or …`) holds on its primitive ones.
    if (guard?.cannotFail(guard.names.map((name) => (name === 'id' || name === 'extension' ? 'unknown' : 'absent')))) continue;
    evaluate(ctx, check, constraint, value, path);
  }
}

function evaluate(ctx: WalkContext, check: Evaluate | Error, constraint: ElementDefinitionConstraint, value: unknown, path: string): void {
  let result: unknown[];
  try {
    if (check instanceof Error) throw check;
    result = check(value, { resource: ctx.resource, rootResource: ctx.rootResource });
  } catch (error) {
    if (ctx.notChecked.has(constraint.key)) return;
    ctx.notChecked.add(constraint.key);
    const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0].slice(0, 200);
    report(ctx, 'information', 'informational', path, `invariant ${constraint.key} not checked: ${reason}`);
    return;
  }
  if (result.length === 1 && result[0] === false) fail(ctx, constraint, path);
}

function fail(ctx: WalkContext, constraint: ElementDefinitionConstraint, path: string): void {
  const severity = constraint.severity === 'warning' ? 'warning' : 'error';
  report(ctx, severity, 'invariant', path, `${constraint.key}: ${constraint.human} (${path})`);
}
