import type { CapabilityStatement, Parameters, Resource, ValueSet } from 'fhir/r4';
import request from 'supertest';
import { ANONYMOUS, type Caller } from '../../server/access/caller.js';
import { parseResourceScope } from '../../server/access/scopes.js';
import { seedGuide } from '../../server/store/guide-seed.js';
import { handleFhirRequest } from '../../server/pipeline/fhir-request.js';
import { R4_REGISTRY } from '../../server/search/registry.js';
import { BACKENDS, reportBackends } from '../support/backends.js';
import { openTestServer, type TestServer } from '../support/fhir-app.js';
import { rejection } from '../support/thrown.js';

reportBackends();

const FHIR_JSON = 'application/fhir+json';
const GENDER_VS = 'http://hl7.org/fhir/ValueSet/administrative-gender';
const GENDER = 'http://hl7.org/fhir/administrative-gender';

/** A Parameters body; with no parameter it has no `parameter` array (FHIR JSON forbids empty arrays). */
const parameters = (...parameter: Parameters['parameter'] & object) => ({ resourceType: 'Parameters', ...(parameter.length ? { parameter } : {}) });
const output = (body: Parameters, name: string) => body.parameter?.find((p) => p.name === name);
const codes = (body: ValueSet) => (body.expansion?.contains ?? []).map((c) => c.code);

