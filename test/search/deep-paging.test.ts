import type { Bundle, Observation } from 'fhir/r4';
import request from 'supertest';
import { BACKENDS, reportBackends } from '../support/backends.js';
import { openTestServer, type TestServer } from '../support/fhir-app.js';

reportBackends();

const MATCHES = 5000;
const CODE = 'http://loinc.org|29463-7';
/** Resources per createMany statement when seeding (an import's transaction holds up to 500). */
const SEED_BATCH = 500;

const observation = (i: number): Observation => ({
  resourceType: 'Observation',
  status: 'final',
  code: { coding: [{ system: 'http://loinc.org', code: '29463-7' }] },
  valueQuantity: { value: 50 + (i % 100), system: 'http://unitsofmeasure.org', code: 'kg' },
});

/**
 * A 5,000-result search walked to the end through its `next` links while other writers update matching
 * resources and create new ones: no entry twice, and every resource that matched at the start and still matches
 * is on some page (R4 leaves newcomers to the server; here they may appear, never twice).
 */
describe.each(BACKENDS)('walking a 5,000-result search during writes on $name', (backend) => {
  let server: TestServer;
  const initial: string[] = [];
  beforeAll(async () => {
    server = await openTestServer(backend);
    // Through the store, not HTTP: the load is not what is tested. createMany writes the rows and index rows that
    // create does (create is createMany of one), SEED_BATCH to a statement instead of one: 5,200 round trips and
    // commits were most of the suite's time. Noise that must never appear is mixed in: same type, other code.
    const seed: Observation[] = [];
    for (let i = 0; i < MATCHES; i++) {
      seed.push(observation(i));
      if (i % 25 === 0) seed.push({ ...observation(i), code: { text: 'other' } });
    }
    const matching = new Set<string>();
    for (let at = 0; at < seed.length; at += SEED_BATCH) {
      const stored = await server.context.store.createMany(seed.slice(at, at + SEED_BATCH).map((resource) => ({ resource })));
      for (const resource of stored as Observation[]) if (resource.code.coding) matching.add(resource.id!);
    }
    // In the search's order (storage order): the walk updates matches just behind it and just ahead of it.
    const rows = await server.db.query<{ id: string }>("SELECT id FROM resource WHERE resource_type = 'Observation' ORDER BY rid");
    initial.push(...rows.map((row) => row.id).filter((id) => matching.has(id)));
    expect(initial).toHaveLength(MATCHES);
  }, 300_000);
  afterAll(async () => server?.close());

  it('has no duplicate and misses nothing', async () => {
    const seen: string[] = [];
    let url: string | undefined = `/fhir/Observation?code=${encodeURIComponent(CODE)}&_count=50`;
    let pages = 0;
    let total: number | undefined;
    const created: string[] = [];
    while (url) {
      const res = await request(server.app).get(url);
      expect(res.status).toBe(200);
      const bundle = res.body as Bundle;
      total ??= bundle.total;
      for (const entry of bundle.entry ?? []) seen.push(entry.resource!.id!);
      pages++;
      // Between pages: update matches already served and matches still ahead, and create new ones.
      const ahead = initial[Math.min(initial.length - 1, seen.length + 37)];
      const behind = initial[Math.max(0, seen.length - 13)];
      for (const id of [ahead, behind]) {
        const put = await request(server.app).put(`/fhir/Observation/${id}`).set('Content-Type', 'application/fhir+json').send({ ...observation(pages), id });
        expect(put.status).toBe(200);
      }
      if (pages % 10 === 0) created.push((await server.context.store.create(observation(pages))).id!);
      const next = bundle.link?.find((l) => l.relation === 'next')?.url;
      url = next ? next.slice(next.indexOf('/fhir/')) : undefined;
    }
    expect(total).toBe(MATCHES);
    expect(new Set(seen).size).toBe(seen.length);
    const missing = initial.filter((id) => !seen.includes(id));
    expect(missing).toEqual([]);
    // Everything seen matches: the initial ones and, possibly, some created during the walk.
    expect(seen.every((id) => initial.includes(id) || created.includes(id))).toBe(true);
    expect(pages).toBeGreaterThanOrEqual(MATCHES / 50);
  }, 300_000);
});
