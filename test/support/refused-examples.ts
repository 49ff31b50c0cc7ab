import { readFileSync } from 'node:fs';
import path from 'node:path';
import { INVARIANTS_ON_WRITE } from '../../server/validation/validate-resource.js';

/**
 * The official R4 examples a write refuses: those of test/validation/official-examples.expected.json (each
 * worked out by hand against its base definition) that break something a write checks, i.e. anything but an
 * invariant a write leaves to `$validate` (INVARIANTS_ON_WRITE). Derived, so that the list of failures is kept
 * in one place.
 */
export const REFUSED_ON_WRITE: readonly string[] = Object.entries(
  JSON.parse(readFileSync(path.join(process.cwd(), 'test/validation/official-examples.expected.json'), 'utf8')) as Record<string, { errors: string[] }>,
)
  .filter(([, { errors }]) => errors.some((line) => !line.startsWith('invariant ') || INVARIANTS_ON_WRITE.includes(line.split(' ')[1])))
  .map(([file]) => file)
  .sort();
