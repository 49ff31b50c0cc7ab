import type { Bundle, CarePlan, Consent, Goal, Resource } from 'fhir/r4';
import { type Caller, UNRESTRICTED } from '../../server/access/caller.js';
import { parseResourceScope } from '../../server/access/scopes.js';
import {
  ACT_CODE,
  CONSENT_SCOPE,
  OVERRIDE_CODE,
  PRIVACY_SCOPE,
} from '../../server/conformance/consent-vocabulary.js';
import { FhirError } from '../../server/fhir/outcome.js';
import { handleFhirRequest } from '../../server/pipeline/fhir-request.js';
import type { FhirRequest, FhirResponse } from '../../server/rest/types.js';
import { ccpPlan } from '../support/ccp-plan.js';
import { testUser } from '../support/callers.js';
import { registrationConsent } from '../support/registration.js';
import { BACKENDS, reportBackends } from '../support/backends.js';
import { openTestServer, type TestServer } from '../support/fhir-app.js';

reportBackends();

const BASE = 'https://ccp.example.org/fhir';
const HOUR = 3600_000;
const iso = (offset: number) => new Date(Date.now() + offset).toISOString();

const user = testUser;

/** A hand-made world whose expected visibility is worked out in the comments below, rule by rule. */
const ORG_A = user('ua', 'A');
const ORG_B = user('ub', 'B');
const NO_ORG = user('un', undefined);
const HOST = user('uh', 'host', ['coordinator']);
const SYSTEM_B: Caller = { kind: 'system', clientId: 'emr-b', scopes: [parseResourceScope('system/*.cruds')!], organization: 'B' };
const AUDITOR_A = user('aa', 'A', ['privacy-auditor']);

const ccp = (id: string, patient: string, extra: Partial<CarePlan> = {}) => ccpPlan(id, patient, extra);

function registration(id: string, patient: string, organization: string, level: 'view' | 'modify', status: Consent['status'], period: { start?: string; end?: string }): Consent {
  return { ...registrationConsent(patient, organization, level, status, period), id };
}

const actor = (reference: string) => ({ role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }] }, reference: { reference } });

