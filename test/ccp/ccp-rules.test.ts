import { randomUUID } from 'node:crypto';
import type { Bundle, CarePlan, Consent, FhirResource, OperationOutcome, Patient, Provenance, Resource } from 'fhir/r4';
import request from 'supertest';
import { type Caller, UNRESTRICTED } from '../../server/access/caller.js';
import { parseResourceScope, type ResourceScope } from '../../server/access/scopes.js';
import {
  ACT_CODE,
  CAREPLAN_CATEGORY,
  CCP_CODE,
  CONSENT_CATEGORY,
  CONSENT_SCOPE,
  DIRECTIVE_CODE,
  OVERRIDE_CODE,
  PRIVACY_SCOPE,
  REGISTRATION_CODE,
} from '../../server/conformance/consent-vocabulary.js';
import { rejection } from '../support/thrown.js';
import { handleFhirRequest } from '../../server/pipeline/fhir-request.js';
import type { FhirRequest, FhirResponse } from '../../server/rest/types.js';
import { writeUnderRules } from '../../server/rest/write-rules.js';
import { sharedProfiles } from '../../server/validation/profiles.js';
import { validateResource } from '../../server/validation/validate-resource.js';
import { BACKENDS, reportBackends } from '../support/backends.js';
import { openTestServer, schemaValidator, TEST_OPTIONS, type TestServer } from '../support/fhir-app.js';

reportBackends();

const FHIR_JSON = 'application/fhir+json';
const JSON_PATCH = 'application/json-patch+json';
const BASE = 'http://ccp.test/fhir';
const HOSTING = 'hosting-org';
const CCP_CATEGORY = [{ coding: [{ system: CAREPLAN_CATEGORY, code: CCP_CODE }] }];

function ccp(patient: string, status: CarePlan['status'], extra: Partial<CarePlan> = {}): CarePlan {
  return { resourceType: 'CarePlan', status, intent: 'plan', category: CCP_CATEGORY, subject: { reference: `Patient/${patient}` }, ...extra };
}

const patientNamed = (family: string): Patient => ({ resourceType: 'Patient', name: [{ family }] });
const scopes = (...texts: string[]): ResourceScope[] => texts.map((text) => parseResourceScope(text)!);

/** A care coordinator of the hosting organization: not held back by registrations, so only the write rules decide. */
const COORDINATOR: Caller = { kind: 'user', userId: 'u-coord', practitioner: 'pr-coord', organization: HOSTING, scopes: scopes('user/*.cruds') };
const BACKEND: Caller = { kind: 'system', clientId: 'emr-vendor-1', organization: HOSTING, scopes: scopes('system/*.cruds') };

/** `<tag>` names in an XHTML fragment, checked to be balanced; throws on a stray or unclosed tag. */
function tagsOf(xhtml: string): string[] {
  const stack: string[] = [];
  const names: string[] = [];
  for (const [, closing, name, selfClosing] of xhtml.matchAll(/<(\/?)([A-Za-z0-9]+)[^>]*?(\/?)>/g)) {
    names.push(name);
    if (selfClosing) continue;
    if (!closing) stack.push(name);
    else if (stack.pop() !== name) throw new Error(`unbalanced </${name}>`);
  }
  if (stack.length) throw new Error(`unclosed <${stack.join('>, <')}>`);
  return names;
}

