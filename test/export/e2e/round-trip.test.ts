import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Bundle, Resource } from 'fhir/r4';
import request from 'supertest';
import { UNRESTRICTED } from '../../../server/access/caller.js';
import { importFiles } from '../../../server/import/importer.js';
import { sendInProcess } from '../../../server/import/send.js';
import { expandPaths } from '../../../server/import/sources.js';
import { handleFhirRequest } from '../../../server/pipeline/fhir-request.js';
import type { Database } from '../../../server/store/database.js';
import { type Backend, BACKENDS, reportBackends } from '../../support/backends.js';
import { backendKey, backendToken, registerBackend } from '../../support/backend-tokens.js';
import { buildWorld, type ConsentSpec, type PatientSpec, worldTransaction } from '../../support/consent-world.js';
import { openTestServer, type TestServer } from '../../support/fhir-app.js';
import { referencesOf, syntheaDir } from '../../support/synthea.js';

reportBackends();

const BASE = 'https://a.test/fhir';
const TOKEN_URL = 'https://a.test/auth/token';
const FHIR_JSON = 'application/fhir+json';
/** The smallest Synthea patient: 28 resources in one transaction Bundle of `urn:uuid:` entries (ids given by the server). */
const FANNIE = 'Fannie_Waelchi_8666cd40-7af9-48c6-a1a6-86a161195542.json.gz';

const patient: PatientSpec = {
  gender: 'female',
  org1: { status: 'active', period: 'current', actions: ['access'] },
  carePlans: [{ status: 'active', performer: null, goalOf: null }],
  goals: 2,
  conditions: [{ asserter: 0 }],
  careTeams: [{ participant: 0 }],
  tasks: 1,
  provenance: [{ plan: true, patient: true }],
  documents: [{ author: 0 }],
  observations: 2,
};
const deny: ConsentSpec = { kind: 'deny', patient: 1, status: 'active', actors: [{ org: 1 }], exceptions: [], period: 'open', scope: 'patient-privacy' };

/**
 * The source and target databases: the export runs on PGlite and the import writes to PostgreSQL when PostgreSQL is
 * there, so one pass covers both databases (the reverse direction would double the suite's time for little: the
 * export's SQL on PostgreSQL and the import into PGlite have suites of their own); PGlite → PGlite otherwise.
 */
const PAIRS: { from: Backend; to: Backend }[] = [{ from: BACKENDS[0], to: BACKENDS[BACKENDS.length - 1] }];

/** Every live resource but the audit trail's, by `Type/id`. */
async function liveResources(db: Database): Promise<Map<string, Resource>> {
  const rows = await db.query<{ resource_type: string; id: string; content: string }>(
    "SELECT resource_type, id, content::text AS content FROM resource WHERE NOT deleted AND resource_type <> 'AuditEvent' ORDER BY resource_type, id",
  );
  return new Map(rows.map((row) => [`${row.resource_type}/${row.id}`, JSON.parse(row.content) as Resource]));
}

/**
 * A resource without meta.versionId and meta.lastUpdated: the import writes each resource anew (PUT Type/id,
 * update-as-create), so the target numbers its own versions from 1 and stamps its own time. Everything else,
 * the rest of meta (tags, profiles) included, must come through unchanged.
 */
function withoutVersion(resource: Resource): Resource {
  const { meta, ...rest } = structuredClone(resource);
  if (!meta) return rest as Resource;
  delete meta.versionId;
  delete meta.lastUpdated;
  return (Object.keys(meta).length ? { ...rest, meta } : rest) as Resource;
}

/** A relative literal reference `Type/id` (with or without `/_history/n`): the ones that must resolve in the target. */
const RELATIVE = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(\/_history\/[A-Za-z0-9\-.]{1,64})?$/;

/**
 * Issue 21, "round trip": a system-level export from server A over HTTP, with a SMART Backend Services token
 * (private_key_jwt); every file of the manifest downloaded as `<n>.<Type>.ndjson`; the folder read by `npm run
 * import`'s importer (server/import, in this process, as the command runs it without --url) into a fresh database
 * B. B then holds exactly A's resources, content for content, and every reference in B resolves in B.
 */
