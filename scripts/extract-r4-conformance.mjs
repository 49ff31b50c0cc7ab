#!/usr/bin/env node
// Extracts what validation and terminology need from the official R4 definitions (npm hl7.fhir.r4.examples, a
// development dependency of 190 MB) into three gzipped JSON arrays under conformance/r4/ (about 1.3 MB), which
// the server loads at run time (server/conformance/definitions.ts):
//   structure-definitions.json.gz  every StructureDefinition, with its snapshot elements cut to the fields a
//                                  validator reads (no definitions, comments, mappings or narrative)
//   value-sets.json.gz             every ValueSet without narrative, contacts and descriptions
//   code-systems.json.gz           every CodeSystem, its concepts keeping code, display, definition,
//                                  designation and property
// The output is deterministic (sorted by url, gzip without a timestamp): the tests check it is current.
import { readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const require = createRequire(import.meta.url);
const root = path.dirname(fileURLToPath(import.meta.url));
const packageDir = path.dirname(require.resolve('hl7.fhir.r4.examples/package.json'));
const outDir = path.join(root, '..', 'conformance', 'r4');

/** The ElementDefinition fields a validator reads; choice fields (fixed[x], pattern[x], …) are matched by prefix. */
const ELEMENT_FIELDS = new Set([
  'id', 'path', 'sliceName', 'sliceIsConstraining', 'min', 'max', 'base', 'type', 'contentReference',
  'binding', 'constraint', 'slicing', 'maxLength', 'condition', 'isModifier', 'mustSupport', 'short',
]);
const ELEMENT_CHOICE_PREFIXES = ['fixed', 'pattern', 'minValue', 'maxValue', 'defaultValue'];
/** Extensions of a StructureDefinition or ElementDefinition a validator reads. */
const KEPT_EXTENSIONS = new Set([
  'http://hl7.org/fhir/StructureDefinition/regex',
  'http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type',
  'http://hl7.org/fhir/StructureDefinition/elementdefinition-bindingName',
]);

function keptExtensions(extensions) {
  const kept = (extensions ?? []).filter((extension) => KEPT_EXTENSIONS.has(extension.url));
  return kept.length ? kept : undefined;
}

function compactType(type) {
  const out = { ...type };
  const extension = keptExtensions(type.extension);
  if (extension) out.extension = extension;
  else delete out.extension;
  delete out._code;
  // A primitive's `value` element states its JSON type and regex as extensions of `_code`.
  const codeExtension = keptExtensions(type._code?.extension);
  if (codeExtension) out._code = { extension: codeExtension };
  return out;
}

function compactElement(element) {
  const out = {};
  for (const [key, value] of Object.entries(element)) {
    if (ELEMENT_FIELDS.has(key) || ELEMENT_CHOICE_PREFIXES.some((prefix) => key.startsWith(prefix) && key !== prefix)) out[key] = value;
  }
  if (out.base) out.base = { path: out.base.path, min: out.base.min, max: out.base.max };
  if (out.type) out.type = out.type.map(compactType);
  if (out.binding) out.binding = { strength: out.binding.strength, valueSet: out.binding.valueSet };
  if (out.constraint) {
    out.constraint = out.constraint.map(({ key, severity, human, expression, xpath, source }) => ({ key, severity, human, expression, xpath, source }));
  }
  return out;
}

function compactStructureDefinition(sd) {
  const out = {};
  for (const key of ['resourceType', 'id', 'url', 'version', 'name', 'title', 'status', 'fhirVersion', 'kind', 'abstract', 'contextInvariant', 'type', 'baseDefinition', 'derivation']) {
    if (sd[key] !== undefined) out[key] = sd[key];
  }
  if (sd.context) out.context = sd.context;
  const extension = keptExtensions(sd.extension);
  if (extension) out.extension = extension;
  out.snapshot = { element: (sd.snapshot?.element ?? []).map(compactElement) };
  return out;
}

function withoutProse(resource) {
  const { text, description, purpose, copyright, contact, ...rest } = resource;
  return rest;
}

function compactConcept(concept) {
  const out = { code: concept.code };
  for (const key of ['display', 'definition', 'designation', 'property']) if (concept[key] !== undefined) out[key] = concept[key];
  if (concept.concept) out.concept = concept.concept.map(compactConcept);
  return out;
}

export function extractConformance() {
  const structureDefinitions = [];
  const valueSets = [];
  const codeSystems = [];
  for (const name of readdirSync(packageDir).sort()) {
    const kind = name.split('-')[0];
    if (!name.endsWith('.json') || !['StructureDefinition', 'ValueSet', 'CodeSystem'].includes(kind)) continue;
    const resource = JSON.parse(readFileSync(path.join(packageDir, name), 'utf8'));
    if (resource.resourceType === 'StructureDefinition') structureDefinitions.push(compactStructureDefinition(resource));
    else if (resource.resourceType === 'ValueSet') valueSets.push(withoutProse(resource));
    else if (resource.resourceType === 'CodeSystem') {
      const codeSystem = withoutProse(resource);
      if (codeSystem.concept) codeSystem.concept = codeSystem.concept.map(compactConcept);
      codeSystems.push(codeSystem);
    }
  }
  const byUrl = (a, b) => (a.url < b.url ? -1 : a.url > b.url ? 1 : a.id < b.id ? -1 : 1);
  return {
    'structure-definitions': structureDefinitions.sort(byUrl),
    'value-sets': valueSets.sort(byUrl),
    'code-systems': codeSystems.sort(byUrl),
  };
}

/** gzip leaves the header's timestamp 0 (Node's zlib does), so equal input gives equal bytes. */
export function render(resources) {
  return gzipSync(JSON.stringify(resources), { level: 9 });
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  mkdirSync(outDir, { recursive: true });
  for (const [name, resources] of Object.entries(extractConformance())) {
    const file = path.join(outDir, `${name}.json.gz`);
    const bytes = render(resources);
    writeFileSync(file, bytes);
    console.log(`wrote ${path.relative(process.cwd(), file)}: ${resources.length} resources, ${(bytes.length / 1e6).toFixed(2)} MB`);
  }
}
