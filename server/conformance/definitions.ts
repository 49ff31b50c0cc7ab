import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { CodeSystem, StructureDefinition, ValueSet } from 'fhir/r4';
import { conformanceDir } from './folder.js';
import { loadGuide } from './guide.js';

/**
 * The conformance resources the server knows: FHIR R4's own (conformance/r4/, cut down from the official
 * definitions by `npm run extract-conformance`) and CCP Exchange's implementation guide (conformance/profiles/,
 * written by `npm run profiles`). Ours are loaded after the core's, so a canonical URL names one resource.
 */
export interface Definitions {
  /** By canonical URL, with or without `|version`. */
  structureDefinition(url: string): StructureDefinition | undefined;
  /** The base definition of a resource type, datatype or primitive: `Patient`, `HumanName`, `string`. */
  typeDefinition(type: string): StructureDefinition | undefined;
  valueSet(url: string): ValueSet | undefined;
  codeSystem(url: string): CodeSystem | undefined;
}

const CORE_FILES = ['structure-definitions', 'value-sets', 'code-systems'] as const;

type Canonical = StructureDefinition | ValueSet | CodeSystem;

class LoadedDefinitions implements Definitions {
  private readonly byUrl = new Map<string, Canonical>();
  private readonly byType = new Map<string, StructureDefinition>();

  add(resource: Canonical): void {
    if (!resource.url) return;
    this.byUrl.set(resource.url, resource);
    if (resource.version) this.byUrl.set(`${resource.url}|${resource.version}`, resource);
    // A type's base definition is the one that is not a constraint on another (derivation = specialization, or
    // none for Element and Resource themselves).
    if (resource.resourceType === 'StructureDefinition' && resource.derivation !== 'constraint' && resource.kind !== 'logical') {
      this.byType.set(resource.type, resource);
    }
  }

  private get<T extends Canonical['resourceType']>(url: string, type: T): Extract<Canonical, { resourceType: T }> | undefined {
    const found = this.byUrl.get(url) ?? this.byUrl.get(url.split('|')[0]);
    return found?.resourceType === type ? (found as Extract<Canonical, { resourceType: T }>) : undefined;
  }

  structureDefinition(url: string) {
    return this.get(url, 'StructureDefinition');
  }
  typeDefinition(type: string) {
    return this.byType.get(type);
  }
  valueSet(url: string) {
    return this.get(url, 'ValueSet');
  }
  codeSystem(url: string) {
    return this.get(url, 'CodeSystem');
  }
}

/**
 * R4's definitions from `dir`/r4 and the guide's (`dir`/profiles, server/conformance/guide.ts) after them: a
 * canonical URL of ours names our resource.
 */
export function loadDefinitions(dir = conformanceDir()): Definitions {
  const definitions = new LoadedDefinitions();
  for (const name of CORE_FILES) {
    const resources = JSON.parse(gunzipSync(readFileSync(path.join(dir, 'r4', `${name}.json.gz`))).toString('utf8')) as Canonical[];
    for (const resource of resources) definitions.add(resource);
  }
  for (const resource of loadGuide(path.join(dir, 'profiles')).resources) {
    if (resource.resourceType !== 'ImplementationGuide') definitions.add(resource);
  }
  return definitions;
}

let shared: Definitions | undefined;

/** One copy per process: loading takes a few hundred milliseconds and the definitions never change while it runs. */
export function r4Definitions(): Definitions {
  shared ??= loadDefinitions();
  return shared;
}
