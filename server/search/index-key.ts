/**
 * PostgreSQL caps a btree entry near 2.7 kB, and a few real values (long descriptions, data URIs) exceed it.
 * Indexed text is therefore cut to a byte budget, identically when it is written and when it is searched for:
 * values that differ only past the first kilobyte compare equal, which only ever adds matches.
 */
const MAX_BYTES = 1000;

export function indexKey(value: string): string {
  if (value.length * 3 <= MAX_BYTES) return value;
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length <= MAX_BYTES) return value;
  // Cut on a character boundary: drop the continuation bytes (10xxxxxx) of a character the budget splits.
  let end = MAX_BYTES;
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8');
}

export function indexKeyOrNull(value: string | null | undefined): string | null {
  return value === null || value === undefined ? null : indexKey(value);
}
