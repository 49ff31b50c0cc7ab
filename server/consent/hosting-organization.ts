import type { Organization } from 'fhir/r4';
import type { ResourceStore } from '../store/resource-store.js';
import { current } from './operations/lookups.js';

/**
 * HOSTING_ORGANIZATION must name an Organization stored here. Who is held by registrations is decided by
 * comparing organization ids, so an id that names nothing (a typo, or a database that does not hold it yet) would
 * quietly treat the host's own staff as a partner's: the server refuses to start instead.
 */
export async function checkHostingOrganization(store: ResourceStore, id: string): Promise<{ organization: Organization } | { problem: string }> {
  const organization = await current<Organization>(store, 'Organization', id);
  if (organization) return { organization };
  return {
    problem: [
      `HOSTING_ORGANIZATION: Organization/${id} does not exist in this database (a new database holds no Organization yet).`,
      'To fix it, either:',
      `  - start once without HOSTING_ORGANIZATION, create it (PUT /fhir/Organization/${id} with {"resourceType":"Organization","id":"${id}","active":true,"name":"…"},`,
      `    or npm run import of a file holding it), then start again with HOSTING_ORGANIZATION=${id};`,
      '  - or run `npm run demo`, which creates a hosting organization (and says which id to set);',
      '  - or unset HOSTING_ORGANIZATION, if no organization hosts the service here.',
    ].join('\n'),
  };
}

/** The start log's line about it: which organization hosts the service, or that none does. */
export function hostingOrganizationLog(id: string | undefined, organization?: Organization): { fields: Record<string, string>; message: string } {
  if (id === undefined) {
    return { fields: {}, message: 'no hosting organization (HOSTING_ORGANIZATION is not set): every organization\'s staff are held by registrations (docs/CONSENT.md)' };
  }
  const named = organization?.name ? ` (${organization.name})` : '';
  return { fields: { hostingOrganization: `Organization/${id}` }, message: `hosting organization: Organization/${id}${named}` };
}
