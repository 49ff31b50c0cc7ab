import type { Bundle, Communication, Consent, FhirResource, OperationOutcome, Parameters, ParametersParameter, Resource, Task } from 'fhir/r4';
import { type Caller, UNRESTRICTED } from '../../server/access/caller.js';
import { ROLE_SYSTEM } from '../../server/access/roles.js';
import { userCaller } from '../../server/auth/caller-of-token.js';
import { parseResourceScope } from '../../server/access/scopes.js';
import { FhirError } from '../../server/fhir/outcome.js';
import { handleFhirRequest } from '../../server/pipeline/fhir-request.js';
import type { FhirResponse } from '../../server/rest/types.js';
import { BACKENDS, reportBackends } from '../support/backends.js';
import { testUser } from '../support/callers.js';
import { openTestServer, type TestServer } from '../support/fhir-app.js';

reportBackends();

/*
 * The records of consent that are a role's own business (docs/CONSENT.md, "Who sees the records of consent"),
 * worked by hand on the demo world's organizations: what each role reads and searches (with accurate totals), what
 * a privacy contact may write, and that every refusal names the rule that refuses.
 */

const BASE = 'https://ccp.example.org/fhir';
const HOUR = 3600_000;
// The contract's codes, written out: the rules are checked against docs/CONSENT.md, not the constants.
const INFA = 'http://terminology.hl7.org/CodeSystem/v3-ActCode|INFA';
const CONSENT_SCOPE = 'http://terminology.hl7.org/CodeSystem/consentscope';
const CONSENT_CATEGORY = 'http://ccp-exchange.org/fhir/CodeSystem/consent-category';

/** A user with their PractitionerRole (username = Practitioner id = PractitionerRole id, as in the demo world). */
const person = (id: string, organization: string, role: string): Caller => ({ ...testUser(id, organization, [role]), practitionerRole: id });
const COORDINATOR = person('coordinator', 'host', 'coordinator');
const NURSE = person('contributor', 'home-care', 'contributor');
const VIEWER = person('viewer', 'home-care', 'viewer');
const PRIVACY = person('privacy-contact', 'home-care', 'privacy-contact');
const AUDITOR = person('privacy-auditor', 'home-care', 'privacy-auditor');
const GP = person('gp', 'primary-care', 'contributor');
const GP_PRIVACY = person('gp-privacy', 'primary-care', 'privacy-contact');

const parameters = (...parameter: ParametersParameter[]): Parameters => ({ resourceType: 'Parameters', ...(parameter.length ? { parameter } : {}) });
const registrationRequest = (level: 'view' | 'modify') =>
  parameters(
    { name: 'level', valueCode: level },
    { name: 'consentObtainedAt', valueDateTime: new Date(Date.now() - HOUR).toISOString() },
    { name: 'consentMethod', valueCode: 'verbal' },
  );

/** A directive withholding `patient`'s plan from `actor`, as docs/CONSENT.md writes one. */
const directive = (patient: string, actor: string, scope = 'patient-privacy'): Consent => ({
  resourceType: 'Consent',
  status: 'active',
  scope: { coding: [{ system: CONSENT_SCOPE, code: scope }] },
  category: [{ coding: [{ system: CONSENT_CATEGORY, code: 'consent-directive' }] }],
  patient: { reference: `Patient/${patient}` },
  policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTOUT' }] },
  provision: { type: 'deny', actor: [{ role: { text: 'recipient' }, reference: { reference: actor } }] },
});

