import type { Reference } from 'fhir/r4';
import { ROLE_SYSTEM } from '../../access/roles.js';
import { matching } from '../../rest/conditional.js';
import type { FhirContext } from '../../rest/types.js';
import type { ResourceStore } from '../../store/resource-store.js';

/** The active PractitionerRoles of `organization` that hold the privacy-contact role. */
export async function privacyContacts(store: ResourceStore, context: FhirContext, organization: string, baseUrl: string): Promise<Reference[]> {
  const criteria = { organization: [`Organization/${organization}`], role: [`${ROLE_SYSTEM}|privacy-contact`], 'active:not': ['false'] };
  const roles = await matching(store, context.registry, 'PractitionerRole', criteria, baseUrl, 100);
  return roles.map((role) => ({ reference: `PractitionerRole/${role.id}` }));
}
