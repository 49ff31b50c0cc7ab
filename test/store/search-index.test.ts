import type { Patient, Resource } from 'fhir/r4';
import { emptyIndexRows, type IndexRows } from '../../server/search/types.js';
import { SqlResourceStore } from '../../server/store/sql-resource-store.js';
import { BACKENDS, reportBackends, type TestDatabase } from '../support/backends.js';

reportBackends();

/**
 * The store writes whatever index rows it is given, in the same statement as the resource, and replaces or
 * removes them with the resource. The rows here are hand-made from the resource (the extraction from
 * FHIRPath is tested on its own), one of every kind.
 */
function rowsFor(resource: Resource): IndexRows {
  const patient = resource as Patient;
  const rows = emptyIndexRows();
  const family = patient.name?.[0]?.family;
  if (family) rows.string.push({ param: 'family', normalized: family.toLowerCase(), exact: family });
  if (patient.gender) rows.token.push({ param: 'gender', system: 'http://hl7.org/fhir/administrative-gender', code: patient.gender });
  if (patient.birthDate) rows.date.push({ param: 'birthdate', low: `${patient.birthDate}T00:00:00.000Z`, high: null });
  rows.number.push({ param: 'n', value: '100', low: '99.5', high: '100.5' });
  rows.quantity.push({ param: 'q', value: '5.4', low: '5.35', high: '5.45', system: 'http://unitsofmeasure.org', code: 'mg', unit: 'mg' });
  if (patient.managingOrganization?.reference) {
    const [targetType, targetId] = patient.managingOrganization.reference.split('/');
    rows.reference.push({ param: 'organization', targetType, targetId, url: null });
  }
  rows.uri.push({ param: '_profile', value: 'http://example.org/p' });
  return rows;
}

const COUNTS = `SELECT
  (SELECT count(*)::int FROM search_string s WHERE s.rid = r.rid) AS string,
  (SELECT count(*)::int FROM search_token s WHERE s.rid = r.rid) AS token,
  (SELECT count(*)::int FROM search_date s WHERE s.rid = r.rid) AS date,
  (SELECT count(*)::int FROM search_number s WHERE s.rid = r.rid) AS number,
  (SELECT count(*)::int FROM search_quantity s WHERE s.rid = r.rid) AS quantity,
  (SELECT count(*)::int FROM search_reference s WHERE s.rid = r.rid) AS reference,
  (SELECT count(*)::int FROM search_uri s WHERE s.rid = r.rid) AS uri
  FROM resource r WHERE r.resource_type = 'Patient' AND r.id = $1`;

describe.each(BACKENDS)('search index rows written by the store on $name', (backend) => {
  let database: TestDatabase;
  let store: SqlResourceStore;
  beforeAll(async () => {
    database = await backend.open();
    store = new SqlResourceStore(database.db, rowsFor);
  });
  afterAll(async () => database?.close());

  const counts = async (id: string) => (await database.db.query(COUNTS, [id]))[0];
  const patient = (extra: Partial<Patient> = {}): Patient => ({
    resourceType: 'Patient',
    name: [{ family: 'Ådams' }],
    gender: 'female',
    birthDate: '1970-05-01',
    managingOrganization: { reference: 'Organization/org1' },
    ...extra,
  });

  it('create writes one row per extracted value, with the values given', async () => {
    const created = await store.create(patient());
    expect(await counts(created.id!)).toEqual({ string: 1, token: 1, date: 1, number: 1, quantity: 1, reference: 1, uri: 1 });
    const [date] = await database.db.query<{ low: Date; high: Date | number | string }>(
      `SELECT d.low, d.high = 'infinity'::timestamptz AS high FROM search_date d JOIN resource r ON r.rid = d.rid WHERE r.id = $1`,
      [created.id],
    );
    expect(date.low.toISOString()).toBe('1970-05-01T00:00:00.000Z');
    expect(date.high).toBe(true);
    const [string] = await database.db.query('SELECT s.param, s.normalized, s.exact, s.resource_type FROM search_string s JOIN resource r ON r.rid = s.rid WHERE r.id = $1', [created.id]);
    expect(string).toEqual({ param: 'family', normalized: 'ådams', exact: 'Ådams', resource_type: 'Patient' });
  });

  it('update replaces the rows; delete removes them; a re-create brings them back', async () => {
    const created = await store.create(patient());
    await store.update({ ...patient({ gender: undefined, birthDate: undefined }), id: created.id! }, { allowCreate: true });
    expect(await counts(created.id!)).toEqual({ string: 1, token: 0, date: 0, number: 1, quantity: 1, reference: 1, uri: 1 });
    await store.delete('Patient', created.id!);
    expect(await counts(created.id!)).toEqual({ string: 0, token: 0, date: 0, number: 0, quantity: 0, reference: 0, uri: 0 });
    await store.update({ ...patient(), id: created.id! }, { allowCreate: true });
    expect(await counts(created.id!)).toEqual({ string: 1, token: 1, date: 1, number: 1, quantity: 1, reference: 1, uri: 1 });
  });

  it('update-as-create indexes the new resource; a resource without values has no rows but its own', async () => {
    await store.update({ ...patient(), id: 'indexed-by-put' }, { allowCreate: true });
    expect(await counts('indexed-by-put')).toEqual({ string: 1, token: 1, date: 1, number: 1, quantity: 1, reference: 1, uri: 1 });
    const bare = await store.create({ resourceType: 'Patient' });
    expect(await counts(bare.id!)).toEqual({ string: 0, token: 0, date: 0, number: 1, quantity: 1, reference: 0, uri: 1 });
  });

  it('a failed write leaves no index rows behind', async () => {
    const before = await database.db.query<{ n: number }>('SELECT count(*)::int AS n FROM search_token');
    const failing = new SqlResourceStore(database.db, (resource) => {
      const rows = rowsFor(resource);
      rows.date.push({ param: 'broken', low: 'not a date', high: null });
      return rows;
    });
    await expect(failing.create(patient())).rejects.toThrow();
    const after = await database.db.query<{ n: number }>('SELECT count(*)::int AS n FROM search_token');
    expect(after[0].n).toBe(before[0].n);
  });
});
