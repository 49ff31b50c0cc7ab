import type { Consent, Resource } from 'fhir/r4';
import { UNRESTRICTED } from '../../server/access/caller.js';
import { ROLE_SYSTEM } from '../../server/access/roles.js';
import { ClientStore, type Client } from '../../server/auth/clients.js';
import { UserStore } from '../../server/auth/users.js';
import { CONSENT_SCOPE, PARTICIPATION_TYPE, PRIVACY_SCOPE, RECIPIENT_ROLE } from '../../server/conformance/consent-vocabulary.js';
import { createAccessCheck } from '../../server/notifications/access-check.js';
import { handleFhirRequest } from '../../server/pipeline/fhir-request.js';
import type { AccessCheck, AccessMoment, FocusRef, SubscriptionOwner } from '../../server/subscriptions/model.js';
import { ccpPlan } from '../support/ccp-plan.js';
import { BACKENDS, reportBackends } from '../support/backends.js';
import { openTestServer, type TestServer } from '../support/fhir-app.js';
import { registrationConsent } from '../support/registration.js';

reportBackends();

const BASE = 'https://ccp.example.org/fhir';

const ccp = (id: string, patient: string): Resource => ccpPlan(id, patient);

const role = (id: string, organization: string, practitioner: string, code: string): Resource =>
  ({
    resourceType: 'PractitionerRole',
    id,
    active: true,
    organization: { reference: `Organization/${organization}` },
    practitioner: { reference: `Practitioner/${practitioner}` },
    code: [{ coding: [{ system: ROLE_SYSTEM, code }] }],
  }) as Resource;

/** The patient withholds the plan from organization A (docs/CONSENT.md: deny wins over a registration). */
const denyA: Consent = {
  resourceType: 'Consent',
  id: 'd-p2',
  status: 'active',
  scope: { coding: [{ system: CONSENT_SCOPE, code: PRIVACY_SCOPE }] },
  category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
  patient: { reference: 'Patient/p2' },
  provision: { type: 'deny', actor: [{ role: { coding: [{ system: PARTICIPATION_TYPE, code: RECIPIENT_ROLE }] }, reference: { reference: 'Organization/A' } }] },
};

/**
 * The host and two partners: A registered (approved) for p1 and p2, but p2 denies A; B registered for nobody.
 * Users: ua of A, ub of B (contributors), uh of the host (coordinator).
 */
const WORLD: Resource[] = [
  ...['host', 'A', 'B'].map((id) => ({ resourceType: 'Organization', id, active: true }) as Resource),
  ...['p1', 'p2'].map((id) => ({ resourceType: 'Patient', id }) as Resource),
  ...['ua', 'ub', 'uh'].map((id) => ({ resourceType: 'Practitioner', id, active: true }) as Resource),
  role('role-a', 'A', 'ua', 'contributor'),
  role('role-b', 'B', 'ub', 'contributor'),
  role('role-h', 'host', 'uh', 'coordinator'),
  ccp('cp1', 'p1'),
  ccp('cp2', 'p2'),
  { ...registrationConsent('p1', 'A', 'view', 'active', { start: '2020-01-01' }), id: 'r-a1' } as Consent,
  { ...registrationConsent('p2', 'A', 'view', 'active', { start: '2020-01-01' }), id: 'r-a2' } as Consent,
  denyA,
];

const client = (clientId: string, kind: Client['kind'], organizationId?: string): Client => ({
  clientId,
  name: clientId,
  kind,
  authMethod: kind === 'backend' ? 'private_key_jwt' : 'none',
  redirectUris: kind === 'backend' ? [] : ['https://app.example/callback'],
  scope: 'openid fhirUser user/*.cruds system/*.cruds',
  ...(organizationId ? { organizationId } : {}),
  active: true,
  source: 'api',
});

const plan = (id: string): FocusRef => ({ type: 'CarePlan', id });