describe.each(BACKENDS)('terminology operations over HTTP on $name', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await openTestServer(backend);
    await seedGuide(server.context.store, R4_REGISTRY);
  });
  afterAll(async () => server?.close());

  const get = (path: string) => request(server.app).get(`/fhir/${path}`);
  const post = (path: string, body: object) => request(server.app).post(`/fhir/${path}`).set('Content-Type', FHIR_JSON).send(body);
  const diagnostics = (res: request.Response) => res.body.issue?.map((i: { diagnostics: string }) => i.diagnostics).join(' ');

  describe('$expand', () => {
    it('GET ValueSet/$expand?url=… : the expansion of a core ValueSet', async () => {
      const res = await get(`ValueSet/$expand?url=${encodeURIComponent(GENDER_VS)}`);
      expect(res.status).toBe(200);
      expect(res.body.resourceType).toBe('ValueSet');
      expect(codes(res.body)).toEqual(['male', 'female', 'other', 'unknown']);
      expect(res.body.expansion.total).toBe(4);
    });

    it('filter, count and offset as query parameters page through the expansion', async () => {
      const url = encodeURIComponent('http://terminology.hl7.org/ValueSet/v3-ActEncounterCode');
      const page = await get(`ValueSet/$expand?url=${url}&filter=inpat&count=2&offset=1`);
      expect(page.status).toBe(200);
      expect(page.body.expansion).toMatchObject({ total: 3, offset: 1 });
      expect(page.body.expansion.contains).toHaveLength(2);
    });

    it('POST with a ValueSet in the Parameters (valueSet) expands it', async () => {
      const valueSet = { resourceType: 'ValueSet', status: 'draft', compose: { include: [{ system: GENDER, concept: [{ code: 'female' }, { code: 'male' }] }] } };
      const res = await post('ValueSet/$expand', parameters({ name: 'valueSet', resource: valueSet as ValueSet }));
      expect(res.status).toBe(200);
      expect(codes(res.body)).toEqual(['female', 'male']);
    });

    it('ValueSet/[id]/$expand expands the stored ValueSet: the guide\'s, seeded, and one a client wrote', async () => {
      const guide = await get('ValueSet/override-reason/$expand');
      expect(guide.status).toBe(200);
      expect(codes(guide.body)).toEqual(expect.arrayContaining(['patient-consent', 'risk-of-harm']));
      const own = { resourceType: 'ValueSet', id: 'clinic-genders', url: 'http://example.org/fhir/ValueSet/clinic-genders', status: 'active', compose: { include: [{ system: GENDER, concept: [{ code: 'other' }] }] } };
      expect((await request(server.app).put('/fhir/ValueSet/clinic-genders').set('Content-Type', FHIR_JSON).send(own)).status).toBe(201);
      expect(codes((await post('ValueSet/clinic-genders/$expand', parameters())).body)).toEqual(['other']);
      // By URL too: the definitions do not hold it, the store does.
      expect(codes((await get(`ValueSet/$expand?url=${encodeURIComponent(own.url)}`)).body)).toEqual(['other']);
    });

    it('404 for an unknown ValueSet (URL or id), 422 not-supported for one drawing on SNOMED CT', async () => {
      const unknown = await get(`ValueSet/$expand?url=${encodeURIComponent('http://example.org/ValueSet/none')}`);
      expect(unknown.status).toBe(404);
      expect(unknown.body.resourceType).toBe('OperationOutcome');
      expect((await get('ValueSet/no-such-set/$expand')).status).toBe(404);
      const snomed = await get(`ValueSet/$expand?url=${encodeURIComponent('http://hl7.org/fhir/ValueSet/clinical-findings')}`);
      expect(snomed.status).toBe(422);
      expect(snomed.body.issue[0].code).toBe('not-supported');
      expect(diagnostics(snomed)).toContain('http://snomed.info/sct');
    });

    it('400 for bad input, naming the parameter', async () => {
      const none = await get('ValueSet/$expand');
      expect(none.status).toBe(400);
      expect(none.body.issue[0].expression).toEqual(['url', 'valueSet']);
      const count = await get(`ValueSet/$expand?url=${encodeURIComponent(GENDER_VS)}&count=-1`);
      expect(count.status).toBe(400);
      expect(count.body.issue[0].expression).toEqual(['count']);
      const active = await post('ValueSet/$expand', parameters({ name: 'url', valueUri: GENDER_VS }, { name: 'activeOnly', valueString: 'yes' }));
      expect(active.status).toBe(400);
      expect(active.body.issue[0].expression).toEqual(["Parameters.parameter.where(name='activeOnly')"]);
      const notParameters = await post('ValueSet/$expand', { resourceType: 'ValueSet', status: 'draft' });
      expect(notParameters.status).toBe(400);
      // A posted ValueSet that is not valid R4 (a system must be a uri string, a compose's valueSet a list) is
      // refused before expansion, naming the element, not expanded as it happens to parse.
      for (const include of [{ system: 5 }, { valueSet: 'http://example.org/fhir/ValueSet/x' }]) {
        const malformed = await post('ValueSet/$expand', parameters({ name: 'valueSet', resource: { resourceType: 'ValueSet', status: 'draft', compose: { include: [include] } } as unknown as Resource }));
        expect(malformed.status).toBe(400);
        expect(malformed.body.issue[0].expression[0]).toContain('compose.include[0]');
      }
    });

    it('$expand is a ValueSet operation: on another type it is not found', async () => {
      expect((await get('Patient/$expand')).status).toBe(404);
    });
  });

  describe('$validate-code', () => {
    it('ValueSet: true with the display, false with a message, by GET and by POST with a coding or codeableConcept', async () => {
      const yes = await get(`ValueSet/$validate-code?url=${encodeURIComponent(GENDER_VS)}&system=${encodeURIComponent(GENDER)}&code=female`);
      expect(yes.status).toBe(200);
      expect(output(yes.body, 'result')?.valueBoolean).toBe(true);
      expect(output(yes.body, 'display')?.valueString).toBe('Female');
      const no = await post('ValueSet/$validate-code', parameters({ name: 'url', valueUri: GENDER_VS }, { name: 'coding', valueCoding: { system: GENDER, code: 'woman' } }));
      expect(output(no.body, 'result')?.valueBoolean).toBe(false);
      expect(output(no.body, 'message')?.valueString).toContain('woman');
      const concept = await post(
        'ValueSet/$validate-code',
        parameters({ name: 'url', valueUri: GENDER_VS }, { name: 'codeableConcept', valueCodeableConcept: { coding: [{ system: 'http://example.org/x', code: 'x' }, { system: GENDER, code: 'male' }] } }),
      );
      expect(output(concept.body, 'result')?.valueBoolean).toBe(true);
    });

    it('ValueSet: a wrong display is valid with a warning message; abstract codes only with abstract=true', async () => {
      const display = await get(`ValueSet/$validate-code?url=${encodeURIComponent(GENDER_VS)}&system=${encodeURIComponent(GENDER)}&code=male&display=Man`);
      expect(output(display.body, 'result')?.valueBoolean).toBe(true);
      expect(output(display.body, 'message')?.valueString).toContain('Man');
      const actCode = `url=${encodeURIComponent('http://terminology.hl7.org/ValueSet/v3-ActCode')}&system=${encodeURIComponent('http://terminology.hl7.org/CodeSystem/v3-ActCode')}&code=_ActEncounterCode`;
      expect(output((await get(`ValueSet/$validate-code?${actCode}`)).body, 'result')?.valueBoolean).toBe(false);
      expect(output((await get(`ValueSet/$validate-code?${actCode}&abstract=true`)).body, 'result')?.valueBoolean).toBe(true);
    });

    it('ValueSet/[id]/$validate-code checks against the stored ValueSet', async () => {
      const res = await get(`ValueSet/override-reason/$validate-code?system=${encodeURIComponent('http://ccp-exchange.org/fhir/CodeSystem/override-reason')}&code=risk-of-harm`);
      expect(output(res.body, 'result')?.valueBoolean).toBe(true);
    });

    it('CodeSystem: by url (or system) and code, and on a stored instance', async () => {
      const yes = await get(`CodeSystem/$validate-code?url=${encodeURIComponent(GENDER)}&code=other`);
      expect(output(yes.body, 'result')?.valueBoolean).toBe(true);
      const no = await get(`CodeSystem/$validate-code?system=${encodeURIComponent(GENDER)}&code=nobody`);
      expect(output(no.body, 'result')?.valueBoolean).toBe(false);
      const stored = await get('CodeSystem/override-reason/$validate-code?code=patient-consent');
      expect(output(stored.body, 'result')?.valueBoolean).toBe(true);
    });

    it('400 when code, coding and codeableConcept are missing or several, when a code has no system, or display has no code', async () => {
      const url = `url=${encodeURIComponent(GENDER_VS)}`;
      const none = await get(`ValueSet/$validate-code?${url}`);
      expect(none.status).toBe(400);
      expect(none.body.issue[0].expression).toEqual(['code', 'coding', 'codeableConcept']);
      const both = await post('ValueSet/$validate-code', parameters({ name: 'url', valueUri: GENDER_VS }, { name: 'code', valueCode: 'male' }, { name: 'coding', valueCoding: { system: GENDER, code: 'male' } }));
      expect(both.status).toBe(400);
      const noSystem = await get(`ValueSet/$validate-code?${url}&code=male`);
      expect(noSystem.status).toBe(400);
      expect(noSystem.body.issue[0].expression).toEqual(['system']);
      const displayAlone = await post('ValueSet/$validate-code', parameters({ name: 'url', valueUri: GENDER_VS }, { name: 'coding', valueCoding: { system: GENDER, code: 'male' } }, { name: 'display', valueString: 'Male' }));
      expect(displayAlone.status).toBe(400);
      expect(displayAlone.body.issue[0].expression).toEqual(['display']);
      const twice = await get(`ValueSet/$validate-code?${url}&${url}&system=${encodeURIComponent(GENDER)}&code=male`);
      expect(twice.status).toBe(400);
      expect(twice.body.issue[0].expression).toEqual(['url']);
    });

    it('404 for an unknown ValueSet or CodeSystem; 422 when the answer depends on SNOMED CT', async () => {
      expect((await get(`ValueSet/$validate-code?url=${encodeURIComponent('http://example.org/ValueSet/none')}&system=${encodeURIComponent(GENDER)}&code=male`)).status).toBe(404);
      expect((await get(`CodeSystem/$validate-code?url=${encodeURIComponent('http://example.org/CodeSystem/none')}&code=x`)).status).toBe(404);
      const snomed = await get(`ValueSet/$validate-code?url=${encodeURIComponent('http://hl7.org/fhir/ValueSet/clinical-findings')}&system=${encodeURIComponent('http://snomed.info/sct')}&code=404684003`);
      expect(snomed.status).toBe(422);
      expect(snomed.body.issue[0].code).toBe('not-supported');
    });
  });

  describe('$lookup and $subsumes', () => {
    it('$lookup: name, version, display and the definition as a property', async () => {
      const res = await get(`CodeSystem/$lookup?system=${encodeURIComponent('http://terminology.hl7.org/CodeSystem/condition-clinical')}&code=relapse`);
      expect(res.status).toBe(200);
      expect(output(res.body, 'name')?.valueString).toBe('Condition Clinical Status Codes');
      expect(output(res.body, 'display')?.valueString).toBe('Relapse');
      const props = (res.body as Parameters).parameter!.filter((p) => p.name === 'property').map((p) => [p.part![0].valueCode, p.part![1]]);
      expect(props.find(([code]) => code === 'definition')?.[1]).toMatchObject({ valueString: expect.stringMatching(/^The subject is experiencing a return of a condition/) });
      expect(props.find(([code]) => code === 'parent')?.[1]).toMatchObject({ valueCode: 'active' });
    });

    it('$lookup by POST with a coding and property limits', async () => {
      const res = await post('CodeSystem/$lookup', parameters({ name: 'coding', valueCoding: { system: GENDER, code: 'female' } }, { name: 'property', valueCode: 'definition' }));
      expect(res.status).toBe(200);
      expect(output(res.body, 'display')?.valueString).toBe('Female');
      expect((res.body as Parameters).parameter!.filter((p) => p.name === 'property')).toHaveLength(1);
    });

    it('$lookup: 400 without a system, 404 for an unknown code or code system', async () => {
      const noSystem = await get('CodeSystem/$lookup?code=male');
      expect(noSystem.status).toBe(400);
      expect(noSystem.body.issue[0].expression).toEqual(['system']);
      expect((await get(`CodeSystem/$lookup?system=${encodeURIComponent(GENDER)}&code=nobody`)).status).toBe(404);
      expect((await get(`CodeSystem/$lookup?system=${encodeURIComponent('http://loinc.org')}&code=1234-5`)).status).toBe(404);
    });

    it('$subsumes over the hierarchy', async () => {
      const res = await get(`CodeSystem/$subsumes?system=${encodeURIComponent('http://terminology.hl7.org/CodeSystem/condition-clinical')}&codeA=inactive&codeB=resolved`);
      expect(output(res.body, 'outcome')?.valueCode).toBe('subsumes');
    });
  });

  describe('access and the CapabilityStatement', () => {
    const call = (caller: Caller, path: string, query: Record<string, string[]>) =>
      handleFhirRequest({ method: 'GET', path, query, headers: {}, baseUrl: 'http://localhost/fhir', caller }, server.context);

    it('no token: 401; any valid token may read terminology (definitions are open to every authenticated caller)', async () => {
      expect((await rejection(call(ANONYMOUS, 'ValueSet/$expand', { url: [GENDER_VS] }))).status).toBe(401);
      const backend: Caller = { kind: 'system', clientId: 'lab', scopes: [parseResourceScope('system/Observation.rs')!] };
      const res = await call(backend, 'ValueSet/$expand', { url: [GENDER_VS] });
      expect(res.status).toBe(200);
      expect(codes(res.body as ValueSet)).toHaveLength(4);
    });

    it('the CapabilityStatement lists the operations with their official definitions', async () => {
      const statement = (await get('metadata')).body as CapabilityStatement;
      const operations = (type: string) => statement.rest![0].resource!.find((r) => r.type === type)!.operation!;
      expect(operations('ValueSet')).toEqual(
        expect.arrayContaining([
          { name: 'expand', definition: 'http://hl7.org/fhir/OperationDefinition/ValueSet-expand' },
          { name: 'validate-code', definition: 'http://hl7.org/fhir/OperationDefinition/ValueSet-validate-code' },
        ]),
      );
      expect(operations('CodeSystem')).toEqual(
        expect.arrayContaining([
          { name: 'lookup', definition: 'http://hl7.org/fhir/OperationDefinition/CodeSystem-lookup' },
          { name: 'validate-code', definition: 'http://hl7.org/fhir/OperationDefinition/CodeSystem-validate-code' },
          { name: 'subsumes', definition: 'http://hl7.org/fhir/OperationDefinition/CodeSystem-subsumes' },
        ]),
      );
      expect(operations('Patient').map((o) => o.name)).not.toContain('expand');
    });
  });
});
