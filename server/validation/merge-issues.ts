import type { Issue } from '../fhir/outcome.js';
import { isResourceType } from '../fhir/resource-types.js';

/**
 * The JSON schema and the StructureDefinition walk often see the same problem (an unknown element, a missing
 * complex element, a value of the wrong JSON type or format) and name it each in its own words and path forms.
 * A client is told each problem once: issues are merged by the element they name and the kind of problem,
 * the first list's wording kept. Problems of other kinds (invariants, references, slices) are kept unless the
 * same text at the same element comes again (a profile restating its base definition).
 */
export function mergeIssues(...lists: Issue[][]): Issue[] {
  const seen = new Set<string>();
  const merged: Issue[] = [];
  for (const list of lists) {
    for (const issue of list) {
      const key = problemKey(issue);
      if (seen.has(key)) continue;
      seen.add(key);
      merged.push(issue);
    }
  }
  return merged;
}

/** Kinds of problem both validators report at the same element. */
type Kind = 'missing' | 'unknown' | 'value' | 'empty';

function kindOf({ code, diagnostics }: Issue): Kind | undefined {
  if (code === 'required' || diagnostics.endsWith(' is required')) return 'missing';
  if (/ is not a known element( here| of )/.test(diagnostics)) return 'unknown';
  if (/must not be an empty (object|array)$/.test(diagnostics) || diagnostics.startsWith('ele-1:')) return 'empty';
  if (code === 'value' || code === 'code-invalid') return 'value';
  if (code !== 'structure') return undefined;
  // The schema's own wording for a wrong JSON type, format or code, and the walk's for a JSON shape.
  if (/ (must be|must NOT|does not match the format)/.test(diagnostics) || / must (not )?be a JSON (array|object)/.test(diagnostics)) {
    return 'value';
  }
  return undefined;
}

function problemKey(issue: Issue): string {
  const path = samePathForm(issue.expression?.[0] ?? '');
  const kind = kindOf(issue);
  if (kind) return `${path}|${kind}`;
  return `${path}|${issue.severity ?? 'error'}|${issue.code}|${issue.diagnostics.replace(/ \(profile [^)]*\)$/, '')}`;
}

/**
 * The walk names a choice's value `value.ofType(Quantity)` and a nested resource `resource.ofType(Patient)`;
 * the schema names them by their JSON keys, `valueQuantity` and `resource`. Choice types are never resources.
 */
export function samePathForm(path: string): string {
  return path.replace(/\.ofType\(([A-Za-z]+)\)/g, (_whole, type: string) =>
    isResourceType(type) ? '' : type.charAt(0).toUpperCase() + type.slice(1),
  );
}
