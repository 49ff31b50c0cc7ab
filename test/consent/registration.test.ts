import { readdirSync, readFileSync } from 'node:fs';
import request from 'supertest';
import path from 'node:path';
import type { AuditEvent, Bundle, CapabilityStatement, FhirResource, CarePlan, Communication, Consent, OperationDefinition, Parameters, ParametersParameter, Resource, Task } from 'fhir/r4';
import { type Caller, UNRESTRICTED } from '../../server/access/caller.js';
import { ROLE_SYSTEM } from '../../server/access/roles.js';
import { parseResourceScope } from '../../server/access/scopes.js';
import { FhirError } from '../../server/fhir/outcome.js';
import { handleFhirRequest } from '../../server/pipeline/fhir-request.js';
import type { FhirResponse } from '../../server/rest/types.js';
import { testUser } from '../support/callers.js';
import { rejection } from '../support/thrown.js';
import { BACKENDS, reportBackends } from '../support/backends.js';
import { openTestServer, schemaValidator, type TestServer } from '../support/fhir-app.js';

reportBackends();

const BASE = 'https://ccp.example.org/fhir';
const DAY = 24 * 3600_000;
const HOUR = 3600_000;
const REGISTRATION_DAYS = 30;
const OVERRIDE_HOURS = 2;

// The contract's codes, written out here rather than imported: the shapes are checked against the documented
// contract (server/conformance/consent-vocabulary.ts), not against whatever the constants happen to say.
const CONSENT_CATEGORY = 'http://ccp-exchange.org/fhir/CodeSystem/consent-category';
const TASK_CODE_SYSTEM = 'http://ccp-exchange.org/fhir/CodeSystem/task-code';
const EXPRESS_CONSENT = 'http://ccp-exchange.org/fhir/StructureDefinition/express-consent';
const CONSENT_ACTION = 'http://terminology.hl7.org/CodeSystem/consentaction';
const PARTICIPATION = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';
const CCP_CATEGORY = 'http://ccp-exchange.org/fhir/CodeSystem/careplan-category';
const OVERRIDE_REASON = 'http://ccp-exchange.org/fhir/CodeSystem/override-reason';

const user = testUser;

// Partners A and B, the hosting organization's staff, and a backend system of partner B.
const NURSE_A = user('nurse-a', 'org-a', ['contributor']);
const COORDINATOR_A = user('coord-a', 'org-a', ['coordinator']);
const VIEWER_A = user('viewer-a', 'org-a', ['viewer']);
const NURSE_B = user('nurse-b', 'org-b', ['contributor']);
const HOST_COORDINATOR = user('coord-host', 'host', ['coordinator']);
const HOST_CONTRIBUTOR = user('contrib-host', 'host', ['contributor']);
const EMR_B: Caller = { kind: 'system', clientId: 'emr-b', scopes: [parseResourceScope('system/*.cruds')!], organization: 'org-b' };

const valueReference = (name: string, reference: string): ParametersParameter => ({ name, valueReference: { reference } });
const parameters = (...parameter: ParametersParameter[]): Parameters => ({ resourceType: 'Parameters', ...(parameter.length ? { parameter } : {}) });

/** A valid registration request by a partner's user (consent obtained an hour ago, verbally), with changes. */
function registrationBody(level: 'view' | 'modify', ...extra: ParametersParameter[]): Parameters {
  return parameters(
    { name: 'level', valueCode: level },
    { name: 'consentObtainedAt', valueDateTime: new Date(Date.now() - HOUR).toISOString() },
    { name: 'consentMethod', valueCode: 'verbal' },
    ...extra,
  );
}

function output<T extends Resource>(response: FhirResponse, name: string): T {
  const found = (response.body as Parameters).parameter?.find((p) => p.name === name);
  if (!found?.resource) throw new Error(`no ${name} in the response`);
  return found.resource as T;
}

