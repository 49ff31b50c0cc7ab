/**
 * End to end with a real FHIR client: the application listens on a real port and `fhir-kit-client` (v2) talks
 * to it over HTTP, exactly as an outside system would. Expected values come from the FHIR R4 RESTful API
 * specification (http://hl7.org/fhir/R4/http.html), not from what the server happens to answer.
 *
 * The tests of one backend share one private database and run in order: every successful write is recorded
 * in `ledger`, so the history tests at the end can demand exactly those versions (and notice any version a
 * failed write left behind).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  Bundle,
  BundleEntry,
  CapabilityStatement,
  CarePlan,
  OperationOutcome,
  Patient,
} from 'fhir/r4';
import { Client, type FhirResource } from 'fhir-kit-client';
import { BACKENDS, reportBackends } from '../support/backends.js';
import { openTestServer, type TestServer } from '../support/fhir-app.js';
import { r4ResourceTypes } from '../support/r4-spec.js';

reportBackends();

/** The type-level interactions the server must declare for every resource type. */
const TYPE_INTERACTIONS = ['read', 'vread', 'update', 'delete', 'create', 'history-instance', 'history-type'];

/** One version the server was asked to make, in the order it was made. */
interface Written {
  key: string; // Type/id/_history/vid
  resourceType: string;
  method: 'POST' | 'PUT' | 'DELETE';
}

/** What fhir-kit-client throws for a non-2xx answer. */
interface ClientError extends Error {
  response: { status: number; data: unknown };
}

function isClientError(error: unknown): error is ClientError {
  return error instanceof Error && typeof (error as Partial<ClientError>).response?.status === 'number';
}

/** Runs a client call that must fail; returns the HTTP status and the body the client reports. */
async function failure(call: () => Promise<unknown>): Promise<{ status: number; data: unknown }> {
  let result: unknown;
  try {
    result = await call();
  } catch (error) {
    if (!isClientError(error)) throw error;
    return error.response;
  }
  throw new Error(`Expected the request to fail, but it succeeded with ${JSON.stringify(result)}`);
}

/** An OperationOutcome with at least one issue, as every FHIR error response must carry. */
function expectOperationOutcome(data: unknown): OperationOutcome {
  const outcome = data as OperationOutcome;
  expect(outcome.resourceType).toBe('OperationOutcome');
  expect(outcome.issue.length).toBeGreaterThan(0);
  for (const issue of outcome.issue) {
    expect(['fatal', 'error', 'warning', 'information']).toContain(issue.severity);
    expect(typeof issue.code).toBe('string');
  }
  return outcome;
}

/** `W/"3"` → `3` */
function versionOfEtag(etag: string | null | undefined): string | undefined {
  return etag ? /^W\/"([^"]+)"$/.exec(etag)?.[1] : undefined;
}

function httpResponse(result: FhirResource): Response {
  const { response } = Client.httpFor(result);
  if (!response) throw new Error('fhir-kit-client attached no HTTP response');
  return response;
}

/** The version a history entry stands for, by Type/id/_history/vid (from its resource, else its etag). */
function entryKey(entry: BundleEntry): string {
  const url = entry.request?.url ?? '';
  const [type, id] = entry.resource ? [entry.resource.resourceType, entry.resource.id] : url.split('/');
  const version = entry.resource?.meta?.versionId ?? versionOfEtag(entry.response?.etag);
  return `${type}/${id}/_history/${version}`;
}

