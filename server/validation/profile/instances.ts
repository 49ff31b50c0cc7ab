import { isObject, report, type Json, type WalkContext } from './context.js';
import type { ElementNode } from './element-tree.js';
import type { ChildEntry } from './structures.js';

/** One occurrence of an element in the JSON: a primitive's value and its `_name` companion, or an object. */
export interface Instance {
  value: unknown;
  /** A primitive's id and extensions (`_birthDate`, or `_given[i]`). */
  ext?: Json;
  type: string;
  path: string;
}

/** The JSON keys of one element in one object: a choice element has one key per type, and a primitive a `_` key. */
export interface ElementKeys {
  element: ElementNode;
  entries: { key: string; entry: ChildEntry }[];
}

/** `value[x]` as `valueQuantity` → `value.ofType(Quantity)`, the form FHIRPath and the HL7 validator print. */
export function elementPath(parent: string, element: ElementNode, type: string): string {
  if (!element.isChoice) return `${parent}.${element.name}`;
  return `${parent}.${element.name.slice(0, -3)}.ofType(${type})`;
}

/**
 * The occurrences of an element: arrays expanded (FHIR JSON lines up `given[i]` with `_given[i]`, either side
 * padded with null), a single value as one. An array where the definition allows one value (or the reverse) is
 * a structure error; its items are still walked.
 */
export function instancesOf(ctx: WalkContext, object: Json, keys: ElementKeys, parentPath: string): Instance[] {
  const { element } = keys;
  let entries = keys.entries;
  if (element.isChoice && new Set(entries.map((e) => e.entry.type)).size > 1) {
    const names = [...new Set(entries.map((e) => e.key.replace(/^_/, '')))].join(', ');
    report(ctx, 'error', 'structure', `${parentPath}.${element.name.slice(0, -3)}`, `${parentPath} holds ${names}: ${element.name} takes one type only`);
    // Reported once here; the first type alone is walked on, so the count does not report it again.
    entries = entries.filter((e) => e.entry.type === entries[0].entry.type);
  }
  const instances: Instance[] = [];
  const seen = new Set<string>();
  for (const { key, entry } of entries) {
    const name = key.startsWith('_') ? key.slice(1) : key;
    if (seen.has(name)) continue;
    seen.add(name);
    const value = object[name];
    const ext = object[`_${name}`];
    const path = elementPath(parentPath, element, entry.type);
    if (element.isArray) {
      if (value !== undefined && !Array.isArray(value)) report(ctx, 'error', 'structure', path, `${path} must be a JSON array (the element repeats)`);
      if (ext !== undefined && !Array.isArray(ext)) report(ctx, 'error', 'structure', path, `${path}: _${name} must be a JSON array lined up with ${name}`);
      const values = Array.isArray(value) ? value : value === undefined ? [] : [value];
      const exts = Array.isArray(ext) ? ext : ext === undefined ? [] : [ext];
      const length = Math.max(values.length, exts.length);
      for (let i = 0; i < length; i++) {
        const v = values[i] ?? undefined;
        const x = exts[i] ?? undefined;
        if (v === undefined && x === undefined) continue;
        instances.push({ value: v, ext: isObject(x) ? x : undefined, type: entry.type, path: `${path}[${i}]` });
      }
    } else {
      if (Array.isArray(value) || Array.isArray(ext)) {
        report(ctx, 'error', 'structure', path, `${path} must not be a JSON array (the element holds one value at most)`);
        const values = Array.isArray(value) ? value : [value];
        values.forEach((v, i) => instances.push({ value: v ?? undefined, type: entry.type, path: `${path}[${i}]` }));
        continue;
      }
      if (ext !== undefined && !isObject(ext)) report(ctx, 'error', 'structure', path, `${path}: _${name} must be a JSON object`);
      instances.push({ value: value ?? undefined, ext: isObject(ext) ? ext : undefined, type: entry.type, path });
    }
  }
  return instances;
}

export function checkCardinality(ctx: WalkContext, element: ElementNode, count: number, path: string, label = element.name): void {
  if (count < element.min) {
    const found = count === 0 ? 'none' : `${count}`;
    report(ctx, 'error', 'required', path, `${path}: ${label} needs at least ${element.min} value${element.min > 1 ? 's' : ''}, found ${found}`);
  } else if (count > element.max) {
    report(ctx, 'error', 'structure', path, `${path}: ${label} allows at most ${element.max} value${element.max === 1 ? '' : 's'}, found ${count}`);
  }
}