describe.each(BACKENDS)('registration, review, disengagement and override operations, on $name', (backend) => {
  let server: TestServer;

  const call = (method: string, urlPath: string, caller: Caller, body?: unknown, query: Record<string, string[]> = {}): Promise<FhirResponse> =>
    handleFhirRequest({ method, path: urlPath, query, headers: {}, baseUrl: BASE, caller, body }, server.context);

  const failure = rejection;

  const put = (resource: FhirResource & { id: string }) => call('PUT', `${resource.resourceType}/${resource.id}`, UNRESTRICTED, resource);
  const read = async <T extends Resource>(reference: string): Promise<T> => (await call('GET', reference, UNRESTRICTED)).body as T;
  const search = async (type: string, query: Record<string, string[]>, caller: Caller = UNRESTRICTED): Promise<Resource[]> => {
    const bundle = (await call('GET', type, caller, undefined, query)).body as Bundle;
    return (bundle.entry ?? []).map((entry) => entry.resource!);
  };
  const register = (patient: string, caller: Caller, body: Parameters) => call('POST', `Patient/${patient}/$ccp-register`, caller, body);

  /** Each test gets a patient of its own, so the requests of one never collide with another's. */
  let patients = 0;
  async function newPatient(): Promise<string> {
    const id = `patient-${++patients}`;
    await put({ resourceType: 'Patient', id, name: [{ family: 'Zebulon', given: ['Quintessa'] }] });
    return id;
  }

  beforeAll(async () => {
    server = await openTestServer(backend, { hostingOrganization: 'host', registrationDays: REGISTRATION_DAYS, overrideHours: OVERRIDE_HOURS });
    for (const id of ['host', 'org-a', 'org-b']) await put({ resourceType: 'Organization', id, name: id });
    for (const id of ['nurse-a', 'coord-a', 'viewer-a', 'nurse-b', 'coord-host', 'contrib-host', 'privacy-a', 'privacy-a-old', 'privacy-b']) {
      await put({ resourceType: 'Practitioner', id });
    }
    const role = (id: string, practitioner: string, organization: string, code: string, active = true) =>
      put({
        resourceType: 'PractitionerRole',
        id,
        active,
        practitioner: { reference: `Practitioner/${practitioner}` },
        organization: { reference: `Organization/${organization}` },
        code: [{ coding: [{ system: ROLE_SYSTEM, code }] }],
      });
    await role('role-privacy-a', 'privacy-a', 'org-a', 'privacy-contact');
    await role('role-privacy-a-old', 'privacy-a-old', 'org-a', 'privacy-contact', false);
    await role('role-nurse-a', 'nurse-a', 'org-a', 'contributor');
    await role('role-privacy-b', 'privacy-b', 'org-b', 'privacy-contact');
  });
  afterAll(async () => server?.close());

  describe('$ccp-register', () => {
    it('records a requested Task and a proposed registration Consent, in the documented shapes', async () => {
      const patient = await newPatient();
      const obtainedAt = '2026-01-15T10:30:00Z';
      const body = parameters({ name: 'level', valueCode: 'view' }, { name: 'consentObtainedAt', valueDateTime: obtainedAt }, { name: 'consentMethod', valueCode: 'verbal' });
      const before = Date.now();
      const response = await register(patient, NURSE_A, body);
      expect(response.status).toBe(201);
      const task = output<Task>(response, 'task');
      const consent = output<Consent>(response, 'consent');
      expect(schemaValidator().validate(response.body as never, 'Parameters')).toEqual([]);

      expect(task).toMatchObject({
        status: 'requested',
        intent: 'order',
        code: { coding: [{ system: TASK_CODE_SYSTEM, code: 'ccp-registration' }] },
        for: { reference: `Patient/${patient}` },
        focus: { reference: `Consent/${consent.id}` },
        // The caller's organization and practitioner are the defaults.
        requester: { reference: 'Organization/org-a' },
        owner: { reference: 'Organization/host' },
        input: [{ type: { text: 'access level' }, valueCode: 'view' }],
      });
      expect(Date.parse(task.authoredOn!)).toBeGreaterThanOrEqual(before - 1);
      expect(Date.parse(task.authoredOn!)).toBeLessThanOrEqual(Date.now());

      expect(consent.status).toBe('proposed');
      expect(consent.scope).toEqual({ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] });
      expect(consent.category).toEqual([{ coding: [{ system: CONSENT_CATEGORY, code: 'ccp-registration' }] }]);
      expect(consent.patient).toEqual({ reference: `Patient/${patient}` });
      expect(consent.provision).toEqual({
        type: 'permit',
        actor: [{ role: { coding: [{ system: PARTICIPATION, code: 'IRCP' }] }, reference: { reference: 'Organization/org-a' } }],
        action: [{ coding: [{ system: CONSENT_ACTION, code: 'access' }] }],
      });
      expect(consent.extension).toEqual([
        {
          url: EXPRESS_CONSENT,
          extension: [
            { url: 'obtainedBy', valueReference: { reference: 'Practitioner/nurse-a' } },
            { url: 'obtainedAt', valueDateTime: obtainedAt },
            { url: 'method', valueCode: 'verbal' },
          ],
        },
      ]);
      // Stored as returned.
      expect(await read<Task>(`Task/${task.id}`)).toEqual(task);
      expect(await read<Consent>(`Consent/${consent.id}`)).toEqual(consent);
    });

    it('view and modify is the access action plus correct; organization and consentObtainedBy can be named', async () => {
      const patient = await newPatient();
      const response = await register(
        patient,
        HOST_COORDINATOR,
        registrationBody('modify', valueReference('organization', 'Organization/org-b'), valueReference('consentObtainedBy', `${BASE}/Practitioner/nurse-b`)),
      );
      expect(response.status).toBe(201);
      const consent = output<Consent>(response, 'consent');
      expect(consent.provision?.action).toEqual([{ coding: [{ system: CONSENT_ACTION, code: 'access' }] }, { coding: [{ system: CONSENT_ACTION, code: 'correct' }] }]);
      expect(consent.provision?.actor?.[0].reference).toEqual({ reference: 'Organization/org-b' });
      expect(consent.extension?.[0].extension?.[0]).toEqual({ url: 'obtainedBy', valueReference: { reference: 'Practitioner/nurse-b' } });
      expect(output<Task>(response, 'task').requester).toEqual({ reference: 'Organization/org-b' });
    });

    it('refuses each bad parameter with a 400 naming it', async () => {
      const patient = await newPatient();
      const cases: [string, Caller, Parameters][] = [
        ['level', NURSE_A, parameters({ name: 'consentObtainedAt', valueDateTime: '2026-01-01' }, { name: 'consentMethod', valueCode: 'verbal' })],
        ['level', NURSE_A, parameters({ name: 'level', valueCode: 'administer' }, { name: 'consentObtainedAt', valueDateTime: '2026-01-01' }, { name: 'consentMethod', valueCode: 'verbal' })],
        ['consentObtainedAt', NURSE_A, parameters({ name: 'level', valueCode: 'view' }, { name: 'consentMethod', valueCode: 'verbal' })],
        ['consentObtainedAt', NURSE_A, parameters({ name: 'level', valueCode: 'view' }, { name: 'consentObtainedAt', valueDateTime: new Date(Date.now() + DAY).toISOString() }, { name: 'consentMethod', valueCode: 'verbal' })],
        ['consentObtainedAt', NURSE_A, parameters({ name: 'level', valueCode: 'view' }, { name: 'consentObtainedAt', valueString: '2026-01-01' }, { name: 'consentMethod', valueCode: 'verbal' })],
        ['consentMethod', NURSE_A, parameters({ name: 'level', valueCode: 'view' }, { name: 'consentObtainedAt', valueDateTime: '2026-01-01' })],
        ['consentMethod', NURSE_A, parameters({ name: 'level', valueCode: 'view' }, { name: 'consentObtainedAt', valueDateTime: '2026-01-01' }, { name: 'consentMethod', valueCode: 'implied' })],
        ['organization', NURSE_A, registrationBody('view', valueReference('organization', 'Patient/org-a'))],
        ['organization', HOST_COORDINATOR, registrationBody('view', valueReference('organization', 'Organization/no-such-org'))],
        ['organization', HOST_COORDINATOR, registrationBody('view', valueReference('organization', 'Organization/host'))],
        ['organization', NURSE_A, registrationBody('view', valueReference('organization', 'Organization/org-a'), valueReference('organization', 'Organization/org-a'))],
        ['consentObtainedBy', NURSE_A, registrationBody('view', valueReference('consentObtainedBy', 'Practitioner/nobody'))],
        // A backend system is no practitioner: who obtained the consent must be said.
        ['consentObtainedBy', EMR_B, registrationBody('view')],
        ['consentObtainedBY', NURSE_A, registrationBody('view', valueReference('consentObtainedBY', 'Practitioner/nurse-a'))],
        ['level', NURSE_A, registrationBody('view', { name: 'carePlan', resource: { resourceType: 'CarePlan', status: 'active', intent: 'plan', subject: { reference: `Patient/${patient}` } } as CarePlan })],
        ['carePlan', NURSE_A, registrationBody('modify', { name: 'carePlan', resource: { resourceType: 'CarePlan', status: 'active', intent: 'plan', subject: { reference: 'Patient/someone-else' } } as CarePlan })],
        ['carePlan', NURSE_A, registrationBody('modify', { name: 'carePlan', resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' } } as FhirResource })],
        ['carePlan', NURSE_A, registrationBody('modify', { name: 'carePlan', resource: { resourceType: 'CarePlan', status: 'active', intent: 'plan', subject: { reference: `Patient/${patient}` }, title: 42 } as never })],
        // R4's CarePlan.status is 1..1: the plan breaks its base definition.
        ['carePlan', NURSE_A, registrationBody('modify', { name: 'carePlan', resource: { resourceType: 'CarePlan', intent: 'plan', subject: { reference: `Patient/${patient}` } } as never })],
      ];
      for (const [name, caller, body] of cases) {
        const error = await failure(register(patient, caller, body)).catch(() => {
          throw new Error(`accepted: ${JSON.stringify(body)}`);
        });
        expect({ name, status: error.status }).toEqual({ name, status: 400 });
        expect(error.issues.some((issue) => issue.expression?.some((e) => e.startsWith(`Parameters.parameter.where(name='${name}')`)))).toBe(true);
      }
      // Nothing was recorded by any of them.
      expect(await search('Task', { patient: [`Patient/${patient}`] })).toEqual([]);
      expect(await search('Consent', { patient: [`Patient/${patient}`] })).toEqual([]);
      expect(await search('CarePlan', { subject: [`Patient/${patient}`] })).toEqual([]);
    });

    it('a body that is not a Parameters resource is a 400', async () => {
      const patient = await newPatient();
      expect((await failure(register(patient, NURSE_A, { resourceType: 'Patient' } as never))).status).toBe(400);
      expect((await failure(call('POST', `Patient/${patient}/$ccp-register`, NURSE_A, undefined))).status).toBe(400);
    });

    it('an unknown patient is a 404; a partner may register its own organization only; a viewer may not register', async () => {
      expect((await failure(register('no-such-patient', NURSE_A, registrationBody('view')))).status).toBe(404);
      const patient = await newPatient();
      expect((await failure(register(patient, NURSE_A, registrationBody('view', valueReference('organization', 'Organization/org-b'))))).status).toBe(403);
      expect((await failure(register(patient, VIEWER_A, registrationBody('view')))).status).toBe(403);
      // A backend client of a partner registers its own organization, naming who obtained the consent.
      const response = await register(patient, EMR_B, registrationBody('view', valueReference('consentObtainedBy', 'Practitioner/nurse-b')));
      expect(output<Task>(response, 'task').requester).toEqual({ reference: 'Organization/org-b' });
    });

    it("a second request of the same organization while one is pending is a 409 naming it; another organization's is not", async () => {
      const patient = await newPatient();
      const first = output<Task>(await register(patient, NURSE_A, registrationBody('view')), 'task');
      const error = await failure(register(patient, COORDINATOR_A, registrationBody('modify')));
      expect(error.status).toBe(409);
      expect(error.message).toContain(`Task/${first.id}`);
      expect((await register(patient, NURSE_B, registrationBody('view'))).status).toBe(201);
    });

    it('two simultaneous requests of one organization: exactly one is recorded', async () => {
      const patient = await newPatient();
      const results = await Promise.allSettled([register(patient, NURSE_A, registrationBody('view')), register(patient, COORDINATOR_A, registrationBody('view'))]);
      const statuses = results.map((r) => (r.status === 'fulfilled' ? r.value.status : (r.reason as FhirError).status)).sort();
      expect(statuses).toEqual([201, 409]);
      expect(await search('Task', { patient: [`Patient/${patient}`] })).toHaveLength(1);
      expect(await search('Consent', { patient: [`Patient/${patient}`] })).toHaveLength(1);
    });

    it('with carePlan, initiates the CCP: plan created with the CCP category, registration approved at once', async () => {
      const patient = await newPatient();
      const plan = { resourceType: 'CarePlan', status: 'active', intent: 'plan', subject: { reference: `Patient/${patient}` }, title: 'Home first' };
      const before = Date.now();
      const response = await register(patient, NURSE_A, registrationBody('modify', { name: 'carePlan', resource: plan as CarePlan }));
      expect(response.status).toBe(201);
      const created = output<CarePlan>(response, 'carePlan');
      const task = output<Task>(response, 'task');
      const consent = output<Consent>(response, 'consent');
      expect(created).toMatchObject({ ...plan, category: [{ coding: [{ system: CCP_CATEGORY, code: 'ccp' }] }] });
      expect(await read<CarePlan>(`CarePlan/${created.id}`)).toEqual(created);
      expect(task.status).toBe('completed');
      expect(task.businessStatus?.text).toBe('approved');
      expect(task.input).toContainEqual({ type: { text: 'care plan' }, valueReference: { reference: `CarePlan/${created.id}` } });
      expect(consent.status).toBe('active');
      const start = Date.parse(consent.provision!.period!.start!);
      expect(start).toBeGreaterThanOrEqual(before - 1);
      expect(Date.parse(consent.provision!.period!.end!) - start).toBe(REGISTRATION_DAYS * DAY);
    });

    it("initiating goes through the CCP write rules: a generated narrative, and a second active CCP is a 409 that records nothing", async () => {
      const patient = await newPatient();
      const plan = { resourceType: 'CarePlan', status: 'active', intent: 'plan', subject: { reference: `Patient/${patient}` } } as CarePlan;
      const created = output<CarePlan>(await register(patient, NURSE_A, registrationBody('modify', { name: 'carePlan', resource: plan })), 'carePlan');
      expect(created.text?.status).toBe('generated');
      const error = await failure(register(patient, NURSE_B, registrationBody('modify', { name: 'carePlan', resource: plan })));
      expect(error.status).toBe(409);
      expect(error.issues[0].expression).toEqual(["Parameters.parameter.where(name='carePlan').resource.status"]);
      expect((await search('CarePlan', { subject: [`Patient/${patient}`] })).map((p) => p.id)).toEqual([created.id]);
      expect(await search('Task', { patient: [`Patient/${patient}`], requester: ['Organization/org-b'] })).toEqual([]);
      expect(await search('Consent', { patient: [`Patient/${patient}`], actor: ['Organization/org-b'] })).toEqual([]);
    });

    it('a later registration of another organization names the existing plan', async () => {
      const patient = await newPatient();
      const plan = { resourceType: 'CarePlan', status: 'active', intent: 'plan', subject: { reference: `Patient/${patient}` } } as CarePlan;
      const created = output<CarePlan>(await register(patient, NURSE_A, registrationBody('modify', { name: 'carePlan', resource: plan })), 'carePlan');
      const task = output<Task>(await register(patient, NURSE_B, registrationBody('view')), 'task');
      expect(task.status).toBe('requested');
      expect(task.input).toContainEqual({ type: { text: 'care plan' }, valueReference: { reference: `CarePlan/${created.id}` } });
    });
  });

  describe('$approve and $reject', () => {
    it('a hosting coordinator approves: Task completed, Consent active from now for the configured days, each step a version', async () => {
      const patient = await newPatient();
      const requested = await register(patient, NURSE_A, registrationBody('view'));
      const taskId = output<Task>(requested, 'task').id!;
      const consentId = output<Consent>(requested, 'consent').id!;
      const before = Date.now();
      const response = await call('POST', `Task/${taskId}/$approve`, HOST_COORDINATOR, parameters({ name: 'reason', valueString: 'care team confirmed' }));
      expect(response.status).toBe(200);
      const task = await read<Task>(`Task/${taskId}`);
      const consent = await read<Consent>(`Consent/${consentId}`);
      expect(output<Task>(response, 'task')).toEqual(task);
      expect(task).toMatchObject({ status: 'completed', businessStatus: { text: 'approved' }, statusReason: { text: 'care team confirmed' }, meta: { versionId: '2' } });
      expect(consent).toMatchObject({ status: 'active', meta: { versionId: '2' } });
      const start = Date.parse(consent.provision!.period!.start!);
      expect(start).toBeGreaterThanOrEqual(before - 1);
      expect(start).toBeLessThanOrEqual(Date.now());
      expect(Date.parse(consent.provision!.period!.end!) - start).toBe(REGISTRATION_DAYS * DAY);
      // The rest of the provision is what was asked for.
      expect(consent.provision?.actor?.[0].reference).toEqual({ reference: 'Organization/org-a' });
      const history = (await call('GET', `Consent/${consentId}/_history`, UNRESTRICTED)).body as Bundle;
      expect(history.entry?.map((e) => (e.resource as Consent).status)).toEqual(['active', 'proposed']);
    });

    it('approving twice, or rejecting an approved request, is a 409', async () => {
      const patient = await newPatient();
      const taskId = output<Task>(await register(patient, NURSE_A, registrationBody('view')), 'task').id!;
      await call('POST', `Task/${taskId}/$approve`, HOST_COORDINATOR);
      expect((await failure(call('POST', `Task/${taskId}/$approve`, HOST_COORDINATOR))).status).toBe(409);
      expect((await failure(call('POST', `Task/${taskId}/$reject`, HOST_COORDINATOR))).status).toBe(409);
      expect((await read<Task>(`Task/${taskId}`)).meta?.versionId).toBe('2');
    });

    it('a partner may not review, not even its own request with a coordinator role; nor may hosting staff without Task rights', async () => {
      const patient = await newPatient();
      const taskId = output<Task>(await register(patient, NURSE_A, registrationBody('view')), 'task').id!;
      for (const caller of [COORDINATOR_A, NURSE_B, HOST_CONTRIBUTOR]) {
        expect((await failure(call('POST', `Task/${taskId}/$approve`, caller))).status).toBe(403);
        expect((await failure(call('POST', `Task/${taskId}/$reject`, caller))).status).toBe(403);
      }
      expect((await read<Task>(`Task/${taskId}`)).status).toBe('requested');
    });

    it('a hosting coordinator rejects with a reason: Task and Consent rejected; a new request may then be made', async () => {
      const patient = await newPatient();
      const requested = await register(patient, NURSE_A, registrationBody('modify'));
      const taskId = output<Task>(requested, 'task').id!;
      const response = await call('POST', `Task/${taskId}/$reject`, HOST_COORDINATOR, parameters({ name: 'reason', valueString: 'not involved in care' }));
      expect(output<Task>(response, 'task')).toMatchObject({ status: 'rejected', statusReason: { text: 'not involved in care' } });
      expect((await read<Consent>(`Consent/${output<Consent>(requested, 'consent').id}`)).status).toBe('rejected');
      expect((await register(patient, NURSE_A, registrationBody('view'))).status).toBe(201);
    });

    it('unknown Task → 404; a Task that is not a registration → 400; a bad parameter → 400 naming it', async () => {
      expect((await failure(call('POST', 'Task/no-such-task/$approve', HOST_COORDINATOR))).status).toBe(404);
      await put({ resourceType: 'Task', id: 'other-task', status: 'requested', intent: 'order' });
      expect((await failure(call('POST', 'Task/other-task/$approve', HOST_COORDINATOR))).status).toBe(400);
      const error = await failure(call('POST', 'Task/other-task/$reject', HOST_COORDINATOR, parameters({ name: 'reason', valueCode: 'no' })));
      expect(error.status).toBe(400);
      expect(error.issues[0].expression).toEqual(["Parameters.parameter.where(name='reason')"]);
    });

    it('Task?patient= and Consent?actor= find the records, for a hosting coordinator', async () => {
      const patient = await newPatient();
      const requested = await register(patient, NURSE_A, registrationBody('view'));
      const tasks = await search('Task', { patient: [`Patient/${patient}`] }, HOST_COORDINATOR);
      expect(tasks.map((t) => t.id)).toEqual([output<Task>(requested, 'task').id]);
      const consents = await search('Consent', { actor: ['Organization/org-a'], patient: [`Patient/${patient}`] }, HOST_COORDINATOR);
      expect(consents.map((c) => c.id)).toEqual([output<Consent>(requested, 'consent').id]);
      expect(await search('Consent', { actor: ['Organization/org-b'], patient: [`Patient/${patient}`] }, HOST_COORDINATOR)).toEqual([]);
    });
  });

  describe('$ccp-disengage', () => {
    it("ends the organization's approved access now and cancels its pending requests; others' stay", async () => {
      const patient = await newPatient();
      const approvedA = await register(patient, NURSE_A, registrationBody('view'));
      await call('POST', `Task/${output<Task>(approvedA, 'task').id}/$approve`, HOST_COORDINATOR);
      // A second, pending request of A (an upgrade to modify), and B's pending request.
      const pendingA = await register(patient, NURSE_A, registrationBody('modify'));
      const pendingB = await register(patient, NURSE_B, registrationBody('view'));
      const before = Date.now();
      const response = await call('POST', `Patient/${patient}/$ccp-disengage`, HOST_COORDINATOR, parameters(valueReference('organization', 'Organization/org-a')));
      expect(response.status).toBe(200);
      const reported = (response.body as Parameters).parameter!.map((p) => `${p.part![0].valueReference!.reference} ${p.part![1].valueCode}`);
      expect(reported.sort()).toEqual(
        [
          `Consent/${output<Consent>(approvedA, 'consent').id} inactive`,
          `Consent/${output<Consent>(pendingA, 'consent').id} rejected`,
          `Task/${output<Task>(pendingA, 'task').id} cancelled`,
        ].sort(),
      );
      const ended = await read<Consent>(`Consent/${output<Consent>(approvedA, 'consent').id}`);
      expect(ended.status).toBe('inactive');
      expect(Date.parse(ended.provision!.period!.end!)).toBeGreaterThanOrEqual(before - 1);
      expect(Date.parse(ended.provision!.period!.end!)).toBeLessThanOrEqual(Date.now());
      expect((await read<Task>(`Task/${output<Task>(approvedA, 'task').id}`)).status).toBe('completed');
      expect((await read<Task>(`Task/${output<Task>(pendingB, 'task').id}`)).status).toBe('requested');
      expect((await read<Consent>(`Consent/${output<Consent>(pendingB, 'consent').id}`)).status).toBe('proposed');
      // Nothing left to end: an empty answer.
      const again = await call('POST', `Patient/${patient}/$ccp-disengage`, HOST_COORDINATOR, parameters(valueReference('organization', 'Organization/org-a')));
      expect((again.body as Parameters).parameter).toBeUndefined();
    });

    it('a partner may disengage itself, not another partner; organization is required; unknown patient 404', async () => {
      const patient = await newPatient();
      const pendingB = await register(patient, NURSE_B, registrationBody('view'));
      const disengageB = parameters(valueReference('organization', 'Organization/org-b'));
      expect((await failure(call('POST', `Patient/${patient}/$ccp-disengage`, NURSE_A, disengageB))).status).toBe(403);
      expect((await failure(call('POST', `Patient/${patient}/$ccp-disengage`, HOST_CONTRIBUTOR, disengageB))).status).toBe(403);
      const missing = await failure(call('POST', `Patient/${patient}/$ccp-disengage`, NURSE_B, parameters()));
      expect(missing.status).toBe(400);
      expect(missing.issues[0].expression).toEqual(["Parameters.parameter.where(name='organization')"]);
      expect((await failure(call('POST', 'Patient/nobody/$ccp-disengage', HOST_COORDINATOR, disengageB))).status).toBe(404);
      expect((await call('POST', `Patient/${patient}/$ccp-disengage`, NURSE_B, disengageB)).status).toBe(200);
      expect((await read<Task>(`Task/${output<Task>(pendingB, 'task').id}`)).status).toBe('cancelled');
    });
  });

  describe('$override', () => {
    it('writes an override Consent for the user and a notice to the privacy contacts of their organization', async () => {
      const patient = await newPatient();
      const before = Date.now();
      const response = await call('POST', `Patient/${patient}/$override`, NURSE_A, parameters({ name: 'reason', valueCode: 'risk-of-harm' }, { name: 'note', valueString: 'ED visit, unconscious' }));
      expect(response.status).toBe(201);
      const consent = output<Consent>(response, 'consent');
      const notice = output<Communication>(response, 'communication');

      expect(consent).toMatchObject({
        status: 'active',
        category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'INFA' }] }],
        patient: { reference: `Patient/${patient}` },
        // R4's ppc-1: a Consent names a policy or a policy rule.
        policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'INFA' }] },
        provision: {
          type: 'permit',
          actor: [{ reference: { reference: 'Practitioner/nurse-a' } }],
          purpose: [{ system: OVERRIDE_REASON, code: 'risk-of-harm' }],
        },
      });
      const start = Date.parse(consent.provision!.period!.start!);
      expect(start).toBeGreaterThanOrEqual(before - 1);
      expect(Date.parse(consent.provision!.period!.end!) - start).toBe(OVERRIDE_HOURS * HOUR);
      expect(schemaValidator().validate(consent as never, 'Consent')).toEqual([]);

      expect(notice).toMatchObject({
        status: 'completed',
        category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/communication-category', code: 'notification' }] }],
        subject: { reference: `Patient/${patient}` },
        about: [{ reference: `Consent/${consent.id}` }],
        sender: { reference: 'Practitioner/nurse-a' },
        // The active privacy contact of org-a only: not the inactive one, not B's, not A's nurse.
        recipient: [{ reference: 'PractitionerRole/role-privacy-a' }],
      });
      expect(Date.parse(notice.sent!)).toBe(start);
      const text = notice.payload!.map((p) => p.contentString).join(' ');
      for (const fact of ['Practitioner/nurse-a', `Patient/${patient}`, 'risk-of-harm', consent.provision!.period!.start!, consent.provision!.period!.end!, 'ED visit, unconscious']) {
        expect(text).toContain(fact);
      }
      expect(text).not.toMatch(/Zebulon|Quintessa/);
      expect(schemaValidator().validate(notice as never, 'Communication')).toEqual([]);

      // The privacy contact finds the notice.
      const found = await search('Communication', { recipient: ['PractitionerRole/role-privacy-a'], subject: [`Patient/${patient}`] }, HOST_COORDINATOR);
      expect(found.map((c) => c.id)).toEqual([notice.id]);
      expect(await search('Communication', { recipient: ['PractitionerRole/role-privacy-b'], subject: [`Patient/${patient}`] })).toEqual([]);
      expect((await search('Consent', { actor: ['Practitioner/nurse-a'], patient: [`Patient/${patient}`] })).map((c) => c.id)).toEqual([consent.id]);

      // The request's AuditEvent names what the override wrote and whose record it is about.
      const [event, ...others] = (await search('AuditEvent', { entity: [`Consent/${consent.id}`] })) as AuditEvent[];
      expect(others).toEqual([]);
      expect(event.subtype).toEqual([{ system: 'http://hl7.org/fhir/restful-interaction', code: 'operation' }]);
      expect(event.entity?.map((e) => e.what?.reference)).toEqual(
        expect.arrayContaining([`Patient/${patient}`, `Consent/${consent.id}/_history/1`, `Communication/${notice.id}/_history/1`]),
      );
    });

    it('reason is required and must be one of the two; systems may not override; unknown patient 404', async () => {
      const patient = await newPatient();
      for (const body of [parameters(), parameters({ name: 'reason', valueCode: 'curiosity' }), parameters({ name: 'reason', valueString: 'risk-of-harm' })]) {
        const error = await failure(call('POST', `Patient/${patient}/$override`, NURSE_A, body));
        expect(error.status).toBe(400);
        expect(error.issues[0].expression).toEqual(["Parameters.parameter.where(name='reason')"]);
      }
      const valid = parameters({ name: 'reason', valueCode: 'patient-consent' });
      expect((await failure(call('POST', `Patient/${patient}/$override`, EMR_B, valid))).status).toBe(403);
      expect((await failure(call('POST', `Patient/${patient}/$override`, UNRESTRICTED, valid))).status).toBe(403);
      expect((await failure(call('POST', 'Patient/nobody/$override', NURSE_A, valid))).status).toBe(404);
      expect(await search('Consent', { patient: [`Patient/${patient}`] })).toEqual([]);
      expect(await search('Communication', { subject: [`Patient/${patient}`] })).toEqual([]);
    });

    it('a token confined to its launch patient acts for that patient only', async () => {
      const patient = await newPatient();
      const other = await newPatient();
      const launched: Caller = { ...NURSE_A, scopes: ['patient/*.cruds'].map((text) => parseResourceScope(text)!), patient: other };
      const reason = parameters({ name: 'reason', valueCode: 'patient-consent' });
      expect((await failure(call('POST', `Patient/${patient}/$override`, launched, reason))).status).toBe(403);
      expect((await failure(register(patient, launched, registrationBody('view')))).status).toBe(403);
      expect((await call('POST', `Patient/${other}/$override`, launched, reason)).status).toBe(201);
    });

    it('the operations exist on their own resource type only', async () => {
      const patient = await newPatient();
      await put({ resourceType: 'Observation', id: patient, status: 'final', code: { text: 'x' } });
      expect((await failure(call('POST', `Observation/${patient}/$override`, NURSE_A, parameters({ name: 'reason', valueCode: 'patient-consent' })))).status).toBe(404);
      expect((await failure(call('POST', `Patient/${patient}/$approve`, HOST_COORDINATOR))).status).toBe(404);
      expect((await failure(call('POST', `Observation/${patient}/$ccp-register`, NURSE_A, registrationBody('view')))).status).toBe(404);
    });

    it("an organization with no privacy contact on record is told itself", async () => {
      const patient = await newPatient();
      const response = await call('POST', `Patient/${patient}/$override`, HOST_CONTRIBUTOR, parameters({ name: 'reason', valueCode: 'patient-consent' }));
      expect(output<Communication>(response, 'communication').recipient).toEqual([{ reference: 'Organization/host' }]);
    });
  });

  describe('what a partner sees of the plan (the consent gate)', () => {
    /** A patient with a CCP made by the server itself; partner B has no access to begin with. */
    async function patientWithPlan(): Promise<{ patient: string; plan: string }> {
      const patient = await newPatient();
      const plan = `plan-of-${patient}`;
      await put({ resourceType: 'CarePlan', id: plan, status: 'active', intent: 'plan', subject: { reference: `Patient/${patient}` }, category: [{ coding: [{ system: CCP_CATEGORY, code: 'ccp' }] }] });
      return { patient, plan };
    }
    const sees = async (caller: Caller, patient: string, plan: string): Promise<boolean> => {
      const found = (await search('CarePlan', { subject: [`Patient/${patient}`] }, caller)).map((r) => r.id);
      const read = await call('GET', `CarePlan/${plan}`, caller).then(
        (r) => r.status === 200,
        (error: FhirError) => (error.status === 404 ? false : Promise.reject(error)),
      );
      // A search and a read by id must agree.
      expect(found).toEqual(read ? [plan] : []);
      return read;
    };

    it('only after approval, and no longer after disengagement', async () => {
      const { patient, plan } = await patientWithPlan();
      expect(await sees(NURSE_B, patient, plan)).toBe(false);
      const taskId = output<Task>(await register(patient, NURSE_B, registrationBody('view')), 'task').id!;
      expect(await sees(NURSE_B, patient, plan)).toBe(false);
      await call('POST', `Task/${taskId}/$approve`, HOST_COORDINATOR);
      expect(await sees(NURSE_B, patient, plan)).toBe(true);
      // The registration is the organization's: its backend system sees the plan too; partner A does not.
      expect(await sees(EMR_B, patient, plan)).toBe(true);
      expect(await sees(NURSE_A, patient, plan)).toBe(false);
      await call('POST', `Patient/${patient}/$ccp-disengage`, HOST_COORDINATOR, parameters(valueReference('organization', 'Organization/org-b')));
      expect(await sees(NURSE_B, patient, plan)).toBe(false);
      expect(await sees(EMR_B, patient, plan)).toBe(false);
    });

    it('not after a rejection', async () => {
      const { patient, plan } = await patientWithPlan();
      const taskId = output<Task>(await register(patient, NURSE_B, registrationBody('view')), 'task').id!;
      await call('POST', `Task/${taskId}/$reject`, HOST_COORDINATOR);
      expect(await sees(NURSE_B, patient, plan)).toBe(false);
    });

    it('with an override, the user who made it (not their organization)', async () => {
      const { patient, plan } = await patientWithPlan();
      await call('POST', `Patient/${patient}/$override`, NURSE_B, parameters({ name: 'reason', valueCode: 'patient-consent' }));
      expect(await sees(NURSE_B, patient, plan)).toBe(true);
      expect(await sees(EMR_B, patient, plan)).toBe(false);
    });

    it("the initiator of a CCP sees it at once; the hosting organization's staff see every plan", async () => {
      const patient = await newPatient();
      const plan = { resourceType: 'CarePlan', status: 'active', intent: 'plan', subject: { reference: `Patient/${patient}` } } as CarePlan;
      const created = output<CarePlan>(await register(patient, NURSE_B, registrationBody('modify', { name: 'carePlan', resource: plan })), 'carePlan');
      expect(await sees(NURSE_B, patient, created.id!)).toBe(true);
      expect(await sees(NURSE_A, patient, created.id!)).toBe(false);
      expect(await sees(HOST_CONTRIBUTOR, patient, created.id!)).toBe(true);
    });
  });

  it('over HTTP (no tokens: the server itself asks), `$` written plainly or percent-encoded', async () => {
    const patient = await newPatient();
    const body = registrationBody('view', valueReference('organization', 'Organization/org-a'), valueReference('consentObtainedBy', 'Practitioner/nurse-a'));
    const send = (url: string, sent: unknown) => request(server.app).post(url).set('Content-Type', 'application/fhir+json').send(JSON.stringify(sent));
    const created = await send(`/fhir/Patient/${patient}/$ccp-register`, body);
    expect(created.status).toBe(201);
    expect(created.body.parameter.map((p: ParametersParameter) => p.name)).toEqual(['task', 'consent']);
    const duplicate = await send(`/fhir/Patient/${patient}/%24ccp-register`, body);
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.resourceType).toBe('OperationOutcome');
    const bad = await send(`/fhir/Patient/${patient}/$ccp-register`, parameters({ name: 'level', valueCode: 'all' }, valueReference('organization', 'Organization/org-a')));
    expect(bad.status).toBe(400);
    expect(bad.body.issue[0].expression).toEqual(["Parameters.parameter.where(name='level')"]);
  });

  it('the CapabilityStatement lists the operations, each with a valid OperationDefinition in conformance/operations', async () => {
    const statement = (await call('GET', 'metadata', UNRESTRICTED)).body as CapabilityStatement;
    const operations = (type: string) => statement.rest![0].resource!.find((r) => r.type === type)!.operation!.map((o) => o.name);
    expect(operations('Patient')).toEqual(['validate', 'ccp-register', 'ccp-disengage', 'override']);
    expect(operations('Task')).toEqual(['validate', 'approve', 'reject']);
    expect(operations('Observation')).toEqual(['validate']);
    const folder = path.resolve('conformance/operations');
    const definitions = readdirSync(folder).map((file) => JSON.parse(readFileSync(path.join(folder, file), 'utf8')) as OperationDefinition);
    for (const type of ['Patient', 'Task']) {
      for (const entry of statement.rest![0].resource!.find((r) => r.type === type)!.operation!.slice(1)) {
        const definition = definitions.find((d) => d.url === entry.definition);
        expect(definition).toMatchObject({ code: entry.name, resource: [type], instance: true });
        expect(schemaValidator().validate(definition as never, 'OperationDefinition')).toEqual([]);
      }
    }
  });
});
