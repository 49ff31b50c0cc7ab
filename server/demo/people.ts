import type { Organization, Practitioner, PractitionerRole } from 'fhir/r4';
import { ROLE_SYSTEM } from '../access/roles.js';
import type { AuthServer } from '../auth/auth-server.js';
import type { User } from '../auth/users.js';
import { CONTACT_PURPOSE_SYSTEM, NOTIFICATIONS_PURPOSE } from '../subscriptions/partner-address.js';
import { createAccount, newPassword, registerClient, type Secrets } from './accounts.js';
import type { Actor } from './requests.js';
import { ADMIN, CLIENTS, LOCAL_ADMIN, ORGANIZATIONS, USERS, type DemoOrganization, type DemoUser } from './world.js';

const GUIDE = 'http://ccp-exchange.org/fhir';

/**
 * The organizations, the people of the world (each a Practitioner with one PractitionerRole, both with their
 * username as id) and their accounts, and the clients beside local-admin: what an operator sets up with the
 * local-admin client, through the FHIR API and the checks of the admin API.
 */
export async function setUpPeople(auth: AuthServer, operator: Actor, secrets: Secrets): Promise<Map<string, User>> {
  const staff = USERS.filter((user) => user.username !== ADMIN);
  await operator.put([...ORGANIZATIONS.map(organizationOf), ...staff.map(practitionerOf), ...staff.map(roleOf)]);
  const accounts = new Map<string, User>();
  for (const user of staff) {
    const password = newPassword();
    secrets.passwords.set(user.username, password);
    accounts.set(user.username, await createAccount(auth, user.username, password, user.username));
  }
  for (const client of CLIENTS) {
    if (client.registration.client_id !== LOCAL_ADMIN) await registerClient(auth, client.registration, secrets);
  }
  return accounts;
}

/** `Type/id` of what setUpPeople writes. */
export function peopleKeys(): string[] {
  const staff = USERS.filter((user) => user.username !== ADMIN);
  return [...ORGANIZATIONS.map((o) => `Organization/${o.id}`), ...staff.flatMap((user) => [`Practitioner/${user.username}`, `PractitionerRole/${user.username}`])];
}

function organizationOf(organization: DemoOrganization): Organization & { id: string } {
  const base: Organization & { id: string } = {
    resourceType: 'Organization',
    id: organization.id,
    active: true,
    type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/organization-type', code: 'prov', display: 'Healthcare Provider' }] }],
    name: organization.name,
  };
  if (!organization.partner) return base;
  // A partner in the guide's shape: its custodian status, whom to reach about privacy, and where the server emails
  // its notifications (the write keeps its email subscriptions: server/notifications/partner-email-rule.ts).
  return {
    ...base,
    meta: { profile: [`${GUIDE}/StructureDefinition/ccp-partner-organization`] },
    extension: [{ url: `${GUIDE}/StructureDefinition/custodian-status`, valueCode: organization.partner.custodianStatus }],
    contact: [
      {
        purpose: { coding: [{ system: ROLE_SYSTEM, code: 'privacy-contact' }] },
        telecom: [{ system: 'email', value: organization.partner.privacyEmail }],
      },
      {
        purpose: { coding: [{ system: CONTACT_PURPOSE_SYSTEM, code: NOTIFICATIONS_PURPOSE }] },
        telecom: [{ system: 'email', value: organization.partner.notificationEmail }],
      },
    ],
  };
}

function practitionerOf(user: DemoUser): Practitioner & { id: string } {
  return { resourceType: 'Practitioner', id: user.username, active: true, name: [user.name] };
}

function roleOf(user: DemoUser): PractitionerRole & { id: string } {
  return {
    resourceType: 'PractitionerRole',
    id: user.username,
    active: true,
    practitioner: { reference: `Practitioner/${user.username}` },
    ...(user.organization ? { organization: { reference: `Organization/${user.organization}` } } : {}),
    code: [{ coding: [{ system: ROLE_SYSTEM, code: user.role }] }],
  };
}
