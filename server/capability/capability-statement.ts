import type { CapabilityStatement, CapabilityStatementRestResource, CapabilityStatementRestResourceSearchParam, CapabilityStatementRestSecurity } from 'fhir/r4';
import { endpoints } from '../auth/discovery.js';
import type { SearchParameterRegistry } from '../search/registry.js';
import { RESOURCE_TYPES } from '../fhir/resource-types.js';
import { SOFTWARE } from '../version.js';
import { conformanceGuide, type Guide } from '../conformance/guide.js';
import type { Declared } from '../rest/route.js';
import { BULK_DATA_SERVER } from '../bulk/canonical.js';
import { operationsOf, systemOperationsOf } from './operations.js';
import { subscriptionsBackport } from './subscriptions.js';

export interface CapabilityInput {
  /** What the route table serves. */
  declared: Declared[];
  allowUpdateCreate: boolean;
  allowMultipleDelete: boolean;
  baseUrl: string;
  registry: SearchParameterRegistry;
  /** Whether the API requires SMART access tokens (false only with AUTH_DISABLED). */
  secured: boolean;
  /** The implementation guide whose profiles the server supports; the committed one (conformance/profiles/) when not given. */
  guide?: Guide;
}

/** Parameter types the search compiler answers; the others are not advertised. */
const SEARCHABLE = new Set(['string', 'token', 'date', 'number', 'quantity', 'reference', 'uri', 'composite']);

const STARTED = new Date().toISOString();

/** The server's CapabilityStatement, derived from the interactions it routes and the options it runs with. */
export function capabilityStatement({ declared, allowUpdateCreate, allowMultipleDelete, baseUrl, registry, secured, guide = conformanceGuide() }: CapabilityInput): CapabilityStatement {
  const typeCodes = declared.filter((d) => d.level === 'type').map((d) => d.code);
  const systemCodes = declared.filter((d) => d.level === 'system').map((d) => d.code);
  const backport = subscriptionsBackport(declared);
  // Bulk Data's server CapabilityStatement is claimed only when `$export` is served (an engine runs the jobs).
  const systemOperations = systemOperationsOf(declared);
  const instantiates = [...backport.instantiates, ...(systemOperations.some((op) => op.name === 'export') ? [BULK_DATA_SERVER] : [])];
  const resource: CapabilityStatementRestResource[] = RESOURCE_TYPES.map((type) => backport.onResource({
    type,
    // The base definition stays `profile` (the server takes any valid R4 resource of the type); the guide's
    // profiles of the type are its use cases, which R4 lists in `supportedProfile`.
    profile: `http://hl7.org/fhir/StructureDefinition/${type}`,
    ...(guide.profilesByType.has(type) ? { supportedProfile: [...guide.profilesByType.get(type)!] } : {}),
    interaction: typeCodes.map((code) => ({ code })),
    versioning: 'versioned-update',
    readHistory: typeCodes.includes('vread'),
    updateCreate: allowUpdateCreate,
    conditionalCreate: true,
    conditionalRead: 'full-support',
    conditionalUpdate: true,
    conditionalDelete: allowMultipleDelete ? 'multiple' : 'single',
    operation: operationsOf(type, declared),
    ...(typeCodes.includes('search-type') ? { searchParam: searchParams(registry, type) } : {}),
  }));

  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: STARTED,
    publisher: 'CCP Exchange',
    kind: 'instance',
    ...(instantiates.length ? { instantiates } : {}),
    software: { name: 'CCP Exchange', version: SOFTWARE.version },
    implementation: { description: 'CCP Exchange FHIR R4 server', url: baseUrl },
    fhirVersion: '4.0.1',
    implementationGuide: [guide.implementationGuide.url],
    format: ['application/fhir+json', 'application/json', 'json'],
    // JSON Patch, and FHIRPath Patch (a Parameters resource) sent as FHIR JSON.
    patchFormat: ['application/json-patch+json', 'application/fhir+json'],
    rest: [
      {
        mode: 'server',
        documentation: 'Every R4 resource type can be stored, read, versioned and deleted. JSON only.',
        security: security(baseUrl, secured),
        resource,
        interaction: systemCodes.map((code) => ({ code })),
        ...(systemOperations.length ? { operation: systemOperations } : {}),
      },
    ],
  };
}

/** SMART App Launch 2 §2.5: the service is SMART-on-FHIR and the OAuth endpoints are named in an extension. */
function security(baseUrl: string, secured: boolean): CapabilityStatementRestSecurity {
  if (!secured) return { cors: true, description: 'AUTH_DISABLED: this server accepts requests without access tokens (local experiments only).' };
  const at = endpoints(baseUrl.replace(/\/fhir$/, ''));
  return {
    cors: true,
    service: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR' }], text: 'OAuth2 using SMART-on-FHIR profile' }],
    description: 'SMART App Launch 2 and Backend Services; discovery at .well-known/smart-configuration. Every interaction needs a bearer token.',
    extension: [
      {
        url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris',
        extension: [
          { url: 'authorize', valueUri: at.authorize },
          { url: 'token', valueUri: at.token },
          { url: 'revoke', valueUri: at.revoke },
          { url: 'introspect', valueUri: at.introspect },
        ],
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
