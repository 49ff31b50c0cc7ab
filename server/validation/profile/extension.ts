import { isObject, report, type Json, type WalkContext } from './context.js';
import type { ElementNode } from './element-tree.js';

/**
 * The definition an extension is walked against. An element that states the extension's profile (a slice of
 * a profile) or its own constraints (a nested extension slice such as `extension:obtainedBy`) decides; otherwise
 * the extension's url, when it names a StructureDefinition we have. An unknown url is allowed (FHIR lets anyone
 * extend anything) and noted as information, except on a modifierExtension, which no reader may ignore.
 */
export function extensionDefinition(ctx: WalkContext, node: ElementNode, value: unknown, path: string): ElementNode {
  if (node.sliceName || node.types.some((t) => t.code === 'Extension' && t.profiles.length)) return node;
  const url = isObject(value) ? (value as Json).url : undefined;
  if (typeof url !== 'string') return node;
  const structure = ctx.structures.structure(url);
  if (structure?.type === 'Extension') return structure.root;
  if (node.name === 'modifierExtension') {
    report(ctx, 'error', 'structure', path, `${path}: the modifier extension ${url} is not known, so the resource cannot be safely understood`);
  } else {
    report(ctx, 'information', 'informational', path, `${path}: extension ${url} is not known here; its content was not checked against a definition`);
  }
  return node;
}
