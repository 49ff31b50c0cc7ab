import request from 'supertest';
import { BACKENDS, reportBackends } from './support/backends.js';
import { openTestServer, type TestServer } from './support/fhir-app.js';

reportBackends();

describe.each(BACKENDS)('smoke on $name', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await openTestServer(backend);
  });
  afterAll(async () => server?.close());

  it('creates and reads a Patient', async () => {
    const created = await request(server.app)
      .post('/fhir/Patient')
      .set('Content-Type', 'application/fhir+json')
      .send({ resourceType: 'Patient', name: [{ family: 'Doe' }] });
    expect(created.status).toBe(201);
    const read = await request(server.app).get(`/fhir/Patient/${created.body.id}`);
    expect(read.status).toBe(200);
    expect(read.body.name).toEqual([{ family: 'Doe' }]);
  });
});
