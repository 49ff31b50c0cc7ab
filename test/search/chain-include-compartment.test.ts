import type { Bundle } from 'fhir/r4';
import request from 'supertest';
import { BACKENDS, reportBackends } from '../support/backends.js';
import { openTestServer, type TestServer } from '../support/fhir-app.js';

reportBackends();

const FHIR_JSON = 'application/fhir+json';

/**
 * A small hand-made world, so that every expected result below is worked out by reading it:
 *   org1 "Sunnybrook Health" ← pat1 (Müller, female)        org2 "Lakeridge" ← pat2 (Smith, male)
 *   ct1 (subject pat1) ← plan1 (active, pat1, careTeam ct1, goal g1)     plan2 (completed, pat2)
 *   obs1 (pat1, LOINC 8302-2, 180 cm)   obs2 (pat2, LOINC 8302-2, 160 cm)   prov1 (target plan1)
 *   list1 (entries pat2, plan1)
 */
const WORLD = [
  { resourceType: 'Organization', id: 'org1', name: 'Sunnybrook Health' },
  { resourceType: 'Organization', id: 'org2', name: 'Lakeridge' },
  { resourceType: 'Patient', id: 'pat1', name: [{ family: 'Müller' }], gender: 'female', managingOrganization: { reference: 'Organization/org1' } },
  { resourceType: 'Patient', id: 'pat2', name: [{ family: 'Smith' }], gender: 'male', managingOrganization: { reference: 'Organization/org2' } },
  { resourceType: 'CareTeam', id: 'ct1', subject: { reference: 'Patient/pat1' } },
  { resourceType: 'Goal', id: 'g1', lifecycleStatus: 'active', description: { text: 'walk' }, subject: { reference: 'Patient/pat1' } },
  {
    resourceType: 'CarePlan',
    id: 'plan1',
    status: 'active',
    intent: 'plan',
    subject: { reference: 'Patient/pat1' },
    careTeam: [{ reference: 'CareTeam/ct1' }],
    goal: [{ reference: 'Goal/g1' }],
  },
  { resourceType: 'CarePlan', id: 'plan2', status: 'completed', intent: 'plan', subject: { reference: 'Patient/pat2' } },
  ...[
    ['obs1', 'pat1', 180],
    ['obs2', 'pat2', 160],
  ].map(([id, patient, cm]) => ({
    resourceType: 'Observation',
    id,
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '8302-2' }] },
    subject: { reference: `Patient/${patient}` },
    valueQuantity: { value: cm, system: 'http://unitsofmeasure.org', code: 'cm' },
  })),
  { resourceType: 'List', id: 'list1', status: 'current', mode: 'working', entry: [{ item: { reference: 'Patient/pat2' } }, { item: { reference: 'CarePlan/plan1' } }] },
  { resourceType: 'Provenance', id: 'prov1', target: [{ reference: 'CarePlan/plan1' }], recorded: '2024-01-01T00:00:00Z', agent: [{ who: { reference: 'Organization/org1' } }] },
];

