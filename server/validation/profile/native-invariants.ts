import type { Json } from './context.js';

/**
 * ele-1 `hasValue() or (children().count() > id.count())` on a JSON object: an object is never a primitive
 * value, so it holds when some child other than `id` is present. Primitives are checked where they are walked
 * (a value, or a `_name` object with more than an id). Equivalent, and run at every element without FHIRPath.
 */
export function hasValueOrChildren(value: Json): boolean {
  for (const key in value) if (key !== 'id' && key !== '_id') return true;
  return false;
}

/**
 * ext-1 `extension.exists() != value.exists()`: an Extension has nested extensions or a value[x], not both and
 * not neither. In JSON, value[x] is one key `value<Type>` (or only its `_value<Type>` companion).
 */
export function hasExtensionOrValue(value: Json): boolean {
  let hasValue = false;
  for (const key in value) if (/^_?value[A-Z]/.test(key)) hasValue = true;
  return Array.isArray(value.extension) && value.extension.length > 0 ? !hasValue : hasValue;
}
