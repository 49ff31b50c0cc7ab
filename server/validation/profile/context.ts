import type { Issue, IssueCode, IssueSeverity } from '../../fhir/outcome.js';
import type { CodeValidator } from '../../terminology/terminology.js';
import type { Invariants } from './invariants.js';
import type { Structures } from './structures.js';

/** What stays the same for a validator's lifetime. */
export interface Validation {
  structures: Structures;
  terminology: CodeValidator;
  invariants: Invariants;
}

/**
 * One validation run: where issues go, and the resources FHIRPath's %resource and %rootResource name while the
 * walk is inside a resource (a contained or Bundle entry resource starts a new %resource, keeps %rootResource).
 */
export interface WalkContext extends Validation {
  issues: Issue[];
  resource: Record<string, unknown>;
  rootResource: Record<string, unknown>;
  /** `id` → resourceType of the current resource's contained resources, for `#id` references. */
  contained: Map<string, string>;
  /** Invariants already reported as not checkable in this run (one information issue each). */
  notChecked: Set<string>;
}

export function report(ctx: WalkContext, severity: IssueSeverity, code: IssueCode, path: string, diagnostics: string): void {
  ctx.issues.push({ severity, code, diagnostics, expression: [path] });
}

/** A run whose issues are collected apart: to try an item against a slice's profile without reporting. */
export function trial(ctx: WalkContext): WalkContext {
  return { ...ctx, issues: [], notChecked: new Set(ctx.notChecked) };
}

export const hasErrors = (issues: Issue[]): boolean => issues.some((i) => i.severity === 'error' || i.severity === 'fatal');

export type Json = Record<string, unknown>;

export const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
