import { UNRESTRICTED } from '../../server/access/caller.js';
import type { Bundle, OperationOutcome, Patient } from 'fhir/r4';
import { handleFhirRequest } from '../../server/pipeline/fhir-request.js';
import type { FhirRequest, FhirResponse } from '../../server/rest/types.js';
import { rejection } from '../support/thrown.js';
import { BACKENDS, reportBackends } from '../support/backends.js';
import { openTestServer, type TestServer } from '../support/fhir-app.js';

reportBackends();

const BASE = 'https://fhir.example.org/fhir';

/** The interactions called as plain functions: no HTTP server anywhere in this file. */
describe.each(BACKENDS)('FHIR interactions without a server, on $name', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await openTestServer(backend);
  });
  afterAll(async () => server?.close());

  const call = (method: string, path: string, init: Partial<FhirRequest> = {}): Promise<FhirResponse> =>
    handleFhirRequest({ method, path, query: {}, headers: {}, baseUrl: BASE, caller: UNRESTRICTED, ...init }, server.context);

  const failure = rejection;

  it('create assigns id, versionId 1 and lastUpdated, ignores a client id, and answers 201 with Location', async () => {
    const before = Date.now();
    const res = await call('POST', 'Patient', { body: { resourceType: 'Patient', id: 'chosen-by-client', active: true } });
    const patient = res.body as Patient;
    expect(res.status).toBe(201);
    expect(patient.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(patient.id).not.toBe('chosen-by-client');
    expect(patient.meta?.versionId).toBe('1');
    expect(Date.parse(patient.meta!.lastUpdated!)).toBeGreaterThanOrEqual(before - 1);
    expect(res.headers?.Location).toBe(`${BASE}/Patient/${patient.id}/_history/1`);
    expect(res.headers?.ETag).toBe('W/"1"');
  });

  it('keeps meta elements other than versionId and lastUpdated', async () => {
    const meta = {
      versionId: '99',
      lastUpdated: '2001-01-01T00:00:00Z',
      profile: ['http://example.org/StructureDefinition/p'],
      tag: [{ system: 'http://example.org/tags', code: 't1' }],
    };
    const res = await call('POST', 'Patient', { body: { resourceType: 'Patient', meta } });
    const patient = res.body as Patient;
    expect(patient.meta?.versionId).toBe('1');
    expect(patient.meta?.lastUpdated).not.toBe(meta.lastUpdated);
    expect(patient.meta?.profile).toEqual(meta.profile);
    expect(patient.meta?.tag).toEqual(meta.tag);
  });

  it('update makes version 2, vread returns each version, read the latest', async () => {
    const created = (await call('POST', 'Patient', { body: { resourceType: 'Patient', gender: 'male' } })).body as Patient;
    const updated = await call('PUT', `Patient/${created.id}`, {
      body: { resourceType: 'Patient', id: created.id, gender: 'female' },
      headers: { 'if-match': 'W/"1"' },
    });
    expect(updated.status).toBe(200);
    expect((updated.body as Patient).meta?.versionId).toBe('2');

    const v1 = (await call('GET', `Patient/${created.id}/_history/1`)).body as Patient;
    const v2 = (await call('GET', `Patient/${created.id}/_history/2`)).body as Patient;
    const current = (await call('GET', `Patient/${created.id}`)).body as Patient;
    expect([v1.gender, v2.gender, current.gender]).toEqual(['male', 'female', 'female']);
    expect(Date.parse(v2.meta!.lastUpdated!)).toBeGreaterThan(Date.parse(v1.meta!.lastUpdated!));
  });

  it('a stale If-Match is a 412 and writes nothing', async () => {
    const created = (await call('POST', 'Patient', { body: { resourceType: 'Patient' } })).body as Patient;
    await call('PUT', `Patient/${created.id}`, { body: { resourceType: 'Patient', id: created.id, active: true } });
    const error = await failure(
      call('PUT', `Patient/${created.id}`, {
        body: { resourceType: 'Patient', id: created.id, active: false },
        headers: { 'if-match': 'W/"1"' },
      }),
    );
    expect(error.status).toBe(412);
    expect(error.outcome.issue[0].code).toBe('conflict');
    const current = (await call('GET', `Patient/${created.id}`)).body as Patient;
    expect(current.meta?.versionId).toBe('2');
    expect(current.active).toBe(true);
  });

  it('update-as-create with a client id answers 201; when disallowed, 405', async () => {
    const res = await call('PUT', 'Patient/client-chosen-1', { body: { resourceType: 'Patient', id: 'client-chosen-1' } });
    expect(res.status).toBe(201);
    expect((res.body as Patient).meta?.versionId).toBe('1');

    const strict = { ...server.context, options: { ...server.context.options, allowUpdateCreate: false } };
    const error = await failure(
      handleFhirRequest(
        { method: 'PUT', path: 'Patient/client-chosen-2', query: {}, headers: {}, baseUrl: BASE, caller: UNRESTRICTED, body: { resourceType: 'Patient', id: 'client-chosen-2' } },
        strict,
      ),
    );
    expect(error.status).toBe(405);
    await expect(call('GET', 'Patient/client-chosen-2')).rejects.toMatchObject({ status: 404 });
  });

  it('update refuses a body whose id differs from the URL, or has none', async () => {
    const mismatch = await failure(call('PUT', 'Patient/abc', { body: { resourceType: 'Patient', id: 'xyz' } }));
    expect(mismatch.status).toBe(400);
    expect(mismatch.issues[0].expression).toEqual(['Patient.id']);
    const missing = await failure(call('PUT', 'Patient/abc', { body: { resourceType: 'Patient' } }));
    expect(missing.status).toBe(400);
  });

  it('resourceType must match the URL', async () => {
    const error = await failure(call('POST', 'Patient', { body: { resourceType: 'Observation', status: 'final', code: { text: 'x' } } }));
    expect(error.status).toBe(400);
    expect(error.issues[0].expression).toEqual(['resourceType']);
  });

  it('delete leaves a tombstone: read is 410, vread of the old version still works, delete again succeeds', async () => {
    const created = (await call('POST', 'Patient', { body: { resourceType: 'Patient' } })).body as Patient;
    const deleted = await call('DELETE', `Patient/${created.id}`);
    expect(deleted.status).toBe(200);
    expect((deleted.body as OperationOutcome).resourceType).toBe('OperationOutcome');
    const gone = await failure(call('GET', `Patient/${created.id}`));
    expect(gone.status).toBe(410);
    expect(gone.issues[0].code).toBe('deleted');
    expect((await call('GET', `Patient/${created.id}/_history/1`)).status).toBe(200);
    const tombstone = await failure(call('GET', `Patient/${created.id}/_history/2`));
    expect(tombstone.status).toBe(410);
    expect((await call('DELETE', `Patient/${created.id}`)).status).toBe(200);
    expect((await call('DELETE', 'Patient/never-existed')).status).toBe(200);
  });

  it('an update after a delete brings the resource back as a new version', async () => {
    const created = (await call('POST', 'Patient', { body: { resourceType: 'Patient' } })).body as Patient;
    await call('DELETE', `Patient/${created.id}`);
    const back = await call('PUT', `Patient/${created.id}`, { body: { resourceType: 'Patient', id: created.id, active: true } });
    expect(back.status).toBe(201);
    expect((back.body as Patient).meta?.versionId).toBe('3');
    expect(((await call('GET', `Patient/${created.id}`)).body as Patient).active).toBe(true);
  });

  it('instance history lists every version newest first, the delete included', async () => {
    const created = (await call('POST', 'Patient', { body: { resourceType: 'Patient' } })).body as Patient;
    await call('PUT', `Patient/${created.id}`, { body: { resourceType: 'Patient', id: created.id, active: true } });
    await call('DELETE', `Patient/${created.id}`);
    const bundle = (await call('GET', `Patient/${created.id}/_history`)).body as Bundle;
    expect(bundle.type).toBe('history');
    expect(bundle.entry?.map((e) => [e.request?.method, e.response?.etag])).toEqual([
      ['DELETE', 'W/"3"'],
      ['PUT', 'W/"2"'],
      ['POST', 'W/"1"'],
    ]);
    expect(bundle.entry?.[0].resource).toBeUndefined();
    expect(bundle.entry?.[2].fullUrl).toBe(`${BASE}/Patient/${created.id}`);
  });

  it('history tells how each version was written: PUT for update-as-create and for a re-create after delete', async () => {
    await call('PUT', 'Patient/history-put-1', { body: { resourceType: 'Patient', id: 'history-put-1' } });
    await call('DELETE', 'Patient/history-put-1');
    await call('PUT', 'Patient/history-put-1', { body: { resourceType: 'Patient', id: 'history-put-1', active: true } });
    await call('PUT', 'Patient/history-put-1', { body: { resourceType: 'Patient', id: 'history-put-1', active: false } });
    const bundle = (await call('GET', 'Patient/history-put-1/_history')).body as Bundle;
    expect(bundle.entry?.map((e) => [e.request?.method, e.request?.url, e.response?.status])).toEqual([
      ['PUT', 'Patient/history-put-1', '200 OK'],
      ['PUT', 'Patient/history-put-1', '201 Created'],
      ['DELETE', 'Patient/history-put-1', '200 OK'],
      ['PUT', 'Patient/history-put-1', '201 Created'],
    ]);
  });

  it('If-Match on a resource that does not exist is a 412, for update and delete alike', async () => {
    const headers = { 'if-match': 'W/"1"' };
    const update = await failure(call('PUT', 'Patient/no-such-one', { body: { resourceType: 'Patient', id: 'no-such-one' }, headers }));
    expect(update.status).toBe(412);
    expect((await failure(call('DELETE', 'Patient/no-such-one', { headers }))).status).toBe(412);
    await expect(call('GET', 'Patient/no-such-one')).rejects.toMatchObject({ status: 404 });
  });

  it('unknown types are 404, unsupported methods 405 with Allow, invalid ids on write 400', async () => {
    expect((await failure(call('GET', 'Nonsense/1'))).status).toBe(404);
    const notAllowed = await failure(call('POST', 'Patient/123'));
    expect(notAllowed.status).toBe(405);
    expect(notAllowed.headers.Allow).toContain('GET');
    expect((await failure(call('PUT', 'Patient/bad_id!', { body: { resourceType: 'Patient', id: 'bad_id!' } }))).status).toBe(400);
    expect((await failure(call('GET', 'Patient/bad_id!'))).status).toBe(404);
  });
});
