import type { Bundle } from 'fhir/r4';
import request from 'supertest';
import { BACKENDS, reportBackends } from '../support/backends.js';
import { openTestServer, type TestServer } from '../support/fhir-app.js';

reportBackends();

/** Hand-made patients; the expected orders below are worked out from this table by hand. */
const PATIENTS = [
  { id: 'p-a', family: 'Adams', birthDate: '1980-05-01', gender: 'female' },
  { id: 'p-b', family: 'Brown', birthDate: '1975', gender: 'male' },
  { id: 'p-c', family: 'Chen', birthDate: undefined, gender: 'female' },
  { id: 'p-d', family: 'Dubois', birthDate: '1990-01-15', gender: 'male' },
  { id: 'p-e', family: 'Évora', birthDate: '1980-05-01', gender: 'male' },
  { id: 'p-f', family: undefined, birthDate: '1960-12-31', gender: 'female' },
];

describe.each(BACKENDS)('_sort on $name', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await openTestServer(backend);
    for (const p of PATIENTS) {
      const body = {
        resourceType: 'Patient',
        id: p.id,
        gender: p.gender,
        ...(p.family ? { name: [{ family: p.family }] } : {}),
        ...(p.birthDate ? { birthDate: p.birthDate } : {}),
      };
      expect((await request(server.app).put(`/fhir/Patient/${p.id}`).set('Content-Type', 'application/fhir+json').send(body)).status).toBe(201);
    }
  });
  afterAll(async () => server?.close());

  const get = async (path: string): Promise<Bundle> => {
    const res = await request(server.app).get(path);
    expect(res.status).toBe(200);
    return res.body as Bundle;
  };
  const order = (bundle: Bundle) => (bundle.entry ?? []).filter((e) => e.search?.mode === 'match').map((e) => e.resource!.id);
  const link = (bundle: Bundle, relation: string) => {
    const url = bundle.link?.find((l) => l.relation === relation)?.url;
    return url ? url.slice(url.indexOf('/fhir/')) : undefined;
  };

  /** Every page, following `next` from the first, then `previous` back from the last. */
  const walk = async (first: string) => {
    const forward = [await get(first)];
    for (let next = link(forward[0], 'next'); next; next = link(forward[forward.length - 1], 'next')) forward.push(await get(next));
    const backward = [forward[forward.length - 1]];
    for (let previous = link(backward[0], 'previous'); previous; previous = link(backward[0], 'previous')) backward.unshift(await get(previous));
    return { forward: forward.flatMap(order), backward: backward.flatMap(order), pages: forward.length };
  };

  it('sorts by a string ignoring case and accents; values missing sort last either way', async () => {
    expect(order(await get('/fhir/Patient?_sort=family'))).toEqual(['p-a', 'p-b', 'p-c', 'p-d', 'p-e', 'p-f']);
    expect(order(await get('/fhir/Patient?_sort=-family'))).toEqual(['p-e', 'p-d', 'p-c', 'p-b', 'p-a', 'p-f']);
  });

  it('sorts by date (start of the span ascending, end descending), ties broken by the next key', async () => {
    // 1975 spans the whole year; 1980-05-01 is shared by p-a and p-e; p-c has no birth date.
    expect(order(await get('/fhir/Patient?_sort=birthdate,family'))).toEqual(['p-f', 'p-b', 'p-a', 'p-e', 'p-d', 'p-c']);
    expect(order(await get('/fhir/Patient?_sort=-birthdate,-family'))).toEqual(['p-d', 'p-e', 'p-a', 'p-b', 'p-f', 'p-c']);
    expect(order(await get('/fhir/Patient?_sort=gender,-birthdate'))).toEqual(['p-a', 'p-f', 'p-c', 'p-d', 'p-e', 'p-b']);
  });

  it('pages through a sorted search with _count=2 forwards and backwards without gaps or repeats', async () => {
    const walked = await walk('/fhir/Patient?_sort=gender,-birthdate&_count=2');
    expect(walked.pages).toBe(3);
    expect(walked.forward).toEqual(['p-a', 'p-f', 'p-c', 'p-d', 'p-e', 'p-b']);
    expect(walked.backward).toEqual(walked.forward);
    const byName = await walk('/fhir/Patient?_sort=-family&_count=4');
    expect(byName.forward).toEqual(['p-e', 'p-d', 'p-c', 'p-b', 'p-a', 'p-f']);
    expect(byName.backward).toEqual(byName.forward);
  });

  it('_sort by _id and _lastUpdated uses the resource row', async () => {
    expect(order(await get('/fhir/Patient?_sort=-_id'))).toEqual(['p-f', 'p-e', 'p-d', 'p-c', 'p-b', 'p-a']);
    // Written in table order, so last updated ascending is the table order.
    expect(order(await get('/fhir/Patient?_sort=_lastUpdated'))).toEqual(PATIENTS.map((p) => p.id));
  });

  it('an unknown or unsortable _sort parameter is a 400', async () => {
    expect((await request(server.app).get('/fhir/Patient?_sort=shoe-size')).status).toBe(400);
    const res = await request(server.app).get('/fhir/Observation?_sort=code-value-quantity');
    expect(res.status).toBe(400);
    expect(res.body.issue[0].expression).toEqual(['_sort']);
  });
});
