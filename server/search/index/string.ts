import type { Address, HumanName } from 'fhir/r4';
import { normalizeText } from './normalize.js';
import { isRecord, type Converter, type StringValue } from './values.js';

const STRING_PRIMITIVES = new Set(['string', 'markdown', 'code', 'id', 'uri', 'url', 'canonical', 'oid', 'uuid']);

/**
 * string parameters: a primitive as one value; a HumanName or an Address as each of its parts separately
 * (R4 search: `name` matches any part of a name, `address` any part of an address).
 */
export const toStrings: Converter<StringValue> = (value) => {
  if (STRING_PRIMITIVES.has(value.type)) return typeof value.data === 'string' ? strings([value.data]) : [];
  if (!isRecord(value.data)) return undefined;
  if (value.type === 'HumanName') {
    const name = value.data as HumanName;
    return strings([name.family, ...(name.given ?? []), ...(name.prefix ?? []), ...(name.suffix ?? []), name.text]);
  }
  if (value.type === 'Address') {
    const address = value.data as Address;
    return strings([
      ...(address.line ?? []),
      address.city,
      address.district,
      address.state,
      address.postalCode,
      address.country,
      address.text,
    ]);
  }
  return undefined;
};

function strings(parts: (string | null | undefined)[]): StringValue[] {
  const values: StringValue[] = [];
  for (const exact of parts) {
    // Arrays of primitives hold null where only an extension was given (`given: [null]`, `_given: [{…}]`).
    if (typeof exact !== 'string') continue;
    const normalized = normalizeText(exact);
    if (normalized.length > 0) values.push({ normalized, exact });
  }
  return values;
}
