import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * Facts taken from the published FHIR R4 (4.0.1) package itself, so tests compare the server against the
 * specification rather than against the server's own tables.
 */
const require = createRequire(import.meta.url);

interface StructureDefinitionHead {
  resourceType: string;
  type?: string;
  kind?: string;
  abstract?: boolean;
  derivation?: string;
}

let resourceTypes: string[] | undefined;

/**
 * Every concrete R4 resource type: the StructureDefinitions of kind `resource` that are not abstract and are
 * specializations (profiles are constraints). Read from the `hl7.fhir.r4.examples` package, sorted.
 */
export function r4ResourceTypes(): string[] {
  if (resourceTypes) return resourceTypes;
  const folder = dirname(require.resolve('hl7.fhir.r4.examples/package.json'));
  // Core definitions are named after their type (`StructureDefinition-Patient.json`); profiles and extensions
  // carry dashes or lower-case ids, so reading only these is enough and keeps this fast.
  const names = readdirSync(folder).filter((name) => /^StructureDefinition-[A-Z][A-Za-z]*\.json$/.test(name));
  const found = new Set<string>();
  for (const name of names) {
    const definition = JSON.parse(readFileSync(join(folder, name), 'utf8')) as StructureDefinitionHead;
    if (
      definition.resourceType === 'StructureDefinition' &&
      definition.kind === 'resource' &&
      definition.abstract === false &&
      definition.derivation === 'specialization' &&
      definition.type
    ) {
      found.add(definition.type);
    }
  }
  if (found.size < 100) throw new Error(`hl7.fhir.r4.examples yielded only ${found.size} resource types`);
  return (resourceTypes = [...found].sort());
}
