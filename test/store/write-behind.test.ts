import type { Patient, Resource } from 'fhir/r4';
import { emptyIndexRows, type IndexRows } from '../../server/search/types.js';
import { SqlResourceStore } from '../../server/store/sql-resource-store.js';
import { WriteBehindStore } from '../../server/store/write-behind.js';
import { BACKENDS, reportBackends, type TestDatabase } from '../support/backends.js';

reportBackends();

/** One hand-made token row per Patient (its gender) and one reference row (its organization). */
function rowsFor(resource: Resource): IndexRows {
  const patient = resource as Patient;
  const rows = emptyIndexRows();
  if (patient.gender) rows.token.push({ param: 'gender', system: null, code: patient.gender });
  const reference = patient.managingOrganization?.reference;
  if (reference) rows.reference.push({ param: 'organization', targetType: 'Organization', targetId: reference.split('/')[1], url: null });
  return rows;
}

describe.each(BACKENDS)('createMany and the write-behind store on $name', (backend) => {
  let database: TestDatabase;
  let store: SqlResourceStore;
  beforeAll(async () => {
    database = await backend.open();
    store = new SqlResourceStore(database.db, rowsFor);
  });
  afterAll(async () => database?.close());

  const patient = (fields: Omit<Patient, 'resourceType'> = {}): Patient => ({ resourceType: 'Patient', ...fields });
  const stored = async (id: string) =>
    (
      await database.db.query<{ version: number; tokens: number; references: number; versions: number }>(
        `SELECT r.version_id AS version,
           (SELECT count(*)::int FROM search_token t WHERE t.rid = r.rid) AS tokens,
           (SELECT count(*)::int FROM search_reference t WHERE t.rid = r.rid) AS references,
           (SELECT count(*)::int FROM resource_version v WHERE v.resource_type = r.resource_type AND v.id = r.id) AS versions
         FROM resource r WHERE r.resource_type = 'Patient' AND r.id = $1`,
        [id],
      )
    )[0];

  it('createMany stores each resource with its own index rows, version 1 and the time it was stamped with', async () => {
    const at = new Date('2026-03-04T05:06:07.000Z');
    const [a, b, c] = await store.createMany([
      { resource: patient({ gender: 'female', managingOrganization: { reference: 'Organization/o1' } }) },
      { resource: patient({ gender: 'male' }), id: 'chosen-id' },
      { resource: { resourceType: 'Patient' }, lastUpdated: at },
    ]);
    expect(b.id).toBe('chosen-id');
    expect(await stored(a.id!)).toEqual({ version: 1, tokens: 1, references: 1, versions: 1 });
    expect(await stored('chosen-id')).toEqual({ version: 1, tokens: 1, references: 0, versions: 1 });
    expect(await stored(c.id!)).toEqual({ version: 1, tokens: 0, references: 0, versions: 1 });
    expect(c.meta?.lastUpdated).toBe(at.toISOString());
    const read = await store.read('Patient', c.id!);
    expect(read).toEqual({ kind: 'found', resource: c });
  });

  it('createMany is all or nothing: one id already taken leaves none of the others', async () => {
    await store.create({ resourceType: 'Patient' }, 'taken');
    await expect(store.createMany([{ resource: { resourceType: 'Patient' }, id: 'fresh-1' }, { resource: { resourceType: 'Patient' }, id: 'taken' }])).rejects.toThrow();
    expect(await store.read('Patient', 'fresh-1')).toEqual({ kind: 'missing' });
  });

  it('holds creates until something reads, then the read sees them; what it answered is what was stored', async () => {
    const result = await store.transaction(async (tx) => {
      const held = new WriteBehindStore(tx);
      const created = await held.create(patient({ gender: 'other' }));
      // Not written yet: another look at the database, outside the holder, does not find it.
      const before = await tx.read('Patient', created.id!);
      const through = await held.read('Patient', created.id!);
      return { created, before, through };
    });
    expect(result.before).toEqual({ kind: 'missing' });
    expect(result.through).toEqual({ kind: 'found', resource: result.created });
    expect(await stored(result.created.id!)).toEqual({ version: 1, tokens: 1, references: 0, versions: 1 });
  });

  it('an update of a held create writes the create first, so the update is version 2', async () => {
    const id = await store.transaction(async (tx) => {
      const held = new WriteBehindStore(tx);
      const created = await held.create(patient({ gender: 'female' }));
      const updated = await held.update({ ...patient({ gender: 'male' }), id: created.id! }, { allowCreate: false });
      expect(updated.kind).toBe('updated');
      return created.id!;
    });
    expect(await stored(id)).toEqual({ version: 2, tokens: 1, references: 0, versions: 2 });
  });

  it('flush writes what is held; a transaction that fails afterwards leaves none of it', async () => {
    let id = '';
    await expect(
      store.transaction(async (tx) => {
        const held = new WriteBehindStore(tx);
        id = (await held.create({ resourceType: 'Patient' })).id!;
        await held.flush();
        expect(await tx.read('Patient', id)).toMatchObject({ kind: 'found' });
        throw new Error('a later entry fails');
      }),
    ).rejects.toThrow('a later entry fails');
    expect(await store.read('Patient', id)).toEqual({ kind: 'missing' });
  });
});
