import { report, type WalkContext } from './context.js';
import type { ElementNode } from './element-tree.js';

/** fixed[x]: the value is exactly this, nothing more (key order aside). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/**
 * pattern[x]: every element the pattern holds, the value holds too, with the same value; a repeating element
 * matches when each of the pattern's items is matched by some item of the value.
 */
export function containsPattern(value: unknown, pattern: unknown): boolean {
  if (Array.isArray(pattern)) {
    const items = Array.isArray(value) ? value : value === undefined ? [] : [value];
    return pattern.every((p) => items.some((item) => containsPattern(item, p)));
  }
  if (typeof pattern !== 'object' || pattern === null) {
    return Array.isArray(value) ? value.some((v) => v === pattern) : value === pattern;
  }
  if (Array.isArray(value)) return value.some((v) => containsPattern(v, pattern));
  if (typeof value !== 'object' || value === null) return false;
  return Object.entries(pattern).every(([k, p]) => containsPattern((value as Record<string, unknown>)[k], p));
}

const show = (value: unknown): string => {
  const text = JSON.stringify(value);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
};

export function checkFixedAndPattern(ctx: WalkContext, node: ElementNode, value: unknown, path: string): void {
  if (node.fixed !== undefined && !deepEqual(value, node.fixed)) {
    report(ctx, 'error', 'value', path, `${path} must be exactly ${show(node.fixed)}, found ${show(value)}`);
  }
  if (node.pattern !== undefined && !containsPattern(value, node.pattern)) {
    report(ctx, 'error', 'value', path, `${path} must match the pattern ${show(node.pattern)}, found ${show(value)}`);
  }
}
