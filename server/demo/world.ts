import type { HumanName } from 'fhir/r4';
import type { Role } from '../access/roles.js';
import type { ClientRegistration } from '../auth/admin/client-registration.js';

/**
 * The demo world (docs/DEMO.md; its ids are a contract the walk-throughs and tests build on): three
 * organizations, one account per role, three clients and five story patients. Only data here: the steps that
 * write it are in accounts.ts, people.ts and story.ts.
 */

/** `HOSTING_ORGANIZATION` the server must be started with for the world to mean what it says. */
export const HOST = 'host';

export interface DemoOrganization {
  id: string;
  name: string;
  /**
   * Partners carry the CCP partner Organization profile: custodian status, a privacy contact's address, and the
   * notification address the server emails of changed plans, service notices and new organizations.
   */
  partner?: { custodianStatus: 'custodian' | 'agent'; privacyEmail: string; notificationEmail: string };
}

export const ORGANIZATIONS: DemoOrganization[] = [
  { id: HOST, name: 'Lakeside Regional Health' },
  {
    id: 'home-care',
    name: 'Riverside Home Care',
    partner: { custodianStatus: 'custodian', privacyEmail: 'privacy@riverside-home-care.example.org', notificationEmail: 'ccp-notices@riverside-home-care.example.org' },
  },
  {
    id: 'primary-care',
    name: 'Maple Family Health Team',
    partner: { custodianStatus: 'custodian', privacyEmail: 'privacy@maple-fht.example.org', notificationEmail: 'ccp-notices@maple-fht.example.org' },
  },
];

export const PARTNERS = ORGANIZATIONS.filter((organization) => organization.partner).map((organization) => organization.id);

export interface DemoUser {
  /** Also the id of the user's Practitioner and PractitionerRole (but an adopted admin keeps its own). */
  username: string;
  role: Role;
  organization?: string;
  name: HumanName;
  /** What they do, for the summary. */
  title: string;
  /** The shell variable of the printed block that holds the password. */
  variable: string;
}

/** The first-start account (server/auth/bootstrap.ts): adopted when the database holds it. */
export const ADMIN = 'admin';

export const USERS: DemoUser[] = [
  { username: ADMIN, role: 'administrator', name: { text: 'Administrator' }, title: 'server administrator', variable: 'ADMIN_PASSWORD' },
  { username: 'coordinator', role: 'coordinator', organization: HOST, name: { given: ['Carmen'], family: 'Okafor' }, title: 'care coordinator: plans, reviews registrations', variable: 'COORDINATOR_PASSWORD' },
  { username: 'contributor', role: 'contributor', organization: 'home-care', name: { given: ['Noah'], family: 'Tremblay' }, title: 'home care nurse', variable: 'CONTRIBUTOR_PASSWORD' },
  { username: 'viewer', role: 'viewer', organization: 'home-care', name: { given: ['Lina'], family: 'Haddad' }, title: 'personal support worker (reads)', variable: 'VIEWER_PASSWORD' },
  { username: 'privacy-contact', role: 'privacy-contact', organization: 'home-care', name: { given: ['Omar'], family: 'Benali' }, title: 'privacy officer, told of overrides', variable: 'PRIVACY_CONTACT_PASSWORD' },
  { username: 'privacy-auditor', role: 'privacy-auditor', organization: 'home-care', name: { given: ['Ruth'], family: 'Lindqvist' }, title: 'audits the organization’s AuditEvents', variable: 'PRIVACY_AUDITOR_PASSWORD' },
  {
    username: 'registration-authority',
    role: 'local-registration-authority',
    organization: 'home-care',
    name: { given: ['Jules'], family: 'Moreau' },
    title: 'registers the organization’s staff',
    variable: 'REGISTRATION_AUTHORITY_PASSWORD',
  },
  { username: 'gp', role: 'contributor', organization: 'primary-care', name: { given: ['Hana'], family: 'Sato' }, title: 'family physician', variable: 'GP_PASSWORD' },
];

export interface DemoClient {
  registration: ClientRegistration;
  /** The shell variable of the printed block that holds the secret (confidential and backend clients). */
  variable?: string;
}

