import type { Resource } from 'fhir/r4';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { IndexRows } from '../../server/search/types.js';

const require = createRequire(import.meta.url);
export const EXAMPLES_DIR = path.dirname(require.resolve('hl7.fhir.r4.examples/package.json'));

/** An official R4 example, parsed afresh (tests may modify their copy). */
export function example(file: string): Resource {
  return JSON.parse(readFileSync(path.join(EXAMPLES_DIR, file), 'utf8')) as Resource;
}

/** The rows of one parameter in one table, without the `param` column. */
export function rowsOf(rows: IndexRows, table: keyof IndexRows, param: string): object[] {
  return (rows[table] as { param: string }[])
    .filter((row) => row.param === param)
    .map(({ param: _param, ...rest }) => rest);
}

/** Rows compare as a set: order is the extractor's business. */
export function sortedRows(rows: object[]): object[] {
  return [...rows].sort((a, b) => (canonical(a) < canonical(b) ? -1 : canonical(a) > canonical(b) ? 1 : 0));
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${k}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
