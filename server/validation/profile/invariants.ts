import type { ElementDefinitionConstraint } from 'fhir/r4';
import fhirpath from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4';
import { report, type Json, type WalkContext } from './context.js';
import type { ElementNode } from './element-tree.js';
import { hasValueOrChildren, hasExtensionOrValue } from './native-invariants.js';

type Evaluate = (input: unknown, environment: Record<string, unknown>) => unknown[];

/** `trace()` in core expressions (dom-3, ref-1) would otherwise print to the console. */
const OPTIONS = { traceFn: () => undefined };

/**
 * Each invariant compiled once per (element path, expression), with the element's path as FHIRPath's base so
 * the R4 model types its children (choice elements, `is`, `as`). A compile error is kept and reported as
 * "not checked", like an evaluation error.
 */
export class Invariants {
  private readonly compiled = new Map<string, Evaluate | Error>();

  get(base: string, expression: string): Evaluate | Error {
    const key = `${base}\u0000${expression}`;
    let found = this.compiled.get(key);
    if (!found) {
      try {
        found = fhirpath.compile({ base, expression }, r4, OPTIONS) as Evaluate;
      } catch (error) {
        found = error instanceof Error ? error : new Error(String(error));
      }
      this.compiled.set(key, found);
    }
    return found;
  }
}

/**
 * ele-1 and ext-1 hold on every element and extension: they are checked natively (native-invariants.ts says
 * why each is equivalent), everything else through fhirpath. A result of `false` breaks the invariant; an empty
 * result (e.g. comparing dates of different precision) does not decide, and passes.
 */
export function checkInvariants(ctx: WalkContext, node: ElementNode, typeRoot: ElementNode | undefined, value: Json, path: string): void {
  let seen: Set<string> | undefined;
  const run = (owner: ElementNode, constraint: ElementDefinitionConstraint) => {
    if (seen?.has(constraint.key)) return;
    (seen ??= new Set()).add(constraint.key);
    if (constraint.key === 'ele-1') {
      if (!hasValueOrChildren(value)) fail(ctx, constraint, path);
    } else if (constraint.key === 'ext-1') {
      if (!hasExtensionOrValue(value)) fail(ctx, constraint, path);
    } else if (constraint.expression) {
      evaluate(ctx, owner.path, constraint, value, path);
    }
  };
  for (const constraint of node.constraints) run(node, constraint);
  if (typeRoot && typeRoot !== node) for (const constraint of typeRoot.constraints) run(typeRoot, constraint);
}

function evaluate(ctx: WalkContext, base: string, constraint: ElementDefinitionConstraint, value: Json, path: string): void {
  const compiled = ctx.invariants.get(base, constraint.expression as string);
  let result: unknown[];
  try {
    if (compiled instanceof Error) throw compiled;
    result = compiled(value, { resource: ctx.resource, rootResource: ctx.rootResource });
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