describe.each(PAIRS.map(({ from, to }) => ({ from, to, label: `${from.name} → ${to.name}` })))('export → import round trip, $label', ({ from, to }) => {
  const folder = mkdtempSync(path.join(os.tmpdir(), 'ccp-round-trip-'));
  let a: TestServer;
  let b: TestServer;
  let loader: string;
  let exporter: string;

  const call = (method: 'get' | 'post' | 'put' | 'delete', url: string, token: string) =>
    request(a.app)[method](url.startsWith('https://') ? url.slice(BASE.length - '/fhir'.length) : `/fhir/${url}`).set('Authorization', `Bearer ${token}`).set('Accept', FHIR_JSON);

  beforeAll(async () => {
    [a, b] = await Promise.all([openTestServer(from, { baseUrl: BASE, auth: true, bulkExport: { minPollSeconds: 0 } }), openTestServer(to)]);
    const key = await backendKey();
    await registerBackend(a.auth!, 'loader', key, 'system/*.cruds');
    await registerBackend(a.auth!, 'exporter', key, 'system/*.rs');
    loader = await backendToken(a.app, TOKEN_URL, 'loader', key, 'system/*.cruds');
    exporter = await backendToken(a.app, TOKEN_URL, 'exporter', key, 'system/*.rs');

    // Source world: two patients with CCP plans, goals, conditions, care teams, tasks, documents, observations,
    // Provenance, Consents (a registration, a directive), organizations, practitioners and their roles; a Synthea
    // patient whose ids server A gives; then an update (a second version) and a delete (which must not travel).
    const world = buildWorld(
      { organizations: 2, practitioners: [1, null], patients: [patient, { ...patient, gender: 'male' }], noPatientRows: ['Task'], consents: [deny], callers: [], partner: 1, planNotice: true },
      'rt',
      Date.now(),
    );
    // Written by the server's operator (as `npm run import` does): a backend client may not write Consents.
    const write = (method: string, url: string, body?: Resource) =>
      handleFhirRequest({ method, path: url, query: {}, body, headers: { 'content-type': FHIR_JSON }, baseUrl: BASE, caller: UNRESTRICTED }, a.context);
    expect((await write('POST', '', worldTransaction(world))).status).toBe(200);
    const fannie = JSON.parse(gunzipSync(readFileSync(path.join(syntheaDir(), FANNIE))).toString('utf8')) as Bundle;
    expect((await write('POST', '', fannie)).status).toBe(200);
    const [first] = world.patients;
    const current = (await call('get', `Patient/${first}`, loader).expect(200)).body as Resource;
    await call('put', `Patient/${first}`, loader).set('Content-Type', FHIR_JSON).send({ ...current, active: true }).expect(200);
    const observation = world.resources.find((r) => r.resourceType === 'Observation')!;
    await call('delete', `Observation/${observation.id}`, loader).expect(200);
  }, 120_000);
  afterAll(async () => {
    await a?.bulk?.stop();
    await Promise.all([a?.close(), b?.close()]);
    rmSync(folder, { recursive: true, force: true });
  });

  it('B holds exactly the resources of A, content for content, and every reference in B resolves', async () => {
    const source = await liveResources(a.db);
    expect(source.size).toBeGreaterThan(60);
    expect([...source.values()].some((r) => r.meta?.versionId === '2')).toBe(true);

    // Kick-off, the engine works the job off (as a server's runner would), the manifest, the files.
    const kickOff = await call('get', '$export', exporter).set('Prefer', 'respond-async').expect(202);
    while ((await a.bulk!.runOnce()) !== undefined);
    const manifest = (await call('get', kickOff.headers['content-location'], exporter).expect(200)).body as {
      output: { type: string; url: string; count: number }[];
      error: unknown[];
    };
    expect(manifest.error).toEqual([]);
    let lines = 0;
    for (const [index, output] of manifest.output.entries()) {
      const file = await call('get', output.url, exporter).set('Accept', 'application/fhir+ndjson').expect(200);
      expect(file.headers['content-type']).toBe('application/fhir+ndjson');
      const text = file.text;
      expect(text.split('\n').filter(Boolean)).toHaveLength(output.count);
      lines += output.count;
      writeFileSync(path.join(folder, `${index + 1}.${output.type}.ndjson`), text);
    }
    // Every type A holds is exported (a system-level export of a `system/*.rs` client covers all but AuditEvent).
    const exportedTypes = new Set(manifest.output.map((o) => o.type));
    expect([...new Set([...source.keys()].map((k) => k.split('/')[0]))].filter((type) => !exportedTypes.has(type))).toEqual([]);
    expect(lines).toBe(source.size);
    for (const type of ['Patient', 'CarePlan', 'Goal', 'Condition', 'CareTeam', 'Task', 'Provenance', 'Consent', 'Organization', 'PractitionerRole', 'Encounter']) {
      expect(exportedTypes).toContain(type);
    }

    // `npm run import FOLDER` without --url: the same importer, sending each transaction to B's interactions.
    // Files come in name order; one naming resources of a later file fails untouched and is tried again after it.
    const summary = await importFiles(expandPaths([folder]), sendInProcess(b.context, 'https://b.test/fhir'));
    expect(summary.failed).toEqual([]);
    expect(summary.resources).toBe(source.size);

    const target = await liveResources(b.db);
    const strip = (resources: Map<string, Resource>) => Object.fromEntries([...resources].map(([key, resource]) => [key, withoutVersion(resource)]));
    expect(strip(target)).toEqual(strip(source));

    // Every relative reference of every resource in B names a resource B holds; none is of another form (absolute,
    // urn:uuid:, conditional), so nothing escapes the check. The same references as A's, all of them.
    const references = [...target.values()].flatMap((resource) => referencesOf(resource).filter((reference) => !reference.startsWith('#')));
    const unresolved = references.filter((reference) => {
      const match = RELATIVE.exec(reference);
      return !match || !target.has(`${match[1]}/${match[2]}`);
    });
    expect(unresolved).toEqual([]);
    expect(references.length).toBe([...source.values()].flatMap((resource) => referencesOf(resource).filter((reference) => !reference.startsWith('#'))).length);
    expect(references.length).toBeGreaterThan(100);
  }, 120_000);
});