/** The first-start backend client (server/auth/bootstrap.ts): adopted when the database holds it. */
export const LOCAL_ADMIN = 'local-admin';
export const DEMO_APP = 'demo-app';
export const DEMO_APP_REDIRECT = 'http://127.0.0.1/demo-app/callback';

export const CLIENTS: DemoClient[] = [
  {
    registration: {
      client_id: LOCAL_ADMIN,
      client_name: 'Local administration (bootstrap)',
      kind: 'backend',
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'system/*.cruds admin ehr-launch',
    },
    variable: 'LOCAL_ADMIN_SECRET',
  },
  {
    registration: {
      client_id: 'home-care-emr',
      client_name: 'Riverside Home Care EMR',
      kind: 'backend',
      token_endpoint_auth_method: 'client_secret_basic',
      // Reads what home-care may see; writes nothing but its own Subscriptions, to be told of changes instead of
      // polling (docs/NOTIFICATIONS.md).
      scope: 'system/*.rs system/Subscription.cruds',
      organization: 'Organization/home-care',
    },
    variable: 'HOME_CARE_EMR_SECRET',
  },
  {
    registration: {
      client_id: DEMO_APP,
      client_name: 'CCP Exchange demo app',
      kind: 'public',
      token_endpoint_auth_method: 'none',
      redirect_uris: [DEMO_APP_REDIRECT],
      scope: 'launch launch/patient openid fhirUser offline_access online_access admin user/*.cruds patient/*.cruds',
    },
  },
];

/** The MRN of the hosting organization's patients. */
export const MRN_SYSTEM = 'https://lakeside-regional.example.org/mrn';

export interface StoryPatient {
  id: string;
  name: HumanName;
  gender: 'female' | 'male';
  birthDate: string;
  mrn: string;
  /** Days before the demo runs that the plan started. */
  planDaysAgo: number;
  goals: string[];
  activity: string;
  /** What else the story did, for the summary. */
  note?: string;
}

export const STORY_PATIENTS: StoryPatient[] = [
  {
    id: 'p1',
    name: { given: ['Eleanor'], family: 'Whitfield' },
    gender: 'female',
    birthDate: '1941-03-12',
    mrn: 'LRH-100001',
    planDaysAgo: 14,
    goals: ['Stay in her own home through the winter'],
    activity: 'Monthly telephone check-in by the care coordinator',
  },
  {
    id: 'p2',
    name: { given: ['Samuel'], family: 'Ostrowski' },
    gender: 'male',
    birthDate: '1950-07-23',
    mrn: 'LRH-100002',
    planDaysAgo: 60,
    goals: ['Walk to the corner store and back without resting', 'No hospital admission for heart failure this year'],
    activity: 'Weekly home visit by the community nurse',
  },
  {
    id: 'p3',
    name: { given: ['Priya'], family: 'Raman' },
    gender: 'female',
    birthDate: '1962-11-02',
    mrn: 'LRH-100003',
    planDaysAgo: 120,
    goals: ['Keep blood sugar in her target range'],
    activity: 'Diabetes education sessions at the clinic',
  },
  {
    id: 'p4',
    name: { given: ['Thomas'], family: 'Beaulieu' },
    gender: 'male',
    birthDate: '1938-05-30',
    mrn: 'LRH-100004',
    planDaysAgo: 200,
    goals: ['Take his medications as prescribed every day', 'Attend his grandson’s wedding in June'],
    activity: 'Medication review with the pharmacist',
    note: 'a directive withholds the plan from Practitioner/viewer, who holds an override (patient-consent) for OVERRIDE_HOURS (default 4) from now',
  },
  {
    id: 'p5',
    name: { given: ['Grace'], family: 'Nakamura' },
    gender: 'female',
    birthDate: '1955-01-17',
    mrn: 'LRH-100005',
    planDaysAgo: 500,
    goals: ['Return to gardening after her hip replacement'],
    activity: 'Physiotherapy twice a week',
  },
];

export const carePlanId = (patient: string): string => `ccp-${patient}`;
