import { report, type WalkContext } from './context.js';
import type { ElementNode } from './element-tree.js';
import { checkCardinality, type Instance } from './instances.js';
import { discriminatorMatches, usesResolve } from './discriminator.js';

/**
 * Assigns each occurrence of a sliced element to the first slice whose discriminators it meets, and checks the
 * slicing: each slice's cardinality, closed slicing (an occurrence in no slice), ordered slicing (occurrences in
 * the slices' order), openAtEnd (unsliced occurrences last). Returns the element each occurrence is walked with:
 * its slice, or undefined for the sliced element itself.
 */
export function assignSlices(ctx: WalkContext, element: ElementNode, instances: Instance[], path: string): (ElementNode | undefined)[] {
  const slices = element.slices;
  const discriminators = element.slicing?.discriminators.length
    ? element.slicing.discriminators
    : element.types.some((t) => t.code === 'Extension')
      ? [{ type: 'value', path: 'url' }]
      : [];
  const rules = element.slicing?.rules ?? 'open';
  if (!slices.length && rules !== 'closed') return [];
  // resolve() would need the referenced resource, which a validator of one resource does not have.
  if (!discriminators.length || discriminators.some((d) => usesResolve(d.path))) {
    report(ctx, 'information', 'informational', path, `${path}: slicing by ${discriminators.map((d) => `${d.type}:${d.path}`).join(', ') || 'nothing'} is not checked (resolve() or no discriminator)`);
    return [];
  }
  const assigned = instances.map((instance) =>
    slices.find((slice) => discriminators.every((d) => discriminatorMatches(ctx, slice, instance, d))),
  );
  for (const slice of slices) {
    const count = assigned.filter((s) => s === slice).length;
    checkCardinality(ctx, slice, count, path, `slice '${slice.sliceName}'`);
  }
  let lastIndex = -1;
  let unsliced = false;
  assigned.forEach((slice, i) => {
    const at = instances[i].path;
    if (!slice) {
      unsliced = true;
      if (rules === 'closed') {
        report(ctx, 'error', 'structure', at, `${at} matches none of the slices of ${element.path} (${slices.map((s) => s.sliceName).join(', ')}), and the slicing is closed`);
      }
      return;
    }
    if (rules === 'openAtEnd' && unsliced) {
      report(ctx, 'error', 'structure', at, `${at} is in slice '${slice.sliceName}' after an occurrence in no slice; ${element.path} keeps unsliced occurrences at the end`);
    }
    const index = slices.indexOf(slice);
    if (element.slicing?.ordered && index < lastIndex) {
      report(ctx, 'error', 'structure', at, `${at} is in slice '${slice.sliceName}', which comes before '${slices[lastIndex].sliceName}' in ${element.path}'s ordered slicing`);
    }
    lastIndex = Math.max(lastIndex, index);
  });
  return assigned;
}
