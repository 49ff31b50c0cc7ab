import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Bundle, CapabilityStatement, Patient, SearchParameter } from 'fhir/r4';
import request from 'supertest';
import { loadRegistry } from '../../server/search/custom-parameters.js';
import { extractIndexRows } from '../../server/search/index/extract.js';
import { reindex } from '../../server/store/reindex.js';
import { BACKENDS, reportBackends } from '../support/backends.js';
import { openTestServer, schemaValidator, type TestServer } from '../support/fhir-app.js';

reportBackends();

const MAIDEN_NAME = 'http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName';

/** The classic custom parameter of the FHIR specification's own search page: a Patient's mother's maiden name. */
const mothersMaidenName: SearchParameter = {
  resourceType: 'SearchParameter',
  url: 'http://example.org/fhir/SearchParameter/patient-mothers-maiden-name',
  name: 'MothersMaidenName',
  status: 'active',
  description: 'Search by the mother\u2019s maiden name',
  code: 'mothers-maiden-name',
  base: ['Patient'],
  type: 'string',
  expression: `Patient.extension('${MAIDEN_NAME}').value`,
};

describe.each(BACKENDS)('custom SearchParameters on $name', (backend) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ccp-sp-'));
  let before: TestServer;
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await before?.close();
  });

  const patient = (family: string, maiden: string) => ({
    resourceType: 'Patient',
    name: [{ family }],
    extension: [{ url: MAIDEN_NAME, valueString: maiden }],
  });

  it('are found after a reindex of the data written before they existed, and advertised', async () => {
    // Written by a server that knows only the official parameters.
    before = await openTestServer(backend);
    for (const [family, maiden] of [['Smith', 'Lévesque'], ['Jones', 'Tremblay']]) {
      expect((await request(before.app).post('/fhir/Patient').set('Content-Type', 'application/fhir+json').send(patient(family, maiden))).status).toBe(201);
    }

    writeFileSync(path.join(dir, 'mothers-maiden-name.json'), JSON.stringify(mothersMaidenName));
    const { registry, custom } = loadRegistry(dir, schemaValidator());
    expect(custom.map((d) => `${d.base}.${d.code}`)).toEqual(['Patient.mothers-maiden-name']);
    const after = await openTestServer(backend, { registry }, before);

    const search = async () => {
      const res = await request(after.app).get('/fhir/Patient?mothers-maiden-name=levesque');
      expect(res.status).toBe(200);
      return ((res.body as Bundle).entry ?? []).filter((e) => e.search?.mode === 'match').map((e) => (e.resource as Patient).name![0].family);
    };
    // Known now, but nothing indexed for it yet.
    expect(await search()).toEqual([]);
    const count = await reindex(after.db, (resource) => extractIndexRows(resource, registry), { resourceType: 'Patient', batchSize: 1 });
    expect(count).toBe(2);
    expect(await search()).toEqual(['Smith']);

    // New writes are indexed for it at once.
    await request(after.app).post('/fhir/Patient').set('Content-Type', 'application/fhir+json').send(patient('Roy', 'Levesque-Roy'));
    expect((await search()).sort()).toEqual(['Roy', 'Smith']);

    const metadata = (await request(after.app).get('/fhir/metadata')).body as CapabilityStatement;
    const params = metadata.rest![0].resource!.find((r) => r.type === 'Patient')!.searchParam!;
    expect(params.find((p) => p.name === 'mothers-maiden-name')).toMatchObject({ type: 'string', definition: mothersMaidenName.url });
  });

  it('a broken definition stops start-up with the file named', () => {
    const broken = mkdtempSync(path.join(os.tmpdir(), 'ccp-sp-bad-'));
    try {
      writeFileSync(path.join(broken, 'a.json'), JSON.stringify({ ...mothersMaidenName, base: ['Spaceship'] }));
      expect(() => loadRegistry(broken, schemaValidator())).toThrow(/a\.json: mothers-maiden-name: unknown base Spaceship/);
      writeFileSync(path.join(broken, 'a.json'), JSON.stringify({ ...mothersMaidenName, expression: 'Patient.name.where(' }));
      expect(() => loadRegistry(broken, schemaValidator())).toThrow(/does not compile/);
      writeFileSync(path.join(broken, 'a.json'), '{ not json');
      expect(() => loadRegistry(broken, schemaValidator())).toThrow(/a\.json: not JSON/);
    } finally {
      rmSync(broken, { recursive: true, force: true });
    }
  });

  it('no folder means the official parameters only', () => {
    const { custom } = loadRegistry(path.join(dir, 'missing'), schemaValidator());
    expect(custom).toEqual([]);
  });
});