describe.each(BACKENDS)('the notifications access check on $name', (backend) => {
  let server: TestServer;
  let check: AccessCheck;
  let clients: ClientStore;
  let users: UserStore;
  const userIds: Record<string, string> = {};
  const userOwner = (who: string, scopes = ['user/*.rs'], clientId = 'app'): SubscriptionOwner => ({ clientId, userId: userIds[who], scopes });

  beforeAll(async () => {
    server = await openTestServer(backend, { hostingOrganization: 'host' });
    for (const resource of WORLD) {
      const request = { method: 'PUT', path: `${resource.resourceType}/${resource.id}`, query: {}, headers: {}, baseUrl: BASE, caller: UNRESTRICTED, body: resource };
      expect((await handleFhirRequest(request, server.context)).status).toBe(201);
    }
    clients = new ClientStore(server.db);
    users = new UserStore(server.db);
    for (const saved of [client('app', 'public'), client('old-app', 'public'), client('emr-a', 'backend', 'A'), client('emr-gone', 'backend', 'A')]) await clients.save(saved);
    for (const who of ['a', 'b', 'h', 'a2']) userIds[who] = (await users.create({ practitionerRoleId: `role-${who.slice(0, 1)}` })).id;
    check = createAccessCheck(server.db, server.context);
  });
  afterAll(async () => server?.close());

  it('a partner with an approved registration may read the plan; one without a registration may not', async () => {
    expect(await check(userOwner('a'), plan('cp1'))).toBe(true);
    expect(await check(userOwner('b'), plan('cp1'))).toBe(false);
    // A backend client of the partner is decided by its registered organization alike.
    expect(await check({ clientId: 'emr-a', scopes: ['system/CarePlan.rs'] }, plan('cp1'))).toBe(true);
  });

  it('a deny directive withholds the plan from the registered partner', async () => {
    expect(await check(userOwner('a'), plan('cp2'))).toBe(false);
    expect(await check({ clientId: 'emr-a', scopes: ['system/CarePlan.rs'] }, plan('cp2'))).toBe(false);
  });

  it('the hosting organization is not held by registrations or directives', async () => {
    expect(await check(userOwner('h'), plan('cp1'))).toBe(true);
    expect(await check(userOwner('h'), plan('cp2'))).toBe(true);
  });

  it('scopes without a read of CarePlan may not, whatever consent says', async () => {
    expect(await check(userOwner('a', ['user/Patient.rs']), plan('cp1'))).toBe(false);
    expect(await check(userOwner('a', ['user/CarePlan.s']), plan('cp1'))).toBe(false);
    expect(await check(userOwner('h', ['user/CarePlan.r']), plan('cp1'))).toBe(true);
    // A backend's system/ scope is not a user's.
    expect(await check(userOwner('h', ['system/CarePlan.rs']), plan('cp1'))).toBe(false);
  });

  it('a deactivated client, or a deactivated user, may not', async () => {
    expect(await check(userOwner('a', ['user/*.rs'], 'old-app'), plan('cp1'))).toBe(true);
    await clients.save({ ...client('old-app', 'public'), active: false });
    expect(await check(userOwner('a', ['user/*.rs'], 'old-app'), plan('cp1'))).toBe(false);
    expect(await check({ clientId: 'emr-gone', scopes: ['system/CarePlan.rs'] }, plan('cp1'))).toBe(true);
    await clients.save({ ...client('emr-gone', 'backend', 'A'), active: false });
    expect(await check({ clientId: 'emr-gone', scopes: ['system/CarePlan.rs'] }, plan('cp1'))).toBe(false);
    expect(await check(userOwner('a2'), plan('cp1'))).toBe(true);
    await users.update(userIds.a2, { active: false });
    expect(await check(userOwner('a2'), plan('cp1'))).toBe(false);
    // A client nobody registered.
    expect(await check({ clientId: 'nobody', scopes: ['system/*.rs'] }, plan('cp1'))).toBe(false);
  });

  it("a partner organization's own subscription (its notification address) is decided as the organization's access", async () => {
    const organization = (id: string, scopes = ['system/CarePlan.r', 'system/Organization.r']): SubscriptionOwner => ({ kind: 'organization', organization: id, scopes });
    expect(await check(organization('A'), plan('cp1'))).toBe(true);
    // Registrations and directives hold it as they hold its clients.
    expect(await check(organization('A'), plan('cp2'))).toBe(false);
    expect(await check(organization('B'), plan('cp1'))).toBe(false);
    expect(await check(organization('A'), { type: 'Organization', id: 'B' })).toBe(true);
    // Its scopes bound it: no read of CarePlan, no plan.
    expect(await check(organization('A', ['system/Organization.r']), plan('cp1'))).toBe(false);
    // The hosting organization is no partner, an unknown one nobody, and an owner without an organization no one.
    expect(await check(organization('host'), plan('cp1'))).toBe(false);
    expect(await check(organization('nowhere'), plan('cp1'))).toBe(false);
    expect(await check({ kind: 'organization', scopes: ['system/CarePlan.r'] }, plan('cp1'))).toBe(false);
    // Made inactive, it is told nothing; active again, as before.
    const put = (active: boolean) =>
      handleFhirRequest({ method: 'PUT', path: 'Organization/A', query: {}, headers: {}, baseUrl: BASE, caller: UNRESTRICTED, body: { resourceType: 'Organization', id: 'A', active } }, server.context);
    await put(false);
    expect(await check(organization('A'), plan('cp1'))).toBe(false);
    expect(await check(organization('A'), { type: 'Organization', id: 'B' })).toBe(false);
    await put(true);
    expect(await check(organization('A'), plan('cp1'))).toBe(true);
  });

  it('a plan that does not exist is no', async () => {
    expect(await check(userOwner('h'), plan('no-such-plan'))).toBe(false);
  });

  it('decisions of one moment look the owner up once; a new moment sees the owner as it is now', async () => {
    await clients.save(client('moment-app', 'backend', 'A'));
    const owner: SubscriptionOwner = { clientId: 'moment-app', scopes: ['system/CarePlan.rs'] };
    const moment: AccessMoment = new Map();
    expect(await check(owner, plan('cp1'), moment)).toBe(true);
    await clients.save({ ...client('moment-app', 'backend', 'A'), active: false });
    // The same moment keeps what it found: its decisions are as of its first (a fan-out step, one delivery).
    expect(await check(owner, plan('cp1'), moment)).toBe(true);
    // Each focus is still decided for itself: the deny directive still withholds cp2 from A's client.
    expect(await check(owner, plan('cp2'), moment)).toBe(false);
    // A new moment, or none, finds the client deactivated.
    expect(await check(owner, plan('cp1'), new Map())).toBe(false);
    expect(await check(owner, plan('cp1'))).toBe(false);
  });
});