describe.each(BACKENDS)('the records of consent each role sees and writes, on $name', (backend) => {
  let server: TestServer;
  /** What the story below made: override Consents, registration Tasks and Consents, directives. */
  const made: Record<string, string> = {};

  /** A request's response, or the refusal as the status and diagnostics the client would get. */
  async function call(caller: Caller, method: string, path: string, body?: unknown, query: Record<string, string[]> = {}): Promise<FhirResponse & { diagnostics?: string }> {
    try {
      return await handleFhirRequest({ method, path, query, headers: {}, baseUrl: BASE, caller, body }, server.context);
    } catch (error) {
      if (!(error instanceof FhirError)) throw error;
      return { status: error.status, diagnostics: error.issues.map((issue) => issue.diagnostics).join(' | ') };
    }
  }
  const put = (resource: FhirResource & { id: string }) => call(UNRESTRICTED, 'PUT', `${resource.resourceType}/${resource.id}`, resource);
  async function search(caller: Caller, type: string, query: Record<string, string[]>): Promise<{ ids: string[]; total?: number }> {
    const response = await call(caller, 'GET', type, undefined, { ...query, _total: ['accurate'] });
    expect(response.status).toBe(200);
    const bundle = response.body as Bundle;
    return { ids: (bundle.entry ?? []).map((entry) => `${entry.resource!.resourceType}/${entry.resource!.id}`).sort(), total: bundle.total };
  }
  const status = async (caller: Caller, path: string) => (await call(caller, 'GET', path)).status;
  const output = <T extends Resource>(response: FhirResponse, name: string): T =>
    (response.body as Parameters).parameter!.find((p) => p.name === name)!.resource as T;

  async function registration(patient: string, caller: Caller, approve: boolean): Promise<{ task: string; consent: string }> {
    const requested = await call(caller, 'POST', `Patient/${patient}/$ccp-register`, registrationRequest('view'));
    expect(requested.status).toBe(201);
    const task = output<Task>(requested, 'task').id!;
    if (approve) expect((await call(COORDINATOR, 'POST', `Task/${task}/$approve`, parameters())).status).toBe(200);
    return { task, consent: output<Consent>(requested, 'consent').id! };
  }

  /**
   * p1: home-care approved (view). p2: home-care requested only. p3: primary-care approved, no home-care.
   * p4: home-care approved (view), and a directive of the host's coordinator withholds the plan from home-care.
   * p5: nothing yet (the registration request of (c)). Each patient has a plan, cp1 … cp5.
   */
  beforeAll(async () => {
    server = await openTestServer(backend, { hostingOrganization: 'host' });
    for (const id of ['host', 'home-care', 'primary-care']) await put({ resourceType: 'Organization', id, name: id, active: true });
    for (const caller of [COORDINATOR, NURSE, VIEWER, PRIVACY, AUDITOR, GP, GP_PRIVACY]) {
      const id = caller.practitioner!;
      await put({ resourceType: 'Practitioner', id, active: true });
      await put({
        resourceType: 'PractitionerRole',
        id,
        active: true,
        practitioner: { reference: `Practitioner/${id}` },
        organization: { reference: `Organization/${caller.organization}` },
        code: [{ coding: [{ system: ROLE_SYSTEM, code: caller.role!.roles[0] }] }],
      });
    }
    for (const n of [1, 2, 3, 4, 5]) {
      await put({ resourceType: 'Patient', id: `p${n}`, gender: 'female' });
      await put({ resourceType: 'CarePlan', id: `cp${n}`, status: 'active', intent: 'plan', subject: { reference: `Patient/p${n}` } });
    }
    await registration('p1', NURSE, true);
    made.p2Request = (await registration('p2', NURSE, false)).consent;
    await registration('p3', GP, true);
    await registration('p4', NURSE, true);
    const withheld = await call(COORDINATOR, 'POST', 'Consent', directive('p4', 'Organization/home-care'));
    expect(withheld.status).toBe(201);
    made.p4Directive = withheld.body!.id!;
    // Break-the-glass: home-care's viewer on p4 (told to home-care's privacy contact), the GP on p3 (told to theirs).
    const override = async (caller: Caller, patient: string) => {
      const response = await call(caller, 'POST', `Patient/${patient}/$override`, parameters({ name: 'reason', valueCode: 'patient-consent' }));
      expect(response.status).toBe(201);
      return output<Consent>(response, 'consent').id!;
    };
    made.homeCareOverride = await override(VIEWER, 'p4');
    made.gpOverride = await override(GP, 'p3');
  });
  afterAll(async () => server?.close());

  describe("(a) a privacy contact sees their organization's overrides and the overrides named in notices to them", () => {
    it('by the documented search, with the total, and by read', async () => {
      const documented = { category: [INFA], organization: ['Organization/home-care'] };
      expect(await search(PRIVACY, 'Consent', documented)).toEqual({ ids: [`Consent/${made.homeCareOverride}`], total: 1 });
      expect(await search(COORDINATOR, 'Consent', documented)).toEqual({ ids: [`Consent/${made.homeCareOverride}`], total: 1 });
      expect(await status(PRIVACY, `Consent/${made.homeCareOverride}`)).toBe(200);
      expect(await status(PRIVACY, `Consent/${made.homeCareOverride}/_history`)).toBe(200);
      // The notice that names it, found as docs/CONSENT.md says.
      const notices = await search(PRIVACY, 'Communication', { recipient: ['PractitionerRole/privacy-contact'] });
      expect(notices.total).toBe(1);
      const notice = (await call(PRIVACY, 'GET', notices.ids[0])).body as Communication;
      expect(notice.about).toEqual([{ reference: `Consent/${made.homeCareOverride}` }]);
    });

    it("not another organization's overrides, nor to other roles of their organization; the overrides open no plan", async () => {
      // The GP's override is primary-care's, for a patient home-care takes no part in.
      expect(await search(PRIVACY, 'Consent', { category: [INFA] })).toEqual({ ids: [`Consent/${made.homeCareOverride}`], total: 1 });
      expect(await search(PRIVACY, 'Consent', { category: [INFA], organization: ['Organization/primary-care'] })).toEqual({ ids: [], total: 0 });
      expect(await status(PRIVACY, `Consent/${made.gpOverride}`)).toBe(404);
      // primary-care's privacy contact sees theirs, not home-care's.
      expect(await search(GP_PRIVACY, 'Consent', { category: [INFA] })).toEqual({ ids: [`Consent/${made.gpOverride}`], total: 1 });
      expect(await status(GP_PRIVACY, `Consent/${made.homeCareOverride}`)).toBe(404);
      // A home-care nurse is no privacy contact: p4 is withheld from home-care, override record and all.
      expect(await status(NURSE, `Consent/${made.homeCareOverride}`)).toBe(404);
      expect(await search(NURSE, 'Consent', { category: [INFA] })).toEqual({ ids: [], total: 0 });
      // Seeing the record of an override is not seeing the plan: that stays the overriding user's.
      expect(await status(PRIVACY, 'CarePlan/cp4')).toBe(404);
      expect(await status(VIEWER, 'CarePlan/cp4')).toBe(200);
    });

    it('a notice addressed to their organization or their PractitionerRole opens the override it names, and nothing else', async () => {
      const notice = (id: string, recipient: string, about: string) =>
        put({ resourceType: 'Communication', id, status: 'completed', recipient: [{ reference: recipient }], about: [{ reference: about }] });
      // Addressed to primary-care's privacy contact: not home-care's business.
      await notice('n-gp', 'PractitionerRole/gp-privacy', `Consent/${made.gpOverride}`);
      expect(await status(PRIVACY, `Consent/${made.gpOverride}`)).toBe(404);
      // Addressed to home-care itself (an organization without a privacy contact on record is told itself).
      await notice('n-org', 'Organization/home-care', `Consent/${made.gpOverride}`);
      expect(await status(PRIVACY, `Consent/${made.gpOverride}`)).toBe(200);
      expect(await search(PRIVACY, 'Consent', { category: [INFA] })).toEqual({ ids: [made.gpOverride, made.homeCareOverride].map((id) => `Consent/${id}`).sort(), total: 2 });
      // Other roles of home-care are not told: the rule is the privacy contact's.
      expect(await status(NURSE, `Consent/${made.gpOverride}`)).toBe(404);
      // A notice naming a plan does not open it: Communications are written by any contributor.
      await notice('n-plan', 'PractitionerRole/privacy-contact', 'CarePlan/cp3');
      expect(await status(PRIVACY, 'CarePlan/cp3')).toBe(404);
      expect(await search(PRIVACY, 'CarePlan', { _id: ['cp3'] })).toEqual({ ids: [], total: 0 });
      await call(UNRESTRICTED, 'DELETE', 'Communication/n-org');
      expect(await status(PRIVACY, `Consent/${made.gpOverride}`)).toBe(404);
    });

    it("a signed-in privacy contact's PractitionerRole comes from their account, and a notice to it counts", async () => {
      const signedIn = await userCaller(server.db, { clientId: 'app', userId: 'u-privacy', scope: 'openid fhirUser user/*.cruds', practitionerRoleId: 'privacy-contact' });
      expect(signedIn).toMatchObject({ organization: 'home-care', practitioner: 'privacy-contact', practitionerRole: 'privacy-contact', role: { roles: ['privacy-contact'] } });
      await put({ resourceType: 'Communication', id: 'n-role', status: 'completed', recipient: [{ reference: 'PractitionerRole/privacy-contact' }], about: [{ reference: `Consent/${made.gpOverride}` }] });
      expect(await status(signedIn, `Consent/${made.gpOverride}`)).toBe(200);
      expect(await search(signedIn, 'Consent', { category: [INFA], _id: [made.gpOverride] })).toEqual({ ids: [`Consent/${made.gpOverride}`], total: 1 });
      // Another privacy contact of home-care, through another PractitionerRole, was not told.
      expect(await status({ ...signedIn, practitioner: 'other', practitionerRole: 'other' }, `Consent/${made.gpOverride}`)).toBe(404);
      await call(UNRESTRICTED, 'DELETE', 'Communication/n-role');
    });
  });

  describe('(b) a privacy contact records and ends directives for the patients of plans their organization takes part in', () => {
    it('records one for a patient of an approved registration (view is enough), finds it with its total, and ends it', async () => {
      const created = await call(PRIVACY, 'POST', 'Consent', directive('p1', 'Organization/primary-care'));
      expect(created.status).toBe(201);
      const id = created.body!.id!;
      expect(await status(PRIVACY, `Consent/${id}`)).toBe(200);
      expect(await search(PRIVACY, 'Consent', { patient: ['Patient/p1'], category: [`${CONSENT_CATEGORY}|consent-directive`] })).toEqual({ ids: [`Consent/${id}`], total: 1 });
      const ended = await call(PRIVACY, 'PUT', `Consent/${id}`, { ...(created.body as Consent), status: 'inactive' });
      expect(ended.status).toBe(200);
      expect((ended.body as Consent).status).toBe('inactive');
    });

    it('sees and ends a directive that withholds the plan from their own organization, which opens the plan again', async () => {
      expect(await status(NURSE, `Consent/${made.p4Directive}`)).toBe(404);
      expect(await status(NURSE, 'CarePlan/cp4')).toBe(404);
      const current = (await call(PRIVACY, 'GET', `Consent/${made.p4Directive}`)).body as Consent;
      expect(current.status).toBe('active');
      expect((await call(PRIVACY, 'PUT', `Consent/${made.p4Directive}`, { ...current, status: 'inactive' })).status).toBe(200);
      expect(await status(NURSE, 'CarePlan/cp4')).toBe(200);
      expect((await call(PRIVACY, 'PUT', `Consent/${made.p4Directive}`, { ...current, meta: undefined })).status).toBe(200);
      expect(await status(NURSE, 'CarePlan/cp4')).toBe(404);
    });

    it('not for a patient whose registration is only requested, or of another organization, or none: 403 naming the rule, nothing written', async () => {
      for (const patient of ['p2', 'p3', 'p5']) {
        const refused = await call(PRIVACY, 'POST', 'Consent', directive(patient, 'Organization/primary-care'));
        expect({ patient, status: refused.status }).toEqual({ patient, status: 403 });
        expect(refused.diagnostics).toContain('privacy contact');
        expect(refused.diagnostics).toContain(`Patient/${patient} needs an active registration of Organization/home-care`);
        expect(await search(COORDINATOR, 'Consent', { patient: [`Patient/${patient}`], category: [`${CONSENT_CATEGORY}|consent-directive`] })).toEqual({ ids: [], total: 0 });
      }
      // Nor move one of theirs to such a patient.
      const created = await call(PRIVACY, 'POST', 'Consent', directive('p1', 'Organization/primary-care'));
      const moved = await call(PRIVACY, 'PUT', `Consent/${created.body!.id}`, { ...(created.body as Consent), patient: { reference: 'Patient/p3' } });
      expect(moved.status).toBe(403);
      expect(((await call(COORDINATOR, 'GET', `Consent/${created.body!.id}`)).body as Consent).patient).toEqual({ reference: 'Patient/p1' });
    });

    it("another organization's privacy contact neither sees nor ends them", async () => {
      const created = await call(PRIVACY, 'POST', 'Consent', directive('p1', 'Practitioner/gp'));
      const id = created.body!.id!;
      expect(await status(GP_PRIVACY, `Consent/${id}`)).toBe(404);
      expect((await call(GP_PRIVACY, 'PUT', `Consent/${id}`, { ...(created.body as Consent), status: 'inactive' })).status).toBe(404);
      expect((await search(GP_PRIVACY, 'Consent', { patient: ['Patient/p1'] })).total).toBe(0);
    });

    it('writes no other kind of Consent: each refusal names its rule', async () => {
      const treatment = await call(PRIVACY, 'POST', 'Consent', directive('p1', 'Organization/primary-care', 'treatment'));
      expect(treatment.status).toBe(403);
      expect(treatment.diagnostics).toMatch(/your role \(privacy-contact\) records and ends consent directives only.*of another scope/);
      const registration = { ...directive('p1', 'Organization/home-care'), category: [{ coding: [{ system: CONSENT_CATEGORY, code: 'ccp-registration' }] }] };
      expect(await call(PRIVACY, 'POST', 'Consent', registration)).toMatchObject({ status: 403, diagnostics: expect.stringContaining('$ccp-register') });
      const override = (await call(PRIVACY, 'GET', `Consent/${made.homeCareOverride}`)).body as Consent;
      expect(await call(PRIVACY, 'PUT', `Consent/${override.id}`, { ...override, status: 'inactive' })).toMatchObject({ status: 403, diagnostics: expect.stringContaining('$override') });
      const request = (await call(PRIVACY, 'GET', `Consent/${made.p2Request}`)).body as Consent;
      expect(await call(PRIVACY, 'PUT', `Consent/${request.id}`, { ...request, status: 'active' })).toMatchObject({ status: 403, diagnostics: expect.stringContaining('$approve') });
      const created = await call(PRIVACY, 'POST', 'Consent', directive('p1', 'Practitioner/gp'));
      expect(await call(PRIVACY, 'DELETE', `Consent/${created.body!.id}`)).toMatchObject({ status: 403, diagnostics: expect.stringContaining('your role (privacy-contact) does not allow you to delete Consent') });
    });
  });

  describe("(c) requesters see their own organization's registration requests, whatever their status", () => {
    it('the Task and its Consent, by the documented searches with totals and by read; not the plan', async () => {
      const { task, consent } = await registration('p5', NURSE, false);
      expect(await search(NURSE, 'Task', { patient: ['Patient/p5'], status: ['requested'] })).toEqual({ ids: [`Task/${task}`], total: 1 });
      expect(await search(NURSE, 'Consent', { actor: ['Organization/home-care'], patient: ['Patient/p5'] })).toEqual({ ids: [`Consent/${consent}`], total: 1 });
      expect(await status(NURSE, `Task/${task}`)).toBe(200);
      expect(await status(VIEWER, `Consent/${consent}`)).toBe(200);
      expect(await status(NURSE, 'CarePlan/cp5')).toBe(404);
      // Rejected, it stays theirs to see.
      expect((await call(COORDINATOR, 'POST', `Task/${task}/$reject`, parameters({ name: 'reason', valueString: 'not in the circle of care' }))).status).toBe(200);
      expect(await search(NURSE, 'Task', { patient: ['Patient/p5'] })).toEqual({ ids: [`Task/${task}`], total: 1 });
      expect(((await call(NURSE, 'GET', `Consent/${consent}`)).body as Consent).status).toBe('rejected');
      made.p5Task = task;
    });

    it("not another organization's, and only to read: changing one is refused naming why", async () => {
      const { task } = await registration('p5', GP, false);
      expect(await search(NURSE, 'Task', { patient: ['Patient/p5'] })).toEqual({ ids: [`Task/${made.p5Task}`], total: 1 });
      expect(await search(GP, 'Task', { patient: ['Patient/p5'] })).toEqual({ ids: [`Task/${task}`], total: 1 });
      expect(await status(NURSE, `Task/${task}`)).toBe(404);
      expect(await search(NURSE, 'Consent', { patient: ['Patient/p5'] })).toMatchObject({ total: 1 });
      const own = (await call(NURSE, 'GET', `Task/${made.p5Task}`)).body as Task;
      // The nurse's role writes no Tasks; a home-care coordinator's does, but not this one.
      expect(await call(NURSE, 'PUT', `Task/${own.id}`, { ...own, status: 'requested' })).toMatchObject({ status: 403, diagnostics: 'your role (contributor) does not allow you to update Task' });
      const partnerCoordinator = person('home-care-coordinator', 'home-care', 'coordinator');
      const changed = await call(partnerCoordinator, 'PUT', `Task/${own.id}`, { ...own, status: 'requested' });
      expect(changed.status).toBe(403);
      expect(changed.diagnostics).toContain(`Task/${own.id} is your organization's registration request, which is yours to read`);
    });
  });

  describe('(d) refusals name the rule that refuses', () => {
    it("the privacy auditor's $verify and history: the organization-limited role, not a scope", async () => {
      for (const path of ['AuditEvent/$verify', 'AuditEvent/_history']) {
        const refused = await call(AUDITOR, 'GET', path);
        expect(refused.status).toBe(403);
        expect(refused.diagnostics).toContain('your role (privacy-auditor) reaches only the AuditEvents that name your organization (Organization/home-care)');
        expect(refused.diagnostics).not.toMatch(/patient\/|scope/);
      }
      expect((await call(AUDITOR, 'GET', 'AuditEvent/$verify')).diagnostics).toMatch(/^AuditEvent\/\$verify, which reaches every AuditEvent at once, is not available to you/);
      // Its searches work, limited to its organization.
      expect((await call(AUDITOR, 'GET', 'AuditEvent', undefined, { _count: ['1'] })).status).toBe(200);
      const administrator: Caller = { ...testUser('admin', undefined, ['administrator']) };
      expect(((await call(administrator, 'GET', 'AuditEvent/$verify')).body as OperationOutcome).issue[0].severity).toBe('information');
    });

    it("a partner's history or conditional write: consent, not a scope; a scope's restriction: the scopes, named", async () => {
      const history = await call(NURSE, 'GET', 'CarePlan/_history');
      expect(history.status).toBe(403);
      expect(history.diagnostics).toContain('depends on patient consent and registrations');
      expect(history.diagnostics).not.toMatch(/patient\/|scope/);
      const scoped: Caller = { ...COORDINATOR, scopes: [parseResourceScope('user/CarePlan.cruds?status=active')!] };
      const drafted = await call(scoped, 'POST', 'CarePlan', { resourceType: 'CarePlan', status: 'draft', intent: 'plan', subject: { reference: 'Patient/p1' } });
      expect(drafted).toMatchObject({ status: 403, diagnostics: expect.stringContaining("your access token's scopes reach (user/CarePlan.cruds?status=active)") });
      expect((await call(scoped, 'GET', 'CarePlan/_history')).diagnostics).toContain("your access token's scopes reach only part of CarePlan (user/CarePlan.cruds?status=active)");
    });

    it("the registration operations name their own rule, not a type the caller's role cannot write", async () => {
      const registering = await call(PRIVACY, 'POST', 'Patient/p5/$ccp-register', registrationRequest('view'));
      expect(registering).toMatchObject({
        status: 403,
        diagnostics: 'requesting a registration ($ccp-register) is for roles that create Tasks or CarePlans (coordinator, contributor): your role (privacy-contact) does not',
      });
      const disengaging = await call(VIEWER, 'POST', 'Patient/p1/$ccp-disengage', parameters({ name: 'organization', valueReference: { reference: 'Organization/home-care' } }));
      expect(disengaging).toMatchObject({ status: 403, diagnostics: expect.stringContaining('disengaging your organization is for roles that create Tasks or CarePlans') });
    });

    it('a patient/ scope without a patient in context says so', async () => {
      const launched: Caller = { ...NURSE, scopes: [parseResourceScope('patient/CarePlan.rs')!] };
      const refused = await call(launched, 'GET', 'CarePlan');
      expect(refused.status).toBe(403);
      expect(refused.diagnostics).toContain('patient/CarePlan.rs needs a patient in context');
    });

    it("a partner's plan write outside its registration names the registration rule", async () => {
      const refused = await call(NURSE, 'POST', 'CarePlan', { resourceType: 'CarePlan', status: 'draft', intent: 'plan', subject: { reference: 'Patient/p1' } });
      expect(refused.status).toBe(403);
      expect(refused.diagnostics).toContain('may not modify: writing needs an active registration at the modify level');
      expect(await call(NURSE, 'PUT', 'CarePlan/cp1', { resourceType: 'CarePlan', id: 'cp1', status: 'active', intent: 'plan', subject: { reference: 'Patient/p1' } })).toMatchObject({
        status: 403,
        diagnostics: expect.stringContaining('view only: update needs a registration at the modify level'),
      });
    });
  });
});
