import type { Issue } from '../fhir/outcome.js';

/**
 * Rules of FHIR's JSON representation that the JSON schema does not state: objects and arrays are never
 * empty, and `null` appears only inside an array of primitives that a sibling `_name` array extends.
 */
export function checkJsonRules(resource: Record<string, unknown>, location: string): Issue[] {
  const issues: Issue[] = [];
  const visit = (node: unknown, path: string, parent?: Record<string, unknown>, key?: string, index?: number): void => {
    if (node === null) {
      if (!isAlignedPrimitiveArrayGap(parent, key, index)) {
        issues.push({ code: 'structure', diagnostics: `${path} must not be null`, expression: [path] });
      }
      return;
    }
    if (Array.isArray(node)) {
      if (node.length === 0) issues.push({ code: 'structure', diagnostics: `${path} must not be an empty array`, expression: [path] });
      node.forEach((item, i) => visit(item, `${path}[${i}]`, parent, key, i));
      return;
    }
    if (typeof node === 'object') {
      const entries = Object.entries(node as Record<string, unknown>);
      if (entries.length === 0) issues.push({ code: 'structure', diagnostics: `${path} must not be an empty object`, expression: [path] });
      for (const [name, value] of entries) visit(value, `${path}.${name}`, node as Record<string, unknown>, name);
    }
  };
  visit(resource, location);
  return issues;
}

/**
 * `"given": ["a", null], "_given": [null, {…}]`: a null holds a place so the two arrays line up, and only where
 * the other array has something at that place (a null in both says nothing, and would be stored as nothing).
 */
function isAlignedPrimitiveArrayGap(parent: Record<string, unknown> | undefined, key: string | undefined, index: number | undefined): boolean {
  if (!parent || !key || index === undefined) return false;
  const partner = key.startsWith('_') ? parent[key.slice(1)] : parent[`_${key}`];
  return Array.isArray(partner) && Array.isArray(parent[key]) && partner[index] !== null && partner[index] !== undefined;
}
