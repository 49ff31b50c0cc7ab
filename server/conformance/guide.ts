import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { CodeSystem, ImplementationGuide, Resource, StructureDefinition, ValueSet } from 'fhir/r4';
import { conformanceDir } from './folder.js';

/** The resource types `npm run profiles` puts at the top of conformance/profiles/: the guide's own definitions. */
export const GUIDE_TYPES = ['ImplementationGuide', 'StructureDefinition', 'ValueSet', 'CodeSystem'] as const;
export type GuideType = (typeof GUIDE_TYPES)[number];
export type GuideResource = (ImplementationGuide | StructureDefinition | ValueSet | CodeSystem) & { id: string; url: string };

/**
 * CCP Exchange's implementation guide as `npm run profiles` wrote it into conformance/profiles/: only the guide's
 * own conformance resources, without FHIR's core definitions (server/conformance/definitions.ts loads both, for
 * the validator). What the server serves, seeds and lists in its CapabilityStatement.
 */
export interface Guide {
  implementationGuide: ImplementationGuide & { url: string };
  /** Every conformance resource of the guide, the ImplementationGuide included, in file name order. */
  resources: readonly GuideResource[];
  /** The guide's canonical base (`http://ccp-exchange.org/fhir`): every canonical URL of the guide starts with it. */
  canonical: string;
  /** The profiles of resource types (not extensions, not datatypes), by the resource type they constrain. */
  profilesByType: ReadonlyMap<string, readonly string[]>;
  /** Whether `type/id` is one of the guide's resources. */
  has(type: string, id: string): boolean;
}

const isGuideType = (type: string): type is GuideType => (GUIDE_TYPES as readonly string[]).includes(type);

export function loadGuide(dir = path.join(conformanceDir(), 'profiles')): Guide {
  const resources: GuideResource[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (!name.endsWith('.json')) continue;
    const resource = JSON.parse(readFileSync(path.join(dir, name), 'utf8')) as Resource & { url?: string };
    if (!isGuideType(resource.resourceType)) continue;
    if (!resource.id || !resource.url) throw new Error(`${name}: a guide resource needs an id and a url`);
    resources.push(resource as GuideResource);
  }
  const implementationGuide = resources.find((resource): resource is ImplementationGuide & GuideResource => resource.resourceType === 'ImplementationGuide');
  if (!implementationGuide) throw new Error(`${dir}: no ImplementationGuide (run npm run profiles)`);
  // The IG's canonical URL is [base]/ImplementationGuide/[id].
  const canonical = implementationGuide.url.slice(0, implementationGuide.url.lastIndexOf('/ImplementationGuide/'));
  const profilesByType = new Map<string, string[]>();
  for (const resource of resources) {
    if (resource.resourceType !== 'StructureDefinition' || resource.kind !== 'resource' || resource.derivation !== 'constraint') continue;
    profilesByType.set(resource.type, [...(profilesByType.get(resource.type) ?? []), resource.url]);
  }
  const keys = new Set(resources.map((resource) => `${resource.resourceType}/${resource.id}`));
  return { implementationGuide, resources, canonical, profilesByType, has: (type, id) => keys.has(`${type}/${id}`) };
}

let shared: Guide | undefined;

/** One copy per process: the guide is part of the release and never changes while the server runs. */
export function conformanceGuide(): Guide {
  shared ??= loadGuide();
  return shared;
}
