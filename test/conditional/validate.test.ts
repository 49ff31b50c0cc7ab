import request from 'supertest';
import { BACKENDS, reportBackends } from '../support/backends.js';
import { openTestServer, type TestServer } from '../support/fhir-app.js';

reportBackends();

const FHIR_JSON = 'application/fhir+json';

describe.each(BACKENDS)('$validate on $name', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await openTestServer(backend);
  });
  afterAll(async () => server?.close());

  const post = (path: string, body: object) => request(server.app).post(`/fhir/${path}`).set('Content-Type', FHIR_JSON).send(body);
  const codes = (res: request.Response) => res.body.issue.map((i: { severity: string }) => i.severity);
  // The audit trail records the $validate request itself (server/audit); what must not change is the data.
  const resources = async () => (await server.db.query<{ n: number }>("SELECT count(*)::int AS n FROM resource WHERE resource_type <> 'AuditEvent'"))[0].n;

  it('a valid resource: 200 with an informational outcome, and nothing is written', async () => {
    const before = await resources();
    const res = await post('Patient/$validate', { resourceType: 'Patient', gender: 'female' });
    expect(res.status).toBe(200);
    expect(res.body.resourceType).toBe('OperationOutcome');
    // dom-6 (a resource should have a narrative) is a warning of R4's DomainResource: reported, not an error.
    expect(res.body.issue.map((i: { severity: string; diagnostics: string }) => `${i.severity} ${i.diagnostics.slice(0, 6)}`)).toEqual(['warning dom-6:', 'information Valid ']);
    expect(await resources()).toBe(before);
  });

  it('an invalid resource: 200 with the same errors a create would give, naming the elements', async () => {
    const res = await post('Patient/$validate', { resourceType: 'Patient', birthDate: 'soon', colour: 'blue' });
    expect(res.status).toBe(200);
    const errors = res.body.issue.filter((i: { severity: string }) => i.severity === 'error');
    expect(errors.flatMap((i: { expression?: string[] }) => i.expression ?? []).sort()).toEqual(['Patient.birthDate', 'Patient.colour']);
    const created = await post('Patient', { resourceType: 'Patient', birthDate: 'soon', colour: 'blue' });
    expect([created.status, created.body.issue.map((i: { diagnostics: string }) => i.diagnostics)]).toEqual([400, errors.map((i: { diagnostics: string }) => i.diagnostics)]);
    // The whole base definition is applied, so its warnings come too (dom-6: a resource should have a narrative).
    expect(codes(res).filter((s: string) => s !== 'error')).toEqual(['warning']);
  });

  it('Parameters with resource, mode and profile; mode=update needs a matching id; mode=delete checks existence', async () => {
    const parameters = (resource: object, mode: string, profile?: string) => ({
      resourceType: 'Parameters',
      parameter: [
        { name: 'resource', resource },
        { name: 'mode', valueCode: mode },
        ...(profile ? [{ name: 'profile', valueUri: profile }] : []),
      ],
    });
    const okUpdate = await post('Patient/p1/$validate', parameters({ resourceType: 'Patient', id: 'p1' }, 'update'));
    expect(codes(okUpdate)).toEqual(['warning', 'information']);
    const badUpdate = await post('Patient/p1/$validate', parameters({ resourceType: 'Patient', id: 'p2' }, 'update'));
    expect(badUpdate.body.issue.filter((i: { severity: string }) => i.severity === 'error').map((i: { expression: string[] }) => i.expression)).toEqual([['Patient.id']]);

    const missing = await post('Patient/nobody/$validate', parameters({ resourceType: 'Patient' }, 'delete'));
    expect(missing.body.issue[0].code).toBe('not-found');
    const created = await post('Patient', { resourceType: 'Patient' });
    const present = await post(`Patient/${created.body.id}/$validate?mode=delete`, { resourceType: 'Patient' });
    expect(codes(present)).toEqual(['information']);

    const profiled = await post('Patient/$validate', parameters({ resourceType: 'Patient' }, 'create', 'http://example.org/StructureDefinition/other'));
    // A profile asked for by name that the server does not hold: the resource cannot be said to conform.
    expect(profiled.body.issue.map((i: { severity: string; code: string }) => `${i.severity} ${i.code}`)).toEqual(['error not-supported']);
  });

  it('a bad mode, or no resource, is a 400', async () => {
    expect((await post('Patient/$validate?mode=destroy', { resourceType: 'Patient' })).status).toBe(400);
    expect((await post('Patient/$validate', { resourceType: 'Parameters', parameter: [{ name: 'mode', valueCode: 'create' }] })).status).toBe(400);
  });
});
