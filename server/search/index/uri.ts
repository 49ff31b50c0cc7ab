import type { Converter, UriValue } from './values.js';

/** uri parameters: every URI-like primitive as written (R4 search compares URIs exactly, or by prefix with :below). */
const URI_TYPES = new Set(['uri', 'url', 'canonical', 'oid', 'uuid']);

export const toUris: Converter<UriValue> = (value) => {
  if (!URI_TYPES.has(value.type)) return undefined;
  return typeof value.data === 'string' && value.data.length > 0 ? [{ value: value.data }] : [];
};
