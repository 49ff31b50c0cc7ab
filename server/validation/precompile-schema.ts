import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import standalone from 'ajv/dist/standalone/index.js';
import { RESOURCE_TYPES } from '../fhir/resource-types.js';
import {
  PRECOMPILED_DIR,
  PRECOMPILED_MANIFEST,
  precompiledFingerprint,
  precompiledFile,
  schemaAjv,
  schemaDefinitions,
  schemaFingerprint,
  schemaRef,
} from './schema-validator.js';

/**
 * `npm run build`'s last step: the schema validators of every resource type, first-error and every-error, compiled
 * once into code (ajv's standalone code: the functions ajv compiles, written out) that SchemaValidator loads
 * instead of compiling them in every process. Compiling takes seconds of CPU; loading the code a fraction of one.
 * Nothing is done when the files present were compiled from the same schema by the same ajv (the manifest's
 * fingerprint), so a build that changed nothing here costs only the check.
 */
export function precompileSchema(dir: string = PRECOMPILED_DIR): { written: boolean; fingerprint: string } {
  const definitions = schemaDefinitions();
  const fingerprint = schemaFingerprint(definitions);
  if (precompiledFingerprint(dir) === fingerprint) return { written: false, fingerprint };
  // The manifest goes first and comes back last: an interrupted build leaves no manifest, so nothing stale is used.
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const refs = Object.fromEntries(RESOURCE_TYPES.map((type) => [type, schemaRef(type)]));
  for (const allErrors of [false, true]) {
    const ajv = schemaAjv(definitions, allErrors, true);
    writeFileSync(path.join(dir, precompiledFile(allErrors)), standalone.default(ajv, refs));
  }
  writeFileSync(path.join(dir, PRECOMPILED_MANIFEST), `${JSON.stringify({ fingerprint, resourceTypes: RESOURCE_TYPES.length }, null, 2)}\n`);
  return { written: true, fingerprint };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = Date.now();
  const { written } = precompileSchema();
  if (written) console.log(`schema validators precompiled into ${path.relative(process.cwd(), PRECOMPILED_DIR)} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
