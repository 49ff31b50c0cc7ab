// The resources every synthetic patient points at, written once per dataset: the hosting Organization, the partner
// Organizations, and a pool of Practitioners each with one PractitionerRole (organization and user role).
// A layout (layoutOf) says which organizations those are and how many staff each has: the benchmarks use the
// default one (gen-org-host and eight partners); `npm run demo` puts the same kind of patients into its own world's
// organizations (Organization/host, home-care, primary-care), which it writes itself.
import { ROLE_SYSTEM } from '../../dist/server/access/roles.js';

export const HOST = 'gen-org-host';
export const PARTNER_COUNT = 8;
const HOST_STAFF = 24;
const PARTNER_STAFF = 14;

export const partnerIds = Array.from({ length: PARTNER_COUNT }, (_, i) => `gen-org-partner-${i + 1}`);

const GIVEN = ['Amira', 'Ben', 'Chloé', 'Dev', 'Elena', 'Farid', 'Grace', 'Hugo', 'Ines', 'Jonah', 'Keiko', 'Luc', 'Maya', 'Nikhil', 'Olga', 'Pierre'];
const FAMILY = ['Abara', 'Bouchard', 'Chen', 'Da Silva', 'Eriksen', 'Fontaine', 'Gill', 'Haddad', 'Ivanova', 'Jensen', 'Kowalski', 'Lavoie', 'Mensah', 'Nakamura'];

/**
 * Staff of one organization. The hosting organization's first few are coordinators (they approve registrations
 * and start plans); each partner has one privacy contact (unless `privacyContacts` is false: then a contributor),
 * a few contributors (they obtain consent and write to the plan) and viewers.
 */
function staffOf(organization, count, isHost, privacyContacts) {
  return Array.from({ length: count }, (_, n) => {
    const role = isHost ? (n < 6 ? 'coordinator' : 'contributor') : n === 0 ? (privacyContacts ? 'privacy-contact' : 'contributor') : n < 8 ? 'contributor' : 'viewer';
    const id = `gen-pr-${organization.replace(/^gen-org-/, '')}-${n + 1}`;
    return { practitioner: id, role: `gen-role-${id.slice('gen-pr-'.length)}`, organization, code: role, user: `gen-user-${id.slice('gen-pr-'.length)}` };
  });
}

/**
 * Who works where: `{ practitioner, role, organization, code, user }` per person (`staff`), and the lists by use.
 * `host` and `partners` are Organization ids; `organizations: false` when they exist already (the shared
 * resources then hold the staff only).
 */
export function layoutOf({ host = HOST, partners = partnerIds, hostStaff = HOST_STAFF, partnerStaff = PARTNER_STAFF, privacyContacts = true, organizations = true } = {}) {
  if (!partners.length) throw new Error('a layout needs at least one partner organization');
  const staff = [staffOf(host, hostStaff, true, privacyContacts), ...partners.map((org) => staffOf(org, partnerStaff, false, privacyContacts))].flat();
  return {
    host,
    partnerIds: partners,
    organizations,
    staff,
    coordinators: staff.filter((person) => person.organization === host && person.code === 'coordinator'),
    hostClinicians: staff.filter((person) => person.organization === host),
    partnerStaff: new Map(partners.map((org) => [org, staff.filter((person) => person.organization === org)])),
  };
}

/** The benchmarks' layout. */
export const DEFAULT_LAYOUT = layoutOf();

/** The shared resources, as `{ type, id, resource }`, in an order that needs no forward reference. */
export function sharedResources(layout = DEFAULT_LAYOUT) {
  const { staff } = layout;
  const named = [
    { id: layout.host, name: 'Synthetic Regional Health (CCP host)', type: 'prov' },
    ...layout.partnerIds.map((id, i) => ({ id, name: `Synthetic Partner Care ${i + 1}`, type: i % 2 ? 'prov' : 'cg' })),
  ];
  const organizations = (layout.organizations ? named : []).map(({ id, name, type }) => ({
    resourceType: 'Organization',
    id,
    active: true,
    identifier: [{ system: 'https://ccp-exchange.example.org/org', value: id }],
    type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/organization-type', code: type }] }],
    name,
  }));
  const practitioners = staff.map((person, n) => ({
    resourceType: 'Practitioner',
    id: person.practitioner,
    active: true,
    identifier: [{ system: 'https://ccp-exchange.example.org/practitioner', value: person.practitioner }],
    name: [{ family: FAMILY[n % FAMILY.length], given: [GIVEN[(n * 7) % GIVEN.length]], prefix: person.code === 'viewer' ? undefined : ['Dr.'] }].map(dropUndefined),
  }));
  const roles = staff.map((person) => ({
    resourceType: 'PractitionerRole',
    id: person.role,
    active: true,
    practitioner: { reference: `Practitioner/${person.practitioner}` },
    organization: { reference: `Organization/${person.organization}` },
    code: [{ coding: [{ system: ROLE_SYSTEM, code: person.code }] }],
  }));
  return [...organizations, ...practitioners, ...roles];
}

function dropUndefined(object) {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined));
}
