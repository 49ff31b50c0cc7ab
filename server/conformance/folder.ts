import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The repository's conformance/ folder (R4's definitions in r4/, the guide in profiles/), found above this module
 * whether it runs from server/ (tests) or dist/server/ (the built server).
 */
export function conformanceDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, 'conformance');
    if (existsSync(path.join(candidate, 'r4')) && existsSync(path.join(candidate, 'profiles'))) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('conformance/ (r4/ and profiles/) not found above server/conformance');
    dir = parent;
  }
}
