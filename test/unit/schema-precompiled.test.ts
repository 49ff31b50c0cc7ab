import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RESOURCE_TYPES } from '../../server/fhir/resource-types.js';
import { precompileSchema } from '../../server/validation/precompile-schema.js';
import { PRECOMPILED_MANIFEST, SchemaValidator } from '../../server/validation/schema-validator.js';
import { schemaValidator } from '../support/fhir-app.js';
import { REFUSED_ON_WRITE } from '../support/refused-examples.js';

/**
 * The schema validators `npm run build` compiles ahead of time (server/validation/precompile-schema.ts), which the
 * server in dist/ and every test file use, against the ones a SchemaValidator compiles itself when there are none or
 * they do not match: the same issues for the same resources, valid and broken, of every resource type.
 */

const require = createRequire(import.meta.url);
const EXAMPLES_DIR = path.dirname(require.resolve('hl7.fhir.r4.examples/package.json'));
const PRECOMPILED = fileURLToPath(new URL('../../dist/server/validation/precompiled/', import.meta.url));

type Json = Record<string, unknown>;

/**
 * The first official example of each resource type (by file name), a bare resource of each type that has none
 * (Parameters, five Substance definitions), and the examples a write refuses.
 */
function examples(): Json[] {
  const files = readdirSync(EXAMPLES_DIR).filter((file) => file.endsWith('.json') && file !== 'package.json').sort();
  const firstOfType = new Map<string, Json>();
  const refused: Json[] = [];
  for (const file of files) {
    const resource = JSON.parse(readFileSync(path.join(EXAMPLES_DIR, file), 'utf8')) as Json;
    const type = resource.resourceType as string;
    if (REFUSED_ON_WRITE.includes(file)) refused.push(resource);
    else if (!firstOfType.has(type)) firstOfType.set(type, resource);
  }
  const bare = RESOURCE_TYPES.filter((type) => !firstOfType.has(type)).map((resourceType): Json => ({ resourceType }));
  return [...firstOfType.values(), ...bare, ...refused];
}

/** Broken copies of a resource: an unknown element, an id a FHIR id cannot be, text that is not an object. */
function broken(resource: Json): Json[] {
  return [
    { ...resource, notAnElement: true },
    { ...resource, id: 'not an id!' },
    { ...resource, text: 'just a string' },
  ];
}

describe('schema validators compiled by the build', () => {
  let work: string;
  /** Compiled in this process: its precompiled folder holds a manifest of another schema. */
  let compiled: SchemaValidator;

  beforeAll(() => {
    work = mkdtempSync(path.join(os.tmpdir(), 'ccp-schema-'));
    writeFileSync(path.join(work, PRECOMPILED_MANIFEST), JSON.stringify({ fingerprint: 'of another schema' }));
    compiled = new SchemaValidator({ precompiledDir: work });
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('are in dist/ after the build, compiled from the schema these sources correct, and the tests use them', () => {
    expect(schemaValidator().precompiled).toBe(true);
    // A build that changed nothing of the schema leaves them as they are.
    expect(precompileSchema(PRECOMPILED).written).toBe(false);
  });

  it('are not used when compiled from another schema, or absent: the validator compiles its own', () => {
    expect(compiled.precompiled).toBe(false);
    expect(new SchemaValidator({ precompiledDir: path.join(work, 'none') }).precompiled).toBe(false);
    expect(compiled.validate({ resourceType: 'Patient', active: 'yes' }, 'Patient')).toEqual([
      { code: 'structure', diagnostics: 'Patient.active must be boolean', expression: ['Patient.active'] },
    ]);
  });

  it('give the same issues as compiled ones for an example of every resource type, valid and broken', () => {
    const precompiled = schemaValidator();
    const resources = examples();
    expect(new Set(resources.map((r) => r.resourceType))).toEqual(new Set(RESOURCE_TYPES));
    let withIssues = 0;
    for (const resource of resources.flatMap((r) => [r, ...broken(r)])) {
      const type = resource.resourceType as string;
      const expected = compiled.validate(resource, type);
      if (expected.length) withIssues++;
      expect({ type, issues: precompiled.validate(resource, type) }).toEqual({ type, issues: expected });
    }
    // Every broken copy has issues (three per example), and so do the refused examples that fail the schema.
    expect(withIssues).toBeGreaterThanOrEqual(3 * resources.length);
  });

  it('refuse a resource type the schema does not define, as compiled ones do', () => {
    expect(() => schemaValidator().validate({ resourceType: 'Spaceship' }, 'Spaceship')).toThrow('no schema for resource type Spaceship');
    expect(() => compiled.validate({ resourceType: 'Spaceship' }, 'Spaceship')).toThrow('no schema for resource type Spaceship');
  });
});