describe.each(BACKENDS)('fhir-kit-client against a listening server on $name', (backend) => {
  let server: TestServer;
  let listener: Server;
  let baseUrl: string;
  let client: Client;
  const ledger: Written[] = [];

  function record(method: Written['method'], resourceType: string, id: string, versionId: string): void {
    ledger.push({ key: `${resourceType}/${id}/_history/${versionId}`, resourceType, method });
  }

  beforeAll(async () => {
    server = await openTestServer(backend);
    listener = createServer(server.app);
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(0, '127.0.0.1', resolve);
    });
    const { port } = listener.address() as AddressInfo;
    baseUrl = `http://127.0.0.1:${port}/fhir`;
    client = new Client({ baseUrl });
  });

  afterAll(async () => {
    if (listener?.listening) {
      await new Promise<void>((resolve, reject) => {
        listener.close((error) => (error ? reject(error) : resolve()));
        // fetch keeps connections alive: drop them so close() can finish now rather than after their timeout.
        listener.closeAllConnections();
      });
    }
    await server?.close();
  });

  // Shared by the ordered tests below.
  let patient: Patient;
  let patientV2: Patient;
  let carePlan: CarePlan;

  const patientBody: Patient = {
    resourceType: 'Patient',
    active: true,
    name: [{ family: 'Kowalski', given: ['Anna'] }],
    gender: 'female',
    birthDate: '1961-04-12',
  };

  it('reads a CapabilityStatement declaring FHIR 4.0.1 and every interaction for every R4 resource type', async () => {
    const statement = (await client.capabilityStatement()) as unknown as CapabilityStatement;
    expect(statement.resourceType).toBe('CapabilityStatement');
    expect(statement.fhirVersion).toBe('4.0.1');
    expect(['instance', 'capability', 'requirements']).toContain(statement.kind);
    expect(statement.format.some((format) => ['json', 'application/fhir+json'].includes(format))).toBe(true);

    const rest = statement.rest?.find((r) => r.mode === 'server');
    expect(rest).toBeDefined();
    const listed = rest!.resource ?? [];
    const types = listed.map((r) => r.type);
    expect(new Set(types).size).toBe(types.length);
    expect([...types].sort()).toEqual(r4ResourceTypes());
    for (const resource of listed) {
      const codes = (resource.interaction ?? []).map((i) => i.code);
      // Spelled out per type so a failure names the type that lacks an interaction.
      expect({ type: resource.type, codes: [...codes].sort() }).toEqual({
        type: resource.type,
        codes: expect.arrayContaining(TYPE_INTERACTIONS) as unknown as string[],
      });
    }
    expect((rest!.interaction ?? []).map((i) => i.code)).toContain('history-system');
  });

  it('creates a Patient: the server assigns the id and version 1, answers 201 with Location and ETag', async () => {
    const created = (await client.create({ resourceType: 'Patient', body: { ...patientBody } })) as unknown as Patient;
    const response = httpResponse(created as unknown as FhirResource);
    expect(response.status).toBe(201);
    expect(created).toMatchObject(patientBody);
    expect(created.id).toMatch(/^[A-Za-z0-9\-.]{1,64}$/);
    expect(created.meta?.versionId).toBe('1');
    expect(Number.isNaN(Date.parse(created.meta?.lastUpdated ?? ''))).toBe(false);
    expect(response.headers.get('location')).toBe(`${baseUrl}/Patient/${created.id}/_history/1`);
    expect(versionOfEtag(response.headers.get('etag'))).toBe('1');
    patient = created;
    record('POST', 'Patient', created.id!, '1');
  });

  it('creates a CarePlan whose subject references the Patient', async () => {
    const body: CarePlan = {
      resourceType: 'CarePlan',
      status: 'active',
      intent: 'plan',
      title: 'Diabetes self-management',
      subject: { reference: `Patient/${patient.id}` },
    };
    const created = (await client.create({ resourceType: 'CarePlan', body: { ...body } })) as unknown as CarePlan;
    expect(httpResponse(created as unknown as FhirResource).status).toBe(201);
    expect(created).toMatchObject(body);
    expect(created.id).toBeTruthy();
    expect(created.id).not.toBe(patient.id);
    expect(created.meta?.versionId).toBe('1');
    carePlan = created;
    record('POST', 'CarePlan', created.id!, '1');

    const read = (await client.read({ resourceType: 'CarePlan', id: created.id! })) as unknown as CarePlan;
    expect(read.subject).toEqual({ reference: `Patient/${patient.id}` });
  });

  it('reads the Patient back as created, with its ETag', async () => {
    const read = (await client.read({ resourceType: 'Patient', id: patient.id! })) as unknown as Patient;
    expect(read).toEqual(patient);
    const response = httpResponse(read as unknown as FhirResource);
    expect(response.status).toBe(200);
    expect(versionOfEtag(response.headers.get('etag'))).toBe('1');
  });

  it('updates the Patient to version 2; vread returns each version as it was', async () => {
    const changed: Patient = { ...patientBody, id: patient.id, name: [{ family: 'Kowalska', given: ['Anna', 'Maria'] }] };
    const updated = (await client.update({ resourceType: 'Patient', id: patient.id!, body: { ...changed } })) as unknown as Patient;
    const response = httpResponse(updated as unknown as FhirResource);
    expect(response.status).toBe(200);
    expect(updated).toMatchObject(changed);
    expect(updated.meta?.versionId).toBe('2');
    expect(versionOfEtag(response.headers.get('etag'))).toBe('2');
    expect(Date.parse(updated.meta!.lastUpdated!)).toBeGreaterThanOrEqual(Date.parse(patient.meta!.lastUpdated!));
    patientV2 = updated;
    record('PUT', 'Patient', patient.id!, '2');

    const current = (await client.read({ resourceType: 'Patient', id: patient.id! })) as unknown as Patient;
    expect(current).toEqual(updated);

    const v1 = (await client.vread({ resourceType: 'Patient', id: patient.id!, version: '1' })) as unknown as Patient;
    expect(v1).toEqual(patient);
    expect(v1.name).toEqual([{ family: 'Kowalski', given: ['Anna'] }]);
    expect(versionOfEtag(httpResponse(v1 as unknown as FhirResource).headers.get('etag'))).toBe('1');

    const v2 = (await client.vread({ resourceType: 'Patient', id: patient.id!, version: '2' })) as unknown as Patient;
    expect(v2).toEqual(updated);
    expect(v2.name).toEqual([{ family: 'Kowalska', given: ['Anna', 'Maria'] }]);
  });

  it('refuses an update whose If-Match names a stale version: 412 with an OperationOutcome, nothing written', async () => {
    const stale: Patient = { ...patientBody, id: patient.id, gender: 'other' };
    const { status, data } = await failure(() =>
      client.update({ resourceType: 'Patient', id: patient.id!, body: { ...stale }, options: { headers: { 'If-Match': 'W/"1"' } } }),
    );
    expect(status).toBe(412);
    expectOperationOutcome(data);

    const current = (await client.read({ resourceType: 'Patient', id: patient.id! })) as unknown as Patient;
    expect(current).toEqual(patientV2);
  });

  it('accepts an update whose If-Match names the current version', async () => {
    const changed: CarePlan = { ...carePlan, status: 'on-hold' };
    delete changed.meta;
    const updated = (await client.update({
      resourceType: 'CarePlan',
      id: carePlan.id!,
      body: { ...changed },
      options: { headers: { 'If-Match': 'W/"1"' } },
    })) as unknown as CarePlan;
    expect(updated.status).toBe('on-hold');
    expect(updated.meta?.versionId).toBe('2');
    record('PUT', 'CarePlan', carePlan.id!, '2');
  });

  it('answers 404 with an OperationOutcome for an id that was never created', async () => {
    const read = await failure(() => client.read({ resourceType: 'Patient', id: 'no-such-patient-0f3a' }));
    expect(read.status).toBe(404);
    expectOperationOutcome(read.data);

    const vread = await failure(() => client.vread({ resourceType: 'Patient', id: patient.id!, version: '99' }));
    expect(vread.status).toBe(404);
    expectOperationOutcome(vread.data);
  });

  it('rejects an invalid Patient with 400 and an OperationOutcome naming Patient.birthDate', async () => {
    const { status, data } = await failure(() =>
      client.create({ resourceType: 'Patient', body: { resourceType: 'Patient', birthDate: 'not-a-date' } }),
    );
    expect(status).toBe(400);
    const outcome = expectOperationOutcome(data);
    const blamed = outcome.issue.filter((issue) => issue.severity === 'error' || issue.severity === 'fatal');
    expect(blamed.length).toBeGreaterThan(0);
    expect(blamed.flatMap((issue) => issue.expression ?? [])).toContain('Patient.birthDate');
  });

  it('deletes the Patient: read then answers 410 Gone with an OperationOutcome; older versions stay readable', async () => {
    // Not while the CarePlan names it (referential integrity): 409 naming the plan; the plan goes first.
    const referenced = await failure(() => client.delete({ resourceType: 'Patient', id: patient.id! }));
    expect(referenced.status).toBe(409);
    expect(JSON.stringify(referenced.data)).toContain(`CarePlan/${carePlan.id} (CarePlan.subject)`);
    const planDeleted = httpResponse(await client.delete({ resourceType: 'CarePlan', id: carePlan.id! }));
    expect([200, 202, 204]).toContain(planDeleted.status);
    record('DELETE', 'CarePlan', carePlan.id!, '3');

    const deleted = await client.delete({ resourceType: 'Patient', id: patient.id! });
    const response = httpResponse(deleted);
    expect([200, 202, 204]).toContain(response.status);
    if (response.status === 200 && Object.keys(deleted).length) expect(deleted.resourceType).toBe('OperationOutcome');
    const tombstone = versionOfEtag(response.headers.get('etag')) ?? '3';
    expect(tombstone).toBe('3');
    record('DELETE', 'Patient', patient.id!, tombstone);

    const gone = await failure(() => client.read({ resourceType: 'Patient', id: patient.id! }));
    expect(gone.status).toBe(410);
    expectOperationOutcome(gone.data);

    // History is kept: versions before the deletion are still there by vread.
    const v1 = (await client.vread({ resourceType: 'Patient', id: patient.id!, version: '1' })) as unknown as Patient;
    expect(v1).toEqual(patient);
    // "If the version referred to is actually one where the resource was deleted, the server should return 410."
    const deletedVersion = await failure(() => client.vread({ resourceType: 'Patient', id: patient.id!, version: tombstone }));
    expect(deletedVersion.status).toBe(410);
    expectOperationOutcome(deletedVersion.data);
  });

  it('gives the instance history newest first: DELETE, PUT, POST', async () => {
    const bundle = (await client.resourceHistory({ resourceType: 'Patient', id: patient.id! })) as unknown as Bundle;
    expect(bundle.resourceType).toBe('Bundle');
    expect(bundle.type).toBe('history');
    const entries = bundle.entry ?? [];
    expect(entries.map((e) => e.request?.method)).toEqual(['DELETE', 'PUT', 'POST']);
    expect(entries.map((e) => e.request?.url)).toEqual([`Patient/${patient.id}`, `Patient/${patient.id}`, 'Patient']);
    expect(entries.map((e) => versionOfEtag(e.response?.etag))).toEqual(['3', '2', '1']);

    const [deletion, update, creation] = entries;
    expect(deletion.resource).toBeUndefined();
    expect(update.resource).toEqual(patientV2);
    expect(creation.resource).toEqual(patient);
    for (const entry of [update, creation]) expect(entry.fullUrl).toBe(`${baseUrl}/Patient/${patient.id}`);

    // The same through the client's dispatcher.
    const again = (await client.history({ resourceType: 'Patient', id: patient.id! })) as unknown as Bundle;
    expect((again.entry ?? []).map(entryKey)).toEqual(entries.map(entryKey));
  });

  /**
   * Follows `next` links with the client from `first` to the end. Checks every page against the page size and
   * the base URL, and returns the entries in the order the pages gave them.
   */
  async function walk(first: Bundle, pageSize: number): Promise<{ entries: BundleEntry[]; pages: Bundle[] }> {
    const pages: Bundle[] = [];
    let page: Bundle | undefined = first;
    while (page) {
      expect(page.resourceType).toBe('Bundle');
      expect(page.type).toBe('history');
      expect((page.entry ?? []).length).toBeLessThanOrEqual(pageSize);
      for (const link of page.link ?? []) expect(link.url.startsWith(`${baseUrl}/`)).toBe(true);
      pages.push(page);
      if (pages.length > 50) throw new Error('more than 50 pages: the next links do not end');
      const next: Promise<FhirResource> | undefined = client.nextPage({
        bundle: page as unknown as FhirResource & { link: { relation: string; url: string }[] },
      });
      page = next ? ((await next) as unknown as Bundle) : undefined;
    }
    return { entries: pages.flatMap((p) => p.entry ?? []), pages };
  }

  function expectExactly(entries: BundleEntry[], expected: Written[]): void {
    const keys = entries.map(entryKey);
    expect(new Set(keys).size).toBe(keys.length); // no entry repeats
    // Newest first, and exactly the versions written (a failed write must leave none).
    expect(keys).toEqual(expected.map((w) => w.key).reverse());
    expect(entries.map((e) => e.request?.method)).toEqual(expected.map((w) => w.method).reverse());
  }

  it('pages the type history two at a time through the next links, every version once', async () => {
    // More Patient versions, so that paging has several pages to walk.
    for (const family of ['Nowak', 'Wiśniewska', 'Zielińska']) {
      const created = (await client.create({
        resourceType: 'Patient',
        body: { resourceType: 'Patient', name: [{ family }] },
      })) as unknown as Patient;
      record('POST', 'Patient', created.id!, created.meta!.versionId!);
    }
    const expected = ledger.filter((w) => w.resourceType === 'Patient');
    expect(expected.length).toBe(6);

    const first = (await client.request('Patient/_history?_count=2')) as unknown as Bundle;
    const { entries, pages } = await walk(first, 2);
    expect(pages.length).toBe(3);
    expectExactly(entries, expected);

    // Previous from the second page is the first page again.
    const previous = (await client.prevPage({
      bundle: pages[1] as unknown as FhirResource & { link: { relation: string; url: string }[] },
    })) as unknown as Bundle;
    expect((previous.entry ?? []).map(entryKey)).toEqual((pages[0].entry ?? []).map(entryKey));

    // Without _count, the whole (small) history fits on the default page.
    const whole = (await client.typeHistory({ resourceType: 'Patient' })) as unknown as Bundle;
    expectExactly(whole.entry ?? [], expected);
  });

  it('pages the system history two at a time through the next links, every version of every type once', async () => {
    const first = (await client.request('_history?_count=2')) as unknown as Bundle;
    const { entries, pages } = await walk(first, 2);
    expect(pages.length).toBe(Math.ceil(ledger.length / 2));
    expectExactly(entries, ledger);
    expect(new Set(entries.map((e) => e.request?.url?.split('/')[0]))).toEqual(new Set(['Patient', 'CarePlan']));

    const whole = (await client.systemHistory()) as unknown as Bundle;
    expectExactly(whole.entry ?? [], ledger);
  });
});
