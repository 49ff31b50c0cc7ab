import type { Bundle } from 'fhir/r4';
import request from 'supertest';
import { BACKENDS, reportBackends } from '../support/backends.js';
import { openTestServer, type TestServer } from '../support/fhir-app.js';

reportBackends();

const CCP_PROFILE = 'http://ccp.example.org/fhir/StructureDefinition/ccp-careplan';
const TAGS = 'http://ccp.example.org/fhir/tags';
const CONFIDENTIALITY = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';

/** meta.tag, meta.security, meta.profile and meta.source, set by hand on three CarePlans. */
const PLANS = [
  { id: 'tagged', meta: { tag: [{ system: TAGS, code: 'ccp' }], profile: [CCP_PROFILE], source: 'http://hospital.example.org/ehr#a1' } },
  { id: 'restricted', meta: { security: [{ system: CONFIDENTIALITY, code: 'R' }], tag: [{ system: TAGS, code: 'other' }] } },
  { id: 'plain', meta: {} },
];

describe.each(BACKENDS)('_tag, _security, _profile and _source on $name', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await openTestServer(backend);
    // The plans' patient.
    expect((await request(server.app).put('/fhir/Patient/x').set('Content-Type', 'application/fhir+json').send({ resourceType: 'Patient', id: 'x' })).status).toBe(201);
    for (const plan of PLANS) {
      const body = { resourceType: 'CarePlan', id: plan.id, status: 'active', intent: 'plan', subject: { reference: 'Patient/x' }, ...(Object.keys(plan.meta).length ? { meta: plan.meta } : {}) };
      expect((await request(server.app).put(`/fhir/CarePlan/${plan.id}`).set('Content-Type', 'application/fhir+json').send(body)).status).toBe(201);
    }
  });
  afterAll(async () => server?.close());

  const ids = async (query: string) => {
    const res = await request(server.app).get(`/fhir/CarePlan?${query}`);
    expect(res.status).toBe(200);
    return ((res.body as Bundle).entry ?? []).filter((e) => e.search?.mode === 'match').map((e) => e.resource!.id).sort();
  };

  it('_tag and _security are tokens on meta', async () => {
    expect(await ids(`_tag=${encodeURIComponent(`${TAGS}|ccp`)}`)).toEqual(['tagged']);
    expect(await ids(`_tag=${encodeURIComponent(`${TAGS}|`)}`)).toEqual(['restricted', 'tagged']);
    expect(await ids(`_security=${encodeURIComponent(`${CONFIDENTIALITY}|R`)}`)).toEqual(['restricted']);
    expect(await ids('_security:missing=true')).toEqual(['plain', 'tagged']);
    expect(await ids(`_tag:not=${encodeURIComponent(`${TAGS}|ccp`)}`)).toEqual(['plain', 'restricted']);
  });

  it('_profile and _source are uris on meta', async () => {
    expect(await ids(`_profile=${encodeURIComponent(CCP_PROFILE)}`)).toEqual(['tagged']);
    expect(await ids(`_profile:below=${encodeURIComponent('http://ccp.example.org/fhir/')}`)).toEqual(['tagged']);
    expect(await ids(`_source=${encodeURIComponent('http://hospital.example.org/ehr#a1')}`)).toEqual(['tagged']);
    expect(await ids('_profile:missing=true')).toEqual(['plain', 'restricted']);
  });
});