describe.each(BACKENDS)('CCP write rules on $name', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await openTestServer(backend, { hostingOrganization: HOSTING });
    // The partner organization the registrations below name.
    expect((await put({ resourceType: 'Organization', id: 'partner', name: 'Partner' })).status).toBe(201);
  });
  afterAll(async () => server?.close());

  const post = (body: FhirResource) => request(server.app).post(`/fhir/${body.resourceType}`).set('Content-Type', FHIR_JSON).send(body);
  const put = (body: FhirResource) => request(server.app).put(`/fhir/${body.resourceType}/${body.id}`).set('Content-Type', FHIR_JSON).send(body);
  const patch = (url: string, operations: object[]) => request(server.app).patch(`/fhir/${url}`).set('Content-Type', JSON_PATCH).send(JSON.stringify(operations));
  const get = (url: string) => request(server.app).get(`/fhir/${url}`);
  const created = async <T extends FhirResource>(body: T): Promise<T & { id: string }> => {
    const res = await post(body);
    expect(res.status).toBe(201);
    return res.body as T & { id: string };
  };
  /** A stored Patient's id: the plans of these tests name patients that exist, as referential integrity requires. */
  const newPatient = async (): Promise<string> => (await created(patientNamed('Test'))).id;
  const withStatus = (plan: CarePlan, status: CarePlan['status'], extra: Partial<CarePlan> = {}): CarePlan => ({ ...plan, status, ...extra });
  const issue = (body: OperationOutcome) => body.issue[0];
  const rows = async (type: string) =>
    (await server.db.query<{ content: Resource }>('SELECT content FROM resource WHERE resource_type = $1 AND NOT deleted', [type])).map((row) => row.content);
  const provenancesOf = async (planId: string) =>
    ((await rows('Provenance')) as Provenance[]).filter((p) => p.target.some((t) => t.reference?.startsWith(`CarePlan/${planId}/`)));
  const as = (caller: Caller, fields: Partial<FhirRequest> & { method: string; path: string }): Promise<FhirResponse> =>
    handleFhirRequest({ query: {}, headers: { 'content-type': FHIR_JSON }, baseUrl: BASE, caller, ...fields }, server.context);

  describe('the extension point', () => {
    it('a type no rule governs is written on the very store it was given: no transaction, no rule query', async () => {
      const rules = server.context.writeRules;
      expect(rules.for('Patient')).toEqual([]);
      expect(rules.for('CarePlan').length).toBeGreaterThan(0);
      expect(rules.for('Consent').length).toBeGreaterThan(0);
      const store = server.context.store;
      const seen = await writeUnderRules(
        { interaction: 'create', resourceType: 'Patient', resource: { resourceType: 'Patient' }, caller: UNRESTRICTED },
        { store, registry: server.context.registry, baseUrl: BASE, rules: server.context.writeRules },
        async (given) => given,
        () => ({}),
      );
      expect(seen).toBe(store);
    });

    it('a governed type is written on a transaction-bound store, not the one given', async () => {
      const store = server.context.store;
      const seen = await writeUnderRules(
        { interaction: 'create', resourceType: 'CarePlan', resource: ccp('x', 'draft'), caller: UNRESTRICTED },
        { store, registry: server.context.registry, baseUrl: BASE, rules: server.context.writeRules },
        async (given) => given,
        () => undefined,
      );
      expect(seen).not.toBe(store);
    });

    it('a transaction on a transaction-bound store nests: its writes are seen inside, and commit or roll back with the outer one', async () => {
      const family = `Nested-${randomUUID()}`;
      const count = async () => ((await rows('Patient')) as { name?: { family?: string }[] }[]).filter((p) => p.name?.[0]?.family === family).length;

      await server.context.store.transaction(async (outer) => {
        const inner = await outer.transaction(async (tx) => tx.create(patientNamed(family)));
        expect((await outer.read('Patient', inner.id!)).kind).toBe('found');
      });
      expect(await count()).toBe(1);

      // The outer transaction fails after the nested one finished: the nested write goes too.
      await expect(
        server.context.store.transaction(async (outer) => {
          await outer.transaction(async (tx) => tx.create(patientNamed(family)));
          throw new Error('outer fails');
        }),
      ).rejects.toThrow('outer fails');
      expect(await count()).toBe(1);

      // The nested one fails: everything the outer one wrote goes with it.
      await expect(
        server.context.store.transaction(async (outer) => {
          await outer.create(patientNamed(family));
          await outer.transaction(async (tx) => {
            await tx.create(patientNamed(family));
            throw new Error('inner fails');
          });
        }),
      ).rejects.toThrow('inner fails');
      expect(await count()).toBe(1);
    });
  });

  describe('one active CCP per patient', () => {
    it('a second active CCP of the patient is a 409 naming the active one; other patients and non-CCP plans are not affected', async () => {
      const patient = await newPatient();
      const first = await created(ccp(patient, 'active'));
      const second = await post(ccp(patient, 'active'));
      expect(second.status).toBe(409);
      expect(issue(second.body)).toMatchObject({ severity: 'error', code: 'conflict', expression: ['CarePlan.status'] });
      expect(issue(second.body).diagnostics).toContain(`CarePlan/${first.id}`);
      expect(issue(second.body).diagnostics).toContain(`Patient/${patient}`);

      await created(ccp(await newPatient(), 'active'));
      await created({ resourceType: 'CarePlan', status: 'active', intent: 'plan', subject: { reference: `Patient/${patient}` } });
      const active = ((await rows('CarePlan')) as CarePlan[]).filter((p) => p.subject.reference === `Patient/${patient}` && p.status === 'active');
      expect(active).toHaveLength(2); // the CCP and the plain CarePlan
    });

    it('a draft may wait beside the active plan, and becomes active once the other is completed', async () => {
      const patient = await newPatient();
      const first = await created(ccp(patient, 'active'));
      const draft = await created(ccp(patient, 'draft'));
      const early = await put(withStatus(draft, 'active'));
      expect(early.status).toBe(409);
      expect(issue(early.body).diagnostics).toContain(`CarePlan/${first.id}`);
      const viaPatch = await patch(`CarePlan/${draft.id}`, [{ op: 'replace', path: '/status', value: 'active' }]);
      expect(viaPatch.status).toBe(409);

      expect((await put(withStatus(first, 'completed'))).status).toBe(200);
      const promoted = await put(withStatus(draft, 'active'));
      expect(promoted.status).toBe(200);
      // Editing the active plan meets only itself.
      expect((await put(withStatus(promoted.body, 'active', { description: 'reviewed' }))).status).toBe(200);
    });

    it('concurrent creates of active CCPs for one patient: exactly one succeeds', async () => {
      const patient = await newPatient();
      const responses = await Promise.all(Array.from({ length: 8 }, (_, i) => post(ccp(patient, 'active', { description: `attempt ${i}` }))));
      const statuses = responses.map((r) => r.status).sort();
      expect(statuses).toEqual([201, 409, 409, 409, 409, 409, 409, 409]);
      const stored = ((await rows('CarePlan')) as CarePlan[]).filter((p) => p.subject.reference === `Patient/${patient}`);
      expect(stored).toHaveLength(1);
      expect(stored[0].id).toBe(responses.find((r) => r.status === 201)!.body.id);
    });

    it('a transaction Bundle that would make a second active CCP rolls back whole', async () => {
      const patient = await newPatient();
      const goalsBefore = (await rows('Goal')).length;
      const bundle: Bundle<FhirResource> = {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          { fullUrl: 'urn:uuid:4b6a2f3e-0000-4000-8000-000000000001', resource: { resourceType: 'Goal', lifecycleStatus: 'active', description: { text: 'walk' }, subject: { reference: `Patient/${patient}` } }, request: { method: 'POST', url: 'Goal' } },
          { resource: ccp(patient, 'active', { goal: [{ reference: 'urn:uuid:4b6a2f3e-0000-4000-8000-000000000001' }] }), request: { method: 'POST', url: 'CarePlan' } },
          { resource: ccp(patient, 'active'), request: { method: 'POST', url: 'CarePlan' } },
        ],
      };
      const res = await request(server.app).post('/fhir').set('Content-Type', FHIR_JSON).send(bundle);
      expect(res.status).toBe(409);
      expect(issue(res.body)).toMatchObject({ code: 'conflict', expression: ['CarePlan.status'] });
      expect(issue(res.body).diagnostics).toMatch(/^Bundle\.entry\[2\]/);
      expect((await rows('Goal')).length).toBe(goalsBefore);
      expect(((await rows('CarePlan')) as CarePlan[]).filter((p) => p.subject.reference === `Patient/${patient}`)).toEqual([]);
    });
  });

  describe('lifecycle', () => {
    it('draft → active → on-hold → active → completed is accepted, by PUT and by PATCH', async () => {
      const plan = await created(ccp(await newPatient(), 'draft'));
      const active = await put(withStatus(plan, 'active'));
      expect(active.status).toBe(200);
      const held = await patch(`CarePlan/${plan.id}`, [{ op: 'replace', path: '/status', value: 'on-hold' }]);
      expect(held.status).toBe(200);
      const resumed = await put(withStatus(held.body, 'active'));
      expect(resumed.status).toBe(200);
      const done = await patch(`CarePlan/${plan.id}`, [{ op: 'replace', path: '/status', value: 'completed' }]);
      expect(done.status).toBe(200);
      expect(done.body.meta.versionId).toBe('5');
    });

    it('draft → revoked and active → revoked are accepted', async () => {
      const draft = await created(ccp(await newPatient(), 'draft'));
      expect((await put(withStatus(draft, 'revoked'))).status).toBe(200);
      const active = await created(ccp(await newPatient(), 'active'));
      expect((await put(withStatus(active, 'revoked'))).status).toBe(200);
    });

    it.each([
      ['completed', 'active'],
      ['completed', 'on-hold'],
      ['revoked', 'active'],
      ['revoked', 'draft'],
      ['on-hold', 'completed'],
      ['active', 'draft'],
      ['draft', 'on-hold'],
      ['draft', 'completed'],
    ] as const)('%s → %s is a 409 naming CarePlan.status', async (from, to) => {
      const patient = await newPatient();
      // Reach `from` through the lifecycle itself.
      const path: Record<string, CarePlan['status'][]> = { draft: [], active: ['active'], 'on-hold': ['active', 'on-hold'], completed: ['active', 'completed'], revoked: ['revoked'] };
      let plan: CarePlan = await created(ccp(patient, 'draft'));
      for (const step of path[from]) plan = (await put(withStatus(plan, step)).expect(200)).body;
      const res = await put(withStatus(plan, to));
      expect(res.status).toBe(409);
      expect(issue(res.body)).toMatchObject({ code: 'business-rule', expression: ['CarePlan.status'] });
      expect(issue(res.body).diagnostics).toContain(`from ${from} to ${to}`);
      expect((await get(`CarePlan/${plan.id}`)).body.status).toBe(from);
    });

    it.each(['completed', 'revoked', 'entered-in-error', 'on-hold', 'unknown'] as const)('creating a CCP as %s is a 422', async (status) => {
      const res = await post(ccp(await newPatient(), status, { note: [{ text: 'why' }] }));
      expect(res.status).toBe(422);
      // unknown breaks the CCP profile's ccp-2 (the profile the default configuration requires), which is checked first.
      if (status === 'unknown') expect(issue(res.body)).toMatchObject({ code: 'invariant', expression: ['CarePlan'], diagnostics: expect.stringContaining('ccp-2') });
      else expect(issue(res.body)).toMatchObject({ code: 'business-rule', expression: ['CarePlan.status'] });
    });

    it('a completed plan no longer changes, but writing it again unchanged is harmless', async () => {
      const plan = await created(ccp(await newPatient(), 'active'));
      const done = (await put(withStatus(plan, 'completed')).expect(200)).body as CarePlan;
      expect((await put(done)).status).toBe(200);
      expect((await patch(`CarePlan/${plan.id}`, [{ op: 'replace', path: '/status', value: 'completed' }])).status).toBe(200);
      const edited = await put({ ...done, description: 'changed after completion' });
      expect(edited.status).toBe(409);
      expect(issue(edited.body).diagnostics).toContain('entered-in-error');
    });

    it('a CCP stays a CCP and stays with its patient, and names a Patient', async () => {
      const patient = await newPatient();
      const plan = await created(ccp(patient, 'draft'));
      const uncategorized = await put({ ...plan, category: [{ text: 'other' }] });
      expect(uncategorized.status).toBe(422);
      expect(issue(uncategorized.body).expression).toEqual(['CarePlan.category']);
      const moved = await put({ ...plan, subject: { reference: `Patient/${await newPatient()}` } });
      expect(moved.status).toBe(422);
      expect(issue(moved.body).expression).toEqual(['CarePlan.subject']);
      const aGroup = await post({ ...ccp(patient, 'draft'), subject: { reference: 'Group/g1' } } as CarePlan);
      expect(aGroup.status).toBe(422);
      // The CCP profile (subject only Reference(Patient)) refuses it before the server's identity rule.
      expect(issue(aGroup.body).expression).toEqual(['CarePlan.subject.reference']);
      // An absolute URL is indexed as written, so it would escape the one-active check and the consent rules.
      const absolute = await post({ ...ccp(patient, 'draft'), subject: { reference: `http://elsewhere.test/fhir/Patient/${patient}` } } as CarePlan);
      expect(absolute.status).toBe(422);
      // A plain CarePlan has none of these rules: it may become a CCP.
      const plain = await created({ resourceType: 'CarePlan', status: 'draft', intent: 'plan', subject: { reference: `Patient/${patient}` } });
      expect((await put({ ...plain, category: CCP_CATEGORY })).status).toBe(200);
    });
  });

  describe('deletion and correction', () => {
    it('DELETE of a CCP is a 409, by id and by criteria, and leaves it readable; other CarePlans delete as before', async () => {
      const patient = await newPatient();
      const plan = await created(ccp(patient, 'active'));
      const res = await request(server.app).delete(`/fhir/CarePlan/${plan.id}`);
      expect(res.status).toBe(409);
      expect(issue(res.body)).toMatchObject({ code: 'business-rule', expression: ['CarePlan.status'] });
      expect(issue(res.body).diagnostics).toContain('entered-in-error');
      const conditional = await request(server.app).delete(`/fhir/CarePlan?subject=Patient/${patient}`);
      expect(conditional.status).toBe(409);
      expect((await get(`CarePlan/${plan.id}`)).status).toBe(200);

      const plain = await created({ resourceType: 'CarePlan', status: 'active', intent: 'plan', subject: { reference: `Patient/${patient}` } });
      expect((await request(server.app).delete(`/fhir/CarePlan/${plain.id}`)).status).toBe(200);
      expect((await get(`CarePlan/${plain.id}`)).status).toBe(410);
    });

    it('entered-in-error without a new note is a 422 naming CarePlan.note, and writes nothing', async () => {
      const plan = await created(ccp(await newPatient(), 'active', { note: [{ text: 'initial assessment' }] }));
      const bare = await put(withStatus(plan, 'entered-in-error'));
      expect(bare.status).toBe(422);
      expect(issue(bare.body)).toMatchObject({ code: 'required', expression: ['CarePlan.note'] });
      // The note it already had says nothing about the correction.
      const oldNote = await patch(`CarePlan/${plan.id}`, [{ op: 'replace', path: '/status', value: 'entered-in-error' }]);
      expect(oldNote.status).toBe(422);
      expect((await get(`CarePlan/${plan.id}`)).body.meta.versionId).toBe('1');
      expect(await provenancesOf(plan.id)).toEqual([]);
    });

    it('a correction writes a valid Provenance: the new version and the patient as targets, the caller, the reason and the note; history keeps every version', async () => {
      const patient = await newPatient();
      const plan = await created(ccp(patient, 'draft', { note: [{ text: 'initial assessment' }] }));
      const active = await as(COORDINATOR, { method: 'PUT', path: `CarePlan/${plan.id}`, body: withStatus(plan, 'active') });
      expect(active.status).toBe(200);
      const why = 'Recorded for the wrong patient';
      const corrected = await as(COORDINATOR, {
        method: 'PUT',
        path: `CarePlan/${plan.id}`,
        body: withStatus(active.body as CarePlan, 'entered-in-error', { note: [...(plan.note ?? []), { text: why }] }),
      });
      expect(corrected.status).toBe(200);
      const version = (corrected.body as CarePlan).meta!.versionId;
      expect(version).toBe('3');

      const [provenance, ...others] = await provenancesOf(plan.id);
      expect(others).toEqual([]);
      expect(() => validateResource({ schema: schemaValidator() }, provenance, 'Provenance')).not.toThrow();
      expect(provenance.target).toEqual([{ reference: `CarePlan/${plan.id}/_history/3` }, { reference: `Patient/${patient}` }]);
      expect(provenance.recorded).toBe((corrected.body as CarePlan).meta!.lastUpdated);
      expect(provenance.activity?.coding).toEqual([expect.objectContaining({ system: 'http://terminology.hl7.org/CodeSystem/v3-DataOperation', code: 'UPDATE' })]);
      expect(provenance.reason).toEqual([{ coding: [expect.objectContaining({ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'EIE' })], text: why }]);
      expect(provenance.agent).toEqual([expect.objectContaining({ who: { reference: 'Practitioner/pr-coord' }, onBehalfOf: { reference: `Organization/${HOSTING}` } })]);
      expect(provenance.entity).toEqual([{ role: 'revision', what: { reference: `CarePlan/${plan.id}/_history/2` } }]);

      // The Provenance is found through the patient, as the consent rules will look for it.
      const found = await get(`Provenance?patient=Patient/${patient}`);
      expect(found.body.entry.map((e: { resource: Provenance }) => e.resource.id)).toEqual([provenance.id]);

      const history = await get(`CarePlan/${plan.id}/_history`);
      expect(history.body.entry.map((e: { resource: CarePlan }) => e.resource.status)).toEqual(['entered-in-error', 'active', 'draft']);
      expect((await get(`CarePlan/${plan.id}/_history/1`)).body.status).toBe('draft');

      // Nothing moves out of entered-in-error, nor is it deleted.
      expect((await put(withStatus(corrected.body as CarePlan, 'active'))).status).toBe(409);
      expect((await request(server.app).delete(`/fhir/CarePlan/${plan.id}`)).status).toBe(409);
    });

    it('a backend client is named by its client id; a completed plan may still be corrected, by PATCH', async () => {
      const plan = await created(ccp(await newPatient(), 'active'));
      expect((await put(withStatus(plan, 'completed'))).status).toBe(200);
      const corrected = await as(BACKEND, {
        method: 'PATCH',
        path: `CarePlan/${plan.id}`,
        headers: { 'content-type': JSON_PATCH },
        body: [
          { op: 'replace', path: '/status', value: 'entered-in-error' },
          { op: 'add', path: '/note', value: [{ text: 'Duplicate of another plan' }] },
        ],
      });
      expect(corrected.status).toBe(200);
      const [provenance] = await provenancesOf(plan.id);
      expect(provenance.target[0]).toEqual({ reference: `CarePlan/${plan.id}/_history/3` });
      expect(provenance.agent[0].who).toEqual({ identifier: { system: 'http://ccp-exchange.org/fhir/sid/client-id', value: 'emr-vendor-1' } });
      expect(provenance.reason?.[0].text).toBe('Duplicate of another plan');
    });
  });

  describe('narrative', () => {
    it('is generated from the content, goals first, everything escaped, in valid XHTML; the client\'s text is replaced', async () => {
      const patient = await newPatient();
      const goal = await created({ resourceType: 'Goal', lifecycleStatus: 'active', description: { text: 'Walk <b>to</b> the "park" & back' }, subject: { reference: `Patient/${patient}` } });
      const second = await created({ resourceType: 'Goal', lifecycleStatus: 'active', description: { coding: [{ system: 'http://snomed.info/sct', code: '1', display: 'Live at home' }] }, subject: { reference: `Patient/${patient}` } });
      const condition = await created({ resourceType: 'Condition', code: { text: 'Heart failure' }, subject: { reference: `Patient/${patient}` } });
      const team = await created({ resourceType: 'CareTeam', name: 'Community team', subject: { reference: `Patient/${patient}` } });
      const plan = await created(
        ccp(patient, 'active', {
          text: { status: 'additional', div: '<div xmlns="http://www.w3.org/1999/xhtml">stale</div>' },
          activity: [{ detail: { status: 'scheduled', description: 'Home visit <script>alert(1)</script>' } }],
          careTeam: [{ reference: `CareTeam/${team.id}` }],
          addresses: [{ reference: `Condition/${condition.id}` }],
          goal: [{ reference: `Goal/${goal.id}` }, { reference: `Goal/${second.id}` }],
          period: { start: '2026-01-05' },
        }),
      );
      const div = plan.text!.div;
      expect(plan.text!.status).toBe('generated');
      expect(div.startsWith('<div xmlns="http://www.w3.org/1999/xhtml">')).toBe(true);
      expect(div).not.toContain('stale');
      expect(div).toContain('Walk &lt;b&gt;to&lt;/b&gt; the &quot;park&quot; &amp; back');
      expect(div).toContain('Home visit &lt;script&gt;alert(1)&lt;/script&gt; (scheduled)');
      const allowed = new Set(['div', 'h3', 'ul', 'li', 'p']);
      expect(tagsOf(div).filter((tag) => !allowed.has(tag))).toEqual([]);

      const order = ['Walk &lt;b&gt;', 'Live at home', 'Heart failure', 'Community team', 'Home visit', 'from 2026-01-05', 'Status: active'].map((text) => div.indexOf(text));
      expect(order.every((at) => at >= 0)).toBe(true);
      expect([...order].sort((a, b) => a - b)).toEqual(order);
      expect(div.indexOf('Walk')).toBeLessThan(div.indexOf('<h3>Health concerns'));
      const stored = (await get(`CarePlan/${plan.id}`)).body;
      // Valid R4, and a conforming CCP CarePlan (the profile the default configuration requires of it).
      expect(() => validateResource({ schema: schemaValidator(), profiles: sharedProfiles(TEST_OPTIONS.requiredProfiles) }, stored, 'CarePlan')).not.toThrow();

      // A patch regenerates it.
      const held = await patch(`CarePlan/${plan.id}`, [{ op: 'replace', path: '/status', value: 'on-hold' }]);
      expect(held.body.text.div).toContain('<p>Status: on-hold</p>');
    });

    it('quotes only the plan\'s own patient\'s records; a reference elsewhere shows its display', async () => {
      const patient = await newPatient();
      const foreign = await created({ resourceType: 'Goal', lifecycleStatus: 'active', description: { text: 'another patient\'s secret goal' }, subject: { reference: `Patient/${await newPatient()}` } });
      const plan = await created(ccp(patient, 'draft', { goal: [{ reference: `Goal/${foreign.id}`, display: 'goal as the writer named it' }, { reference: 'http://elsewhere.test/fhir/Goal/missing' }] }));
      expect(plan.text!.div).not.toContain('secret');
      expect(plan.text!.div).toContain('<li>goal as the writer named it</li><li>http://elsewhere.test/fhir/Goal/missing</li>');
      expect(plan.text!.div).toContain('<h3>Health concerns</h3><p>None recorded.</p>');
    });

    it('in a transaction Bundle, a goal written by an earlier entry is quoted', async () => {
      const patient = await newPatient();
      const goalUrl = `urn:uuid:${randomUUID()}`;
      const bundle: Bundle<FhirResource> = {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          { fullUrl: goalUrl, resource: { resourceType: 'Goal', lifecycleStatus: 'active', description: { text: 'Return to work' }, subject: { reference: `Patient/${patient}` } }, request: { method: 'POST', url: 'Goal' } },
          { resource: ccp(patient, 'draft', { goal: [{ reference: goalUrl }] }), request: { method: 'POST', url: 'CarePlan' } },
        ],
      };
      const res = await request(server.app).post('/fhir').set('Content-Type', FHIR_JSON).send(bundle);
      expect(res.status).toBe(200);
      expect(res.body.entry[1].resource.text.div).toContain('<li>Return to work</li>');
    });
  });

  describe('registrations and overrides are written only through their operations', () => {
    const registration = (patient: string, status: Consent['status'] = 'proposed'): Consent => ({
      resourceType: 'Consent',
      status,
      scope: { coding: [{ system: CONSENT_SCOPE, code: PRIVACY_SCOPE }] },
      category: [{ coding: [{ system: CONSENT_CATEGORY, code: REGISTRATION_CODE }] }],
      patient: { reference: `Patient/${patient}` },
      provision: { type: 'permit', actor: [{ role: { coding: [{ code: 'IRCP' }] }, reference: { reference: 'Organization/partner' } }] },
    });
    const directive = (patient: string): Consent => ({ ...registration(patient, 'active'), category: [{ coding: [{ system: CONSENT_CATEGORY, code: DIRECTIVE_CODE }] }], provision: { type: 'deny' } });
    const override = (patient: string): Consent => ({ ...registration(patient, 'active'), category: [{ coding: [{ system: ACT_CODE, code: OVERRIDE_CODE }] }] });

    it('a user creating a registration or an override gets a 403 naming the operation; the server itself may', async () => {
      const patient = await newPatient();
      const reg = await rejection(as(COORDINATOR, { method: 'POST', path: 'Consent', body: registration(patient) }));
      expect(reg.status).toBe(403);
      expect(reg.issues[0]).toMatchObject({ code: 'forbidden', expression: ['Consent.category'] });
      expect(reg.issues[0].diagnostics).toContain('$ccp-register');
      const over = await rejection(as(BACKEND, { method: 'POST', path: 'Consent', body: override(patient) }));
      expect(over.status).toBe(403);
      expect(over.issues[0].diagnostics).toContain('$override');
      expect(((await rows('Consent')) as Consent[]).filter((c) => c.patient?.reference === `Patient/${patient}`)).toEqual([]);

      expect((await as(UNRESTRICTED, { method: 'POST', path: 'Consent', body: registration(patient) })).status).toBe(201);
      expect((await as(UNRESTRICTED, { method: 'POST', path: 'Consent', body: override(patient) })).status).toBe(201);
      // Directives are ordinary Consents.
      expect((await as(COORDINATOR, { method: 'POST', path: 'Consent', body: directive(patient) })).status).toBe(201);
    });

    it('changing, patching or deleting a registration is a 403 naming the operation for that change', async () => {
      const stored = (await as(UNRESTRICTED, { method: 'POST', path: 'Consent', body: registration(await newPatient()) })).body as Consent;
      const path = `Consent/${stored.id}`;
      const approve = await rejection(as(COORDINATOR, { method: 'PUT', path, body: { ...stored, status: 'active' } }));
      expect(approve.status).toBe(403);
      expect(approve.issues[0].diagnostics).toContain('$approve');
      const reject = await rejection(as(COORDINATOR, { method: 'PATCH', path, headers: { 'content-type': JSON_PATCH }, body: [{ op: 'replace', path: '/status', value: 'rejected' }] }));
      expect(reject.issues[0].diagnostics).toContain('$reject');
      const disengage = await rejection(as(COORDINATOR, { method: 'PUT', path, body: { ...stored, status: 'inactive' } }));
      expect(disengage.issues[0].diagnostics).toContain('$ccp-disengage');
      // Turning it into something else is a change of a registration too.
      const disguised = await rejection(as(COORDINATOR, { method: 'PUT', path, body: { ...stored, category: [{ text: 'other' }] } }));
      expect(disguised.status).toBe(403);
      const deleted = await rejection(as(COORDINATOR, { method: 'DELETE', path }));
      expect(deleted.status).toBe(403);
      expect(deleted.issues[0].diagnostics).toContain('$ccp-disengage');
      expect((await get(path)).body).toEqual(stored);

      expect((await as(UNRESTRICTED, { method: 'PUT', path, body: { ...stored, status: 'active' } })).status).toBe(200);
    });

    it('turning a directive into a registration is a 403, and so is a registration inside a transaction Bundle', async () => {
      const patient = await newPatient();
      const stored = (await as(COORDINATOR, { method: 'POST', path: 'Consent', body: directive(patient) })).body as Consent;
      const turned = await rejection(as(COORDINATOR, { method: 'PUT', path: `Consent/${stored.id}`, body: { ...registration(patient), id: stored.id } }));
      expect(turned.status).toBe(403);
      expect(turned.issues[0].diagnostics).toContain('$ccp-register');

      const bundle: Bundle<FhirResource> = {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          { resource: directive(patient), request: { method: 'POST', url: 'Consent' } },
          { resource: registration(patient), request: { method: 'POST', url: 'Consent' } },
        ],
      };
      const inBundle = await rejection(as(COORDINATOR, { method: 'POST', path: '', body: bundle }));
      expect(inBundle.status).toBe(403);
      expect(inBundle.issues[0].diagnostics).toContain('$ccp-register');
      expect(((await rows('Consent')) as Consent[]).filter((c) => c.patient?.reference === `Patient/${patient}`)).toHaveLength(1);
    });
  });
});
