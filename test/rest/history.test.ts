import type { Bundle } from 'fhir/r4';
import request from 'supertest';
import { BACKENDS, reportBackends } from '../support/backends.js';
import { openTestServer, type TestServer } from '../support/fhir-app.js';

reportBackends();

const FHIR_JSON = 'application/fhir+json';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(BACKENDS)('history on $name', (backend) => {
  let server: TestServer;
  /** Written in this order: o1 create, o2 create, o1 update, p1 create, o2 delete. */
  const ids: Record<string, string> = {};
  let midpoint: string;

  const post = async (type: string, body: object) =>
    (await request(server.app).post(`/fhir/${type}`).set('Content-Type', FHIR_JSON).send({ resourceType: type, ...body })).body;
  const get = async (path: string): Promise<Bundle> => {
    const res = await request(server.app).get(path);
    expect(res.status).toBe(200);
    return res.body as Bundle;
  };
  const relative = (url: string) => url.slice(url.indexOf('/fhir/'));
  const keys = (bundle: Bundle) => bundle.entry?.map((e) => `${e.request?.method} ${e.fullUrl?.split('/fhir/')[1]} ${e.response?.etag}`) ?? [];

  beforeAll(async () => {
    server = await openTestServer(backend);
    ids.o1 = (await post('Organization', { name: 'One' })).id;
    ids.o2 = (await post('Organization', { name: 'Two' })).id;
    await sleep(20);
    midpoint = new Date().toISOString();
    await sleep(20);
    await request(server.app).put(`/fhir/Organization/${ids.o1}`).set('Content-Type', FHIR_JSON).send({ resourceType: 'Organization', id: ids.o1, name: 'One v2' });
    ids.p1 = (await post('Patient', {})).id;
    await request(server.app).delete(`/fhir/Organization/${ids.o2}`);
  });
  afterAll(async () => server?.close());

  it('type history lists that type only, newest first, deletions as DELETE entries without a resource', async () => {
    const bundle = await get('/fhir/Organization/_history');
    expect(bundle.type).toBe('history');
    expect(keys(bundle)).toEqual([
      `DELETE Organization/${ids.o2} W/"2"`,
      `PUT Organization/${ids.o1} W/"2"`,
      `POST Organization/${ids.o2} W/"1"`,
      `POST Organization/${ids.o1} W/"1"`,
    ]);
    expect(bundle.entry![0].resource).toBeUndefined();
    expect(bundle.entry![1].resource).toMatchObject({ resourceType: 'Organization', name: 'One v2' });
  });

  it('system history includes every type', async () => {
    const bundle = await get('/fhir/_history?_count=1000');
    const mine = keys(bundle).filter((k) => Object.values(ids).some((id) => k.includes(id)));
    expect(mine).toEqual([
      `DELETE Organization/${ids.o2} W/"2"`,
      `POST Patient/${ids.p1} W/"1"`,
      `PUT Organization/${ids.o1} W/"2"`,
      `POST Organization/${ids.o2} W/"1"`,
      `POST Organization/${ids.o1} W/"1"`,
    ]);
  });

  it('_since keeps versions written at or after the instant', async () => {
    const bundle = await get(`/fhir/Organization/_history?_since=${encodeURIComponent(midpoint)}`);
    expect(keys(bundle)).toEqual([`DELETE Organization/${ids.o2} W/"2"`, `PUT Organization/${ids.o1} W/"2"`]);
  });

  it('_at keeps the versions current at that time', async () => {
    const bundle = await get(`/fhir/Organization/_history?_at=${encodeURIComponent(midpoint)}`);
    // At the midpoint both organizations were at version 1.
    expect(keys(bundle)).toEqual([`POST Organization/${ids.o2} W/"1"`, `POST Organization/${ids.o1} W/"1"`]);
    const now = await get(`/fhir/Organization/${ids.o1}/_history?_at=${encodeURIComponent(new Date().toISOString())}`);
    expect(keys(now)).toEqual([`PUT Organization/${ids.o1} W/"2"`]);
  });

  it('bad _since, _at, _count and cursor values are 400s naming the parameter', async () => {
    for (const query of ['_since=2024-01-01', '_since=yesterday', '_at=soon', '_count=0', '_count=-1', '_cursor=xyz']) {
      const res = await request(server.app).get(`/fhir/Organization/_history?${query}`);
      expect(res.status).toBe(400);
      expect(res.body.issue[0].expression[0]).toBe(query.split('=')[0]);
    }
  });

  it('pages with _count through next and back through previous, with stable, complete pages', async () => {
    // Five more versions of one patient, so the instance history has six.
    for (let i = 0; i < 5; i++) {
      await request(server.app).put(`/fhir/Patient/${ids.p1}`).set('Content-Type', FHIR_JSON).send({ resourceType: 'Patient', id: ids.p1, birthDate: `200${i}` });
    }
    const pages: Bundle[] = [await get(`/fhir/Patient/${ids.p1}/_history?_count=4`)];
    expect(pages[0].link?.find((l) => l.relation === 'self')?.url).toMatch(/\/fhir\/Patient\/[^/]+\/_history\?_count=4$/);
    expect(pages[0].link?.find((l) => l.relation === 'previous')).toBeUndefined();
    let next = pages[0].link?.find((l) => l.relation === 'next')?.url;
    while (next) {
      pages.push(await get(relative(next)));
      next = pages[pages.length - 1].link?.find((l) => l.relation === 'next')?.url;
    }
    expect(pages.map((p) => p.entry?.length)).toEqual([4, 2]);
    const versions = pages.flatMap((p) => p.entry!.map((e) => e.response?.etag));
    expect(versions).toEqual(['W/"6"', 'W/"5"', 'W/"4"', 'W/"3"', 'W/"2"', 'W/"1"']);

    // A write after the first page must not shift the pages already handed out.
    await request(server.app).put(`/fhir/Patient/${ids.p1}`).set('Content-Type', FHIR_JSON).send({ resourceType: 'Patient', id: ids.p1 });
    const back = pages[1].link?.find((l) => l.relation === 'previous')?.url;
    expect(back).toBeDefined();
    const previous = await get(relative(back!));
    expect(previous.entry!.map((e) => e.response?.etag)).toEqual(['W/"6"', 'W/"5"', 'W/"4"', 'W/"3"']);
    expect(previous.link?.find((l) => l.relation === 'previous')).toBeUndefined();
  });

  it('history of an unknown resource is an empty bundle; of an unknown type a 404', async () => {
    expect((await get('/fhir/Patient/never-was/_history')).entry).toBeUndefined();
    expect((await request(server.app).get('/fhir/Widget/_history')).status).toBe(404);
  });
});
