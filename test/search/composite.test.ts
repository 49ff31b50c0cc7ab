import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Bundle } from 'fhir/r4';
import request from 'supertest';
import { BACKENDS, reportBackends } from '../support/backends.js';
import { openTestServer, type TestServer } from '../support/fhir-app.js';

reportBackends();

const require = createRequire(import.meta.url);
const EXAMPLES = path.dirname(require.resolve('hl7.fhir.r4.examples/package.json'));
const example = (file: string) => JSON.parse(readFileSync(path.join(EXAMPLES, file), 'utf8')) as { resourceType: string; id: string };

/**
 * Observation-blood-pressure has two components: systolic 8480-6 = 107 mm[Hg] and diastolic 8462-4 = 60 mm[Hg].
 * Observation-example is a body weight (LOINC 29463-7) of 185 [lb_av]. Read from the official example files.
 */
describe.each(BACKENDS)('composite parameters on $name', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    // Referential integrity off: the two official examples name Patient/example and others not stored here; what
    // is tested is composite search (test/integrity/ tests the check).
    server = await openTestServer(backend, { referentialIntegrity: false });
    for (const file of ['Observation-blood-pressure.json', 'Observation-example.json']) {
      const resource = example(file);
      const res = await request(server.app).put(`/fhir/Observation/${resource.id}`).set('Content-Type', 'application/fhir+json').send(resource);
      expect(res.status).toBe(201);
    }
  });
  afterAll(async () => server?.close());

  const ids = async (query: string) => {
    const res = await request(server.app).get(`/fhir/Observation?${query}`);
    expect(res.status).toBe(200);
    return ((res.body as Bundle).entry ?? []).filter((e) => e.search?.mode === 'match').map((e) => e.resource!.id);
  };

  it('component-code-value-quantity pairs a component code with that same component value', async () => {
    expect(await ids('component-code-value-quantity=http://loinc.org|8480-6$gt100')).toEqual(['blood-pressure']);
    // 60 belongs to the diastolic component: it must not pair with the systolic code.
    expect(await ids('component-code-value-quantity=http://loinc.org|8480-6$lt100')).toEqual([]);
    expect(await ids('component-code-value-quantity=http://loinc.org|8462-4$lt100')).toEqual(['blood-pressure']);
    expect(await ids('component-code-value-quantity=8462-4$60|http://unitsofmeasure.org|mm[Hg]')).toEqual(['blood-pressure']);
    expect(await ids('component-code-value-quantity=8462-4$60|http://unitsofmeasure.org|kg')).toEqual([]);
  });

  it('code-value-quantity on the Observation itself, and OR across comma-separated pairs', async () => {
    expect(await ids('code-value-quantity=http://loinc.org|29463-7$185|http://unitsofmeasure.org|[lb_av]')).toEqual(['example']);
    expect(await ids('code-value-quantity=http://loinc.org|29463-7$ge200')).toEqual([]);
    const either = await ids('component-code-value-quantity=8480-6$107,8462-4$61');
    expect(either).toEqual(['blood-pressure']);
  });

  it('a composite value with the wrong number of parts is a 400; :missing works', async () => {
    const res = await request(server.app).get('/fhir/Observation?component-code-value-quantity=8480-6');
    expect(res.status).toBe(400);
    expect(res.body.issue[0].expression).toEqual(['component-code-value-quantity']);
    expect((await ids('component-code-value-quantity:missing=true')).sort()).toEqual(['example']);
  });
});
