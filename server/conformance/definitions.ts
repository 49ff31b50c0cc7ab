import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import type { CodeSystem, ImplementationGuide, Resource, StructureDefinition, ValueSet } from 'fhir/r4';

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
  /** CCP Exchange's own conformance resources, complete (the ImplementationGuide, profiles, terminology). */
  readonly guide: readonly Resource[];
  readonly implementationGuide: ImplementationGuide | undefined;
}

const CORE_FILES = ['structure-definitions', 'value-sets', 'code-systems'] as const;
const GUIDE_TYPES = new Set(['StructureDefinition', 'ValueSet', 'CodeSystem', 'ImplementationGuide']);

type Canonical = StructureDefinition | ValueSet | CodeSystem;

class LoadedDefinitions implements Definitions {
  private readonly byUrl = new Map<string, Canonical>();
  private readonly byType = new Map<string, StructureDefinition>();
  readonly guide: Resource[] = [];
  implementationGuide: ImplementationGuide | undefined;

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

/** The folder holding conformance/: the repository root, found from this module (server/… or dist/server/…). */
function conformanceDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'conformance', 'r4'))) return path.join(dir, 'conformance');
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('conformance/r4 not found above server/conformance (run npm run extract-conformance)');
    dir = parent;
  }
}

export function loadDefinitions(dir = conformanceDir()): Definitions {
  const definitions = new LoadedDefinitions();
  for (const name of CORE_FILES) {
    const resources = JSON.parse(gunzipSync(readFileSync(path.join(dir, 'r4', `${name}.json.gz`))).toString('utf8')) as Canonical[];
    for (const resource of resources) definitions.add(resource);
  }
  const guideDir = path.join(dir, 'profiles');
  if (existsSync(guideDir)) {
    for (const name of readdirSync(guideDir).sort()) {
      if (!name.endsWith('.json')) continue;
      const resource = JSON.parse(readFileSync(path.join(guideDir, name), 'utf8')) as Resource;
      if (!GUIDE_TYPES.has(resource.resourceType)) continue;
      definitions.guide.push(resource);
      if (resource.resourceType === 'ImplementationGuide') definitions.implementationGuide = resource as ImplementationGuide;
      else definitions.add(resource as Canonical);
    }
  }
  return definitions;
}

let shared: Definitions | undefined;

/** One copy per process: loading takes a few hundred milliseconds and the definitions never change while it runs. */
export function r4Definitions(): Definitions {
  shared ??= loadDefinitions();
  return shared;
}
