import type { Coding, Resource } from 'fhir/r4';

/** The tag a resource that lacks elements it would otherwise have carries (R4 search `_elements`, `_summary`). */
export const SUBSETTED: Coding = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED' };

/**
 * At most how many bytes `subsetted` adds to a resource's JSON text (the SUBSETTED tag, in a `meta` and `tag` of its
 * own when the resource has none): what a file's size limit counts per subsetted line beyond the stored text.
 */
export const SUBSETTED_ALLOWANCE = Buffer.byteLength(JSON.stringify({ meta: { tag: [SUBSETTED] } }));

/** Kept whatever `_elements` names: a resource is not one without them (R4 search, `_elements`). */
const ALWAYS = ['resourceType', 'id', 'meta'];

/** The top-level element names of `type` an export's `_elements` asks for (its own list, or the one for every type). */
export function elementsFor(elements: Record<string, string[]> | undefined, type: string): string[] | undefined {
  return elements?.[type] ?? elements?.['*'];
}

/**
 * `_elements` applied to one exported resource (Bulk Data 2.0.0, kick-off `_elements`): only the named top-level
 * elements, plus resourceType, id and meta, and meta.tag SUBSETTED so nobody takes it for the whole resource.
 */
export function subsetted(resource: Resource, names: readonly string[]): Resource {
  const kept: Record<string, unknown> = {};
  const source = resource as unknown as Record<string, unknown>;
  for (const name of [...ALWAYS, ...names]) if (name in source) kept[name] = source[name];
  const meta = resource.meta ?? {};
  const tags = (meta.tag ?? []).filter((tag) => !(tag.system === SUBSETTED.system && tag.code === SUBSETTED.code));
  kept.meta = { ...meta, tag: [...tags, SUBSETTED] };
  return kept as unknown as Resource;
}
