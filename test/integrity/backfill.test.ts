import type { Resource } from 'fhir/r4';
import { UNRESTRICTED } from '../../server/access/caller.js';
import { handleFhirRequest } from '../../server/pipeline/fhir-request.js';
import { backfill } from '../../server/store/migrations/006-references.js';
import { BACKENDS, reportBackends } from '../support/backends.js';
import { openTestServer, type TestServer } from '../support/fhir-app.js';
import { rejection } from '../support/thrown.js';

reportBackends();

const BASE = 'https://ccp.example.org/fhir';

/** A database from before `resource_link` existed: its resources' links come from the migration's backfill. */
describe.each(BACKENDS)('references of resources stored before resource_link on $name', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await openTestServer(backend);
  });
  afterAll(async () => server?.close());

  const call = (method: string, path: string, body?: Resource) => handleFhirRequest({ method, path, query: {}, headers: {}, baseUrl: BASE, caller: UNRESTRICTED, body }, server.context);

  it('are found again from their content, so a delete of what they refer to is still refused, naming the element', async () => {
    await call('PUT', 'Patient/old', { resourceType: 'Patient', id: 'old' } as Resource);
    await call('PUT', 'Goal/old-goal', { resourceType: 'Goal', id: 'old-goal', lifecycleStatus: 'active', description: { text: 'x' }, subject: { reference: 'Patient/old' } } as Resource);
    await call('PUT', 'CarePlan/old-plan', { resourceType: 'CarePlan', id: 'old-plan', status: 'active', intent: 'plan', subject: { reference: 'Patient/old' }, goal: [{ reference: 'Goal/old-goal/_history/1' }] } as Resource);
    // As if written before the table: no links at all, then the migration's backfill.
    await server.db.exec('DELETE FROM resource_link');
    await server.db.exec(backfill);
    const links = await server.db.query<{ resource_type: string; param: string; target: string }>(
      "SELECT resource_type, param, target_type || '/' || target_id AS target FROM resource_link ORDER BY resource_type, target",
    );
    expect(links).toEqual([
      { resource_type: 'CarePlan', param: '', target: 'Goal/old-goal' },
      { resource_type: 'CarePlan', param: '', target: 'Patient/old' },
      { resource_type: 'Goal', param: '', target: 'Patient/old' },
    ]);
    const error = await rejection(call('DELETE', 'Goal/old-goal'));
    expect(error.status).toBe(409);
    expect(error.issues[0].diagnostics).toBe('Goal/old-goal cannot be deleted: CarePlan/old-plan (CarePlan.goal[0]) refers to it; remove the reference first');
  });
});