describe.each(BACKENDS)('chains, _has, includes and compartments on $name', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await openTestServer(backend);
    for (const resource of WORLD) {
      const res = await request(server.app).put(`/fhir/${resource.resourceType}/${resource.id}`).set('Content-Type', FHIR_JSON).send(resource);
      expect(res.status).toBe(201);
    }
  });
  afterAll(async () => server?.close());

  const search = async (query: string): Promise<Bundle> => {
    const res = await request(server.app).get(`/fhir/${query}`);
    expect(res.status).toBe(200);
    return res.body as Bundle;
  };
  const ids = (bundle: Bundle, mode = 'match') =>
    (bundle.entry ?? []).filter((e) => e.search?.mode === mode).map((e) => `${e.resource!.resourceType}/${e.resource!.id}`).sort();

  it('chains one and two levels deep, with and without a type modifier', async () => {
    expect(ids(await search('CarePlan?subject:Patient.name=muller'))).toEqual(['CarePlan/plan1']);
    expect(ids(await search('CarePlan?subject.gender=male'))).toEqual(['CarePlan/plan2']);
    expect(ids(await search('CarePlan?patient.organization.name=lakeridge'))).toEqual(['CarePlan/plan2']);
    expect(ids(await search('Observation?subject:Patient.organization:Organization.name=sunny'))).toEqual(['Observation/obs1']);
    expect(ids(await search('CarePlan?patient.organization.name=nowhere'))).toEqual([]);
  });

  it('a deleted target no longer satisfies a chain', async () => {
    // Patients refer to org2: deleting it takes DELETE_REFERENCED (the default 409 is test/integrity/'s).
    const lenient = await openTestServer(backend, { deleteReferenced: true }, { db: server.db, close: async () => undefined });
    await request(lenient.app).delete('/fhir/Organization/org2').expect(200);
    expect(ids(await search('CarePlan?patient.organization.name=lakeridge'))).toEqual([]);
    await request(server.app).put('/fhir/Organization/org2').set('Content-Type', FHIR_JSON).send(WORLD[1]);
    expect(ids(await search('CarePlan?patient.organization.name=lakeridge'))).toEqual(['CarePlan/plan2']);
  });

  it('_has finds what is referred to by matching resources, nested too', async () => {
    expect(ids(await search('Patient?_has:Observation:patient:value-quantity=gt170'))).toEqual(['Patient/pat1']);
    expect(ids(await search('Patient?_has:Observation:patient:code=8302-2'))).toEqual(['Patient/pat1', 'Patient/pat2']);
    expect(ids(await search('Patient?_has:CarePlan:subject:status=completed'))).toEqual(['Patient/pat2']);
    expect(ids(await search('Organization?_has:Patient:organization:_has:CarePlan:patient:status=active'))).toEqual(['Organization/org1']);
  });

  it('_include and _revinclude add the referred and referring resources as include entries', async () => {
    const withTeam = await search('CarePlan?_id=plan1&_include=CarePlan:care-team');
    expect(ids(withTeam)).toEqual(['CarePlan/plan1']);
    expect(ids(withTeam, 'include')).toEqual(['CareTeam/ct1']);
    expect(withTeam.total).toBe(1);

    const everything = await search('CarePlan?_id=plan1&_include=CarePlan:*');
    expect(ids(everything, 'include')).toEqual(['CareTeam/ct1', 'Goal/g1', 'Patient/pat1']);

    const typed = await search('CarePlan?_id=plan1&_include=CarePlan:subject:Group');
    expect(ids(typed, 'include')).toEqual([]);

    const provenance = await search('CarePlan?status=active&_revinclude=Provenance:target');
    expect(ids(provenance, 'include')).toEqual(['Provenance/prov1']);
  });

  it(':iterate follows includes from included resources; without it, only from the matches', async () => {
    const once = await search('CarePlan?_id=plan1&_include=CarePlan:subject&_include=Patient:organization');
    expect(ids(once, 'include')).toEqual(['Patient/pat1']);
    const iterated = await search('CarePlan?_id=plan1&_include=CarePlan:subject&_include:iterate=Patient:organization');
    expect(ids(iterated, 'include')).toEqual(['Organization/org1', 'Patient/pat1']);
  });

  it('_include of a non-reference parameter is a 400', async () => {
    const res = await request(server.app).get('/fhir/CarePlan?_include=CarePlan:status');
    expect(res.status).toBe(400);
    expect(res.body.issue[0].expression).toEqual(['_include']);
  });

  it('_list keeps the resources a List names in its entries', async () => {
    expect(ids(await search('Patient?_list=list1'))).toEqual(['Patient/pat2']);
    expect(ids(await search('CarePlan?_list=list1&status=active'))).toEqual(['CarePlan/plan1']);
    expect(ids(await search('Observation?_list=list1'))).toEqual([]);
    expect((await request(server.app).get('/fhir/Patient?_list=$current-allergies')).status).toBe(400);
  });

  it('compartment search: Patient/pat1/CarePlan and Patient/pat1/* by the Patient CompartmentDefinition', async () => {
    expect(ids(await search('Patient/pat1/CarePlan'))).toEqual(['CarePlan/plan1']);
    expect(ids(await search('Patient/pat1/CarePlan?status=completed'))).toEqual([]);
    expect(ids(await search('Patient/pat2/Observation'))).toEqual(['Observation/obs2']);
    // Everything that places itself in pat1's compartment, and pat1 itself.
    expect(ids(await search('Patient/pat1/*'))).toEqual(['CarePlan/plan1', 'CareTeam/ct1', 'Goal/g1', 'Observation/obs1', 'Patient/pat1']);
    expect((await request(server.app).get('/fhir/Patient/pat1/Organization')).status).toBe(404);
    expect((await request(server.app).get('/fhir/Observation/obs1/CarePlan')).status).toBe(404);
  });
});
