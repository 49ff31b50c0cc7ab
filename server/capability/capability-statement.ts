import type { CapabilityStatement, CapabilityStatementRestResource, CapabilityStatementRestResourceSearchParam } from 'fhir/r4';
import type { SearchParameterRegistry } from '../search/registry.js';
import { RESOURCE_TYPES } from '../fhir/resource-types.js';
import { SOFTWARE } from '../version.js';
import type { Declared } from '../rest/routes.js';

export interface CapabilityInput {
  /** What the route table serves. */
  declared: Declared[];
  allowUpdateCreate: boolean;
  allowMultipleDelete: boolean;
  baseUrl: string;
  registry: SearchParameterRegistry;
}

/** Parameter types the search compiler answers; the others are not advertised. */
const SEARCHABLE = new Set(['string', 'token', 'date', 'number', 'quantity', 'reference', 'uri', 'composite']);

const STARTED = new Date().toISOString();

/** The server's CapabilityStatement, derived from the interactions it routes and the options it runs with. */
export function capabilityStatement({ declared, allowUpdateCreate, allowMultipleDelete, baseUrl, registry }: CapabilityInput): CapabilityStatement {
  const typeCodes = declared.filter((d) => d.level === 'type').map((d) => d.code);
  const systemCodes = declared.filter((d) => d.level === 'system').map((d) => d.code);
  const resource: CapabilityStatementRestResource[] = RESOURCE_TYPES.map((type) => ({
    type,
    profile: `http://hl7.org/fhir/StructureDefinition/${type}`,
    interaction: typeCodes.map((code) => ({ code })),
    versioning: 'versioned-update',
    readHistory: typeCodes.includes('vread'),
    updateCreate: allowUpdateCreate,
    conditionalCreate: true,
    conditionalRead: 'full-support',
    conditionalUpdate: true,
    conditionalDelete: allowMultipleDelete ? 'multiple' : 'single',
    operation: [{ name: 'validate', definition: 'http://hl7.org/fhir/OperationDefinition/Resource-validate' }],
    ...(typeCodes.includes('search-type') ? { searchParam: searchParams(registry, type) } : {}),
  }));

  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: STARTED,
    publisher: 'CCP Exchange',
    kind: 'instance',
    software: { name: 'CCP Exchange', version: SOFTWARE.version },
    implementation: { description: 'CCP Exchange FHIR R4 server', url: baseUrl },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'application/json', 'json'],
    // JSON Patch, and FHIRPath Patch (a Parameters resource) sent as FHIR JSON.
    patchFormat: ['application/json-patch+json', 'application/fhir+json'],
    rest: [
      {
        mode: 'server',
        documentation: 'Every R4 resource type can be stored, read, versioned and deleted. JSON only.',
        resource,
        interaction: systemCodes.map((code) => ({ code })),
      },
    ],
  };
}

function searchParams(registry: SearchParameterRegistry, type: string): CapabilityStatementRestResourceSearchParam[] {
  return registry
    .forType(type)
    .filter((definition) => SEARCHABLE.has(definition.type))
    .map((definition) => ({
      name: definition.code,
      definition: definition.url,
      type: definition.type as CapabilityStatementRestResourceSearchParam['type'],
      ...(definition.description ? { documentation: definition.description } : {}),
    }));
}
