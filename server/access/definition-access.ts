import type { Permission } from './scopes.js';

/**
 * Definitional resources: profiles, value sets, code systems, implementation guides. They describe the data and
 * carry no one's health information, and a client needs them to build what the server accepts (the CCP guide's
 * profiles above all). So any caller with a valid access token may read and search them, whatever its scopes and
 * role; there is no anonymous access (only the CapabilityStatement is public: docs/SECURITY.md). Writes keep the
 * usual rules, and the guide's own resources are read-only for everyone (server/conformance/guide-write-rule.ts).
 */
export const DEFINITION_TYPES: readonly string[] = ['ImplementationGuide', 'StructureDefinition', 'ValueSet', 'CodeSystem'];

export function isOpenDefinitionRead(resourceType: string, permission: Permission): boolean {
  return (permission === 'r' || permission === 's') && DEFINITION_TYPES.includes(resourceType);
}