function directive(id: string, patient: string, denied: string[], exceptions: string[] = []): Consent {
  return {
    resourceType: 'Consent',
    id,
    status: 'active',
    scope: { coding: [{ system: CONSENT_SCOPE, code: PRIVACY_SCOPE }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    patient: { reference: `Patient/${patient}` },
    provision: {
      type: 'deny',
      ...(denied.length ? { actor: denied.map(actor) } : {}),
      ...(exceptions.length ? { provision: [{ type: 'permit', actor: exceptions.map(actor) }] } : {}),
    },
  };
}

function override(id: string, patient: string, practitioner: string, end: string): Consent {
  return {
    resourceType: 'Consent',
    id,
    status: 'active',
    scope: { coding: [{ system: CONSENT_SCOPE, code: PRIVACY_SCOPE }] },
    category: [{ coding: [{ system: ACT_CODE, code: OVERRIDE_CODE }] }],
    patient: { reference: `Patient/${patient}` },
    provision: { type: 'permit', period: { start: iso(-HOUR), end }, actor: [actor(`Practitioner/${practitioner}`)] },
  };
}

/**
 * p1: A registered at modify (R1); B's request pending (R3); `un` (no organization) holds an override (O1).
 * p2: A registered at view (R2); B's modify registration expired (R4); `ub`'s override expired (O2).
 * p3: A registered at view (R5) but denied by D1; B registered at modify (R6); D2 denies everyone except B.
 */
const WORLD: Resource[] = [
  ...['host', 'A', 'B'].map((id) => ({ resourceType: 'Organization', id, active: true }) as Resource),
  ...['p1', 'p2', 'p3'].map((id) => ({ resourceType: 'Patient', id, gender: 'female' }) as Resource),
  // The users' Practitioners, whom overrides and directives name.
  ...['ua', 'ub', 'un', 'uh', 'aa'].map((id) => ({ resourceType: 'Practitioner', id, active: true }) as Resource),
  { resourceType: 'Goal', id: 'g1', lifecycleStatus: 'active', description: { text: 'walk daily' }, subject: { reference: 'Patient/p1' } } as Resource,
  ccp('cp1', 'p1', { goal: [{ reference: 'Goal/g1' }] }) as Resource,
  ccp('cp2', 'p2') as Resource,
  ccp('cp3', 'p3') as Resource,
  { resourceType: 'CareTeam', id: 'ct12', subject: { reference: 'Patient/p1' }, participant: [{ member: { reference: 'Patient/p2' } }] } as Resource,
  { resourceType: 'Task', id: 't0', status: 'requested', intent: 'order' } as Resource,
  { resourceType: 'Observation', id: 'obs1', status: 'final', code: { text: 'weight' }, subject: { reference: 'Patient/p1' }, basedOn: [{ reference: 'CarePlan/cp3' }] } as Resource,
  registration('R1', 'p1', 'A', 'modify', 'active', { start: '2020-01-01' }),
  registration('R2', 'p2', 'A', 'view', 'active', { start: '2020-01-01' }),
  registration('R3', 'p1', 'B', 'modify', 'proposed', { start: '2020-01-01' }),
  registration('R4', 'p2', 'B', 'modify', 'active', { start: '2020-01-01', end: '2021-01-01' }),
  registration('R5', 'p3', 'A', 'view', 'active', {}),
  registration('R6', 'p3', 'B', 'modify', 'active', { start: '2020-01-01', end: iso(1000 * HOUR) }),
  directive('D1', 'p3', ['Organization/A']),
  directive('D2', 'p3', [], ['Organization/B']),
  override('O1', 'p1', 'un', iso(4 * HOUR)),
  override('O2', 'p2', 'ub', iso(-1000)),
];

describe.each(BACKENDS)('the consent access decision on $name', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await openTestServer(backend, { hostingOrganization: 'host' });
    for (const resource of WORLD) await call(UNRESTRICTED, 'PUT', `${resource.resourceType}/${resource.id}`, { body: resource });
  });
  afterAll(async () => server?.close());

  function call(caller: Caller, method: string, path: string, init: Partial<FhirRequest> = {}): Promise<FhirResponse> {
    return handleFhirRequest({ method, path, query: {}, headers: {}, baseUrl: BASE, caller, ...init }, server.context);
  }
  async function status(promise: Promise<FhirResponse>): Promise<number> {
    try {
      return (await promise).status;
    } catch (error) {
      if (error instanceof FhirError) return error.status;
      throw error;
    }
  }
  async function search(caller: Caller, path: string, query: Record<string, string[]> = {}): Promise<{ ids: string[]; included: string[]; total?: number }> {
    const bundle = (await call(caller, 'GET', path, { query })).body as Bundle;
    const of = (mode: string) => (bundle.entry ?? []).filter((e) => e.search?.mode === mode).map((e) => `${e.resource!.resourceType}/${e.resource!.id}`).sort();
    return { ids: of('match'), included: of('include'), total: bundle.total };
  }

  it('a partner sees the plans of the patients its organization is registered for and not denied, with totals to match', async () => {
    expect(await search(ORG_A, 'CarePlan', { _total: ['accurate'] })).toMatchObject({ ids: ['CarePlan/cp1', 'CarePlan/cp2'], total: 2 });
    // B: p1 pending, p2 expired, p3 registered and excepted from the deny-all.
    expect(await search(ORG_B, 'CarePlan', { _total: ['accurate'] })).toMatchObject({ ids: ['CarePlan/cp3'], total: 1 });
    expect(await search(SYSTEM_B, 'CarePlan', { _total: ['accurate'] })).toMatchObject({ ids: ['CarePlan/cp3'], total: 1 });
    // Only the override opens p1 to a user with no organization.
    expect(await search(NO_ORG, 'CarePlan', { _total: ['accurate'] })).toMatchObject({ ids: ['CarePlan/cp1'], total: 1 });
    expect(await search(HOST, 'CarePlan', { _total: ['accurate'] })).toMatchObject({ ids: ['CarePlan/cp1', 'CarePlan/cp2', 'CarePlan/cp3'], total: 3 });
  });

  it('a row naming several patients needs every one of them; a row naming none is hidden from partners', async () => {
    expect((await search(ORG_A, 'CareTeam')).ids).toEqual(['CareTeam/ct12']);
    expect((await search(NO_ORG, 'CareTeam')).ids).toEqual([]);
    expect((await search(ORG_A, 'Task')).ids).toEqual([]);
    expect((await search(HOST, 'Task')).ids).toEqual(['Task/t0']);
  });

  it('reads a hidden resource as 404, exactly like a missing one, by read, vread and history', async () => {
    expect(await status(call(ORG_A, 'GET', 'CarePlan/cp1'))).toBe(200);
    expect(await status(call(ORG_A, 'GET', 'CarePlan/cp3'))).toBe(404);
    expect(await status(call(ORG_A, 'GET', 'CarePlan/nothing-here'))).toBe(404);
    expect(await status(call(ORG_A, 'GET', 'CarePlan/cp3/_history/1'))).toBe(404);
    expect(await status(call(ORG_A, 'GET', 'CarePlan/cp3/_history'))).toBe(404);
    expect(await status(call(ORG_B, 'GET', 'CarePlan/cp3/_history'))).toBe(200);
    // Types the rules do not govern are untouched.
    expect(await status(call(ORG_B, 'GET', 'Observation/obs1'))).toBe(200);
  });

  it('includes, reverse includes, chains and _has never bring in or reveal a hidden row', async () => {
    expect((await search(ORG_A, 'Patient', { _revinclude: ['CarePlan:subject'] })).included).toEqual(['CarePlan/cp1', 'CarePlan/cp2']);
    expect((await search(ORG_B, 'CarePlan', { _include: ['CarePlan:goal'] })).included).toEqual([]);
    expect((await search(ORG_A, 'CarePlan', { _id: ['cp1'], _include: ['CarePlan:goal'] })).included).toEqual(['Goal/g1']);
    expect((await search(ORG_A, 'Patient', { '_has:CarePlan:subject:status': ['active'] })).ids).toEqual(['Patient/p1', 'Patient/p2']);
    expect((await search(HOST, 'Patient', { '_has:CarePlan:subject:status': ['active'] })).ids).toEqual(['Patient/p1', 'Patient/p2', 'Patient/p3']);
    expect((await search(ORG_A, 'Observation', { 'based-on:CarePlan.status': ['active'] })).ids).toEqual([]);
    expect((await search(ORG_B, 'Observation', { 'based-on:CarePlan.status': ['active'] })).ids).toEqual(['Observation/obs1']);
    // D1 withholds p3's plan from A; A's own registration record (R5) is A's to see all the same.
    expect((await search(ORG_A, 'Patient/p3/*')).ids).toEqual(['Consent/R5', 'Patient/p3']);
  });

  it('batch entries are decided one by one', async () => {
    const body = { resourceType: 'Bundle', type: 'batch', entry: ['CarePlan/cp1', 'CarePlan/cp3'].map((url) => ({ request: { method: 'GET', url } })) };
    const bundle = (await call(ORG_A, 'POST', '', { body })).body as Bundle;
    expect(bundle.entry!.map((entry) => entry.response!.status.slice(0, 3))).toEqual(['200', '404']);
  });

  it('writing needs a registration at the modify level; what is written must be within reach, or nothing is written', async () => {
    const plan = (id: string, patient: string) => ({ body: ccp(id, patient, { status: 'draft' }) });
    expect(await status(call(ORG_A, 'PUT', 'CarePlan/cp1', { body: ccp('cp1', 'p1', { goal: [{ reference: 'Goal/g1' }], description: 'updated' }) }))).toBe(200);
    // Visible at view only: refused, not hidden.
    expect(await status(call(ORG_A, 'PUT', 'CarePlan/cp2', { body: ccp('cp2', 'p2') }))).toBe(403);
    expect(await status(call(ORG_A, 'PUT', 'CarePlan/cp3', { body: ccp('cp3', 'p3') }))).toBe(404);
    expect(await status(call(ORG_A, 'POST', 'CarePlan', plan('x', 'p2')))).toBe(403);
    expect(await status(call(ORG_A, 'POST', 'CarePlan', plan('x', 'p3')))).toBe(403);
    expect((await search(HOST, 'CarePlan', { subject: ['Patient/p2,Patient/p3'] })).ids).toEqual(['CarePlan/cp2', 'CarePlan/cp3']);
    expect(await status(call(ORG_A, 'POST', 'CarePlan', plan('x', 'p1')))).toBe(201);
    // Moving a plan out of reach is refused too.
    const goal = (await call(HOST, 'GET', 'Goal/g1')).body as Goal;
    expect(await status(call(ORG_A, 'PUT', 'Goal/g1', { body: { ...goal, subject: { reference: 'Patient/p3' } } }))).toBe(403);
    expect(((await call(HOST, 'GET', 'Goal/g1')).body as Goal).subject.reference).toBe('Patient/p1');
  });

  it('what would have to search first is refused to partners: conditional writes, type and system history', async () => {
    expect(await status(call(ORG_A, 'GET', 'CarePlan/_history'))).toBe(403);
    expect(await status(call(ORG_A, 'GET', '_history'))).toBe(403);
    expect(await status(call(ORG_A, 'PUT', 'CarePlan', { query: { subject: ['Patient/p1'] }, body: ccp('cp1', 'p1') }))).toBe(403);
    expect(await status(call(ORG_A, 'POST', 'CarePlan', { headers: { 'if-none-exist': 'subject=Patient/p1' }, body: ccp('y', 'p1') }))).toBe(403);
    expect(await status(call(HOST, 'GET', 'CarePlan/_history'))).toBe(200);
  });

  it('directives are recorded through plain REST by coordinators and privacy contacts, not by contributors', async () => {
    const withhold = (id: string, from: string) => ({ body: { ...directive(id, 'p1', [from]), id: undefined } });
    expect(await status(call(ORG_A, 'POST', 'Consent', withhold('x', 'Organization/B')))).toBe(403);
    // A partner's privacy contact, for a patient its organization may modify; and a hosting coordinator.
    expect(await status(call(user('pa', 'A', ['privacy-contact']), 'POST', 'Consent', withhold('x', 'Practitioner/aa')))).toBe(201);
    const created = await call(HOST, 'POST', 'Consent', withhold('x', 'Practitioner/ua'));
    expect(created.status).toBe(201);
    // It counts at once: the person is withheld from, their organization's other users are not.
    expect(await status(call(ORG_A, 'GET', 'CarePlan/cp1'))).toBe(404);
    expect(await status(call(user('ua2', 'A'), 'GET', 'CarePlan/cp1'))).toBe(200);
    expect(await status(call(HOST, 'DELETE', `Consent/${created.body!.id}`))).toBe(403);
    await call(UNRESTRICTED, 'DELETE', `Consent/${created.body!.id}`);
    expect(await status(call(ORG_A, 'GET', 'CarePlan/cp1'))).toBe(200);
  });

  it('privacy auditors see only the audit records of their own organization', async () => {
    const event = (id: string, organization: string) => ({
      resourceType: 'AuditEvent',
      id,
      type: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest' },
      recorded: iso(0),
      agent: [{ who: { reference: `Organization/${organization}` }, requestor: false }],
      source: { observer: { display: 'test' } },
    });
    const a = (await call(UNRESTRICTED, 'POST', 'AuditEvent', { body: event('ignored', 'A') })).body!.id!;
    const b = (await call(UNRESTRICTED, 'POST', 'AuditEvent', { body: event('ignored', 'B') })).body!.id!;
    const seen = await search(AUDITOR_A, 'AuditEvent', { _count: ['1000'] });
    expect(seen.ids).toContain(`AuditEvent/${a}`);
    expect(seen.ids).not.toContain(`AuditEvent/${b}`);
    expect(await status(call(AUDITOR_A, 'GET', `AuditEvent/${a}`))).toBe(200);
    expect(await status(call(AUDITOR_A, 'GET', `AuditEvent/${b}`))).toBe(404);
    expect(await status(call(AUDITOR_A, 'GET', 'CarePlan/cp1'))).toBe(403);
  });

  it('a Consent counts from the version written: withdrawing a directive opens the plan at once, and restoring it closes it', async () => {
    const d1 = (await call(HOST, 'GET', 'Consent/D1')).body as Consent;
    await call(UNRESTRICTED, 'PUT', 'Consent/D1', { body: { ...d1, status: 'inactive' } });
    // R5 (view) now opens p3 to A... but D2 denies everyone except B.
    expect(await status(call(ORG_A, 'GET', 'CarePlan/cp3'))).toBe(404);
    const d2 = (await call(HOST, 'GET', 'Consent/D2')).body as Consent;
    await call(UNRESTRICTED, 'DELETE', 'Consent/D2');
    expect(await status(call(ORG_A, 'GET', 'CarePlan/cp3'))).toBe(200);
    await call(UNRESTRICTED, 'PUT', 'Consent/D1', { body: { ...d1, status: 'active' } });
    expect(await status(call(ORG_A, 'GET', 'CarePlan/cp3'))).toBe(404);
    await call(UNRESTRICTED, 'PUT', 'Consent/D2', { body: d2 });
  });
});
