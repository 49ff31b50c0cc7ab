import { readdirSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Bundle, Resource } from 'fhir/r4';
import { importFiles } from '../../server/import/importer.js';
import { sendOverHttp } from '../../server/import/send.js';
import { expandPaths } from '../../server/import/sources.js';
import { type Backend, BACKENDS, reportBackends } from '../support/backends.js';
import { openTestServer, type TestServer } from '../support/fhir-app.js';
import { syntheaDir } from '../support/synthea.js';

reportBackends();

/**
 * What Synthea files hold, read straight from them (the oracle): resources per type, and how many `reference`
 * strings there are in all. The 103 files are 100 patient Bundles, hospitals, practitioners, and one bare Group.
 */
function contentsOfFiles(files: string[]): { perType: Record<string, number>; references: number; files: number } {
  const perType: Record<string, number> = {};
  let references = 0;
  for (const file of files) {
    const contents = contentsOfFile(file);
    for (const [type, n] of Object.entries(contents.perType)) perType[type] = (perType[type] ?? 0) + n;
    references += contents.references;
  }
  return { perType, references, files: files.length };
}

/** What each file holds, read once per suite (the files are ~97 MB of JSON; each backend's test reads them all). */
const fileContents = new Map<string, { perType: Record<string, number>; references: number }>();

function contentsOfFile(file: string): { perType: Record<string, number>; references: number } {
  const known = fileContents.get(file);
  if (known) return known;
  const item = JSON.parse(gunzipSync(readFileSync(file)).toString('utf8')) as Resource;
  const resources = item.resourceType === 'Bundle' ? (item as Bundle).entry!.map((e) => e.resource!) : [item];
  const contents = { perType: {} as Record<string, number>, references: 0 };
  for (const resource of resources) {
    contents.perType[resource.resourceType] = (contents.perType[resource.resourceType] ?? 0) + 1;
    contents.references += JSON.stringify(resource).match(/"reference":/g)?.length ?? 0;
  }
  fileContents.set(file, contents);
  return contents;
}

const ALL_FILES = readdirSync(syntheaDir())
  .filter((f) => f.endsWith('.json.gz'))
  .sort()
  .map((f) => join(syntheaDir(), f));

/**
 * The files a backend imports: all 103 on PostgreSQL when the run has it, and on PGlite when the run has only
 * PGlite (a clone without TEST_DATABASE_URL), so each file is imported once per run. Beside PostgreSQL, PGlite
 * (the same SQL and code, and slower) imports the hospitals, the practitioners and the first PGLITE_PATIENTS
 * patient files: their conditional references to the shared Organizations and Practitioners are all there, and
 * the Group (whose members are every patient) stays PostgreSQL's. Cuts the suite's CI time by about a third.
 */
function filesFor(backend: Backend): string[] {
  if (backend.name === 'postgres' || !BACKENDS.some((other) => other.name === 'postgres')) return ALL_FILES;
  const shared = ALL_FILES.filter((file) => /\/(hospital|practitioner)Information\d+\.json\.gz$/.test(file));
  const patients = ALL_FILES.filter((file) => !/\/(hospital|practitioner|group)Information\d+\.json\.gz$/.test(file));
  return [...shared, ...patients.slice(0, PGLITE_PATIENTS)];
}

const PGLITE_PATIENTS = 25;

describe.each(BACKENDS)('all Synthea bundles imported through the API on $name', (backend) => {
  let server: TestServer;
  let http: Server;
  let base: string;
  beforeAll(async () => {
    // The server's default body limit (16 MB): the largest patient Bundles are over 1 MB.
    server = await openTestServer(backend, { bodyLimitBytes: 16 * 1024 * 1024 });
    http = server.app.listen(0, '127.0.0.1');
    await new Promise((resolve) => http.once('listening', resolve));
    base = `http://127.0.0.1:${(http.address() as AddressInfo).port}/fhir`;
  });
  afterAll(async () => {
    await new Promise((resolve) => http?.close(resolve));
    await server?.close();
  });

  it('the files as transactions: per-type counts match the files and every reference resolves to a stored resource', async () => {
    // The data as we know it: 103 files, 278 CarePlans in all.
    expect(ALL_FILES).toEqual(expandPaths([syntheaDir()]));
    expect(ALL_FILES).toHaveLength(103);
    expect(contentsOfFiles(ALL_FILES).perType.CarePlan).toBe(278);

    const files = filesFor(backend);
    const expected = contentsOfFiles(files);
    const summary = await importFiles(files, sendOverHttp(base));
    expect(summary.failed).toEqual([]);
    expect(summary.files).toBe(files.length);
    expect(summary.byType).toEqual(expected.perType);

    // Each transaction was audited (server/audit): the AuditEvents are the trail, not imported data.
    const stored = await server.db.query<{ resource_type: string; n: number }>(
      "SELECT resource_type, count(*)::int AS n FROM resource WHERE NOT deleted AND resource_type <> 'AuditEvent' GROUP BY resource_type",
    );
    expect(Object.fromEntries(stored.map((row) => [row.resource_type, row.n]))).toEqual(expected.perType);

    // Every Reference.reference in every stored resource, at any depth: `Type/id` names a stored resource,
    // `#id` (Synthea's claims point at their contained Coverage and ServiceRequest) a contained one.
    const references = await server.db.query<{ reference: string; found: boolean }>(
      `WITH refs AS (
         SELECT r.content AS owner, ref #>> '{}' AS reference
         FROM resource r, jsonb_path_query(r.content, 'strict $.**.reference') AS ref WHERE NOT r.deleted AND r.resource_type <> 'AuditEvent')
       SELECT reference,
              CASE WHEN reference LIKE '#%'
                THEN EXISTS (SELECT 1 FROM jsonb_array_elements(owner->'contained') c WHERE '#' || (c->>'id') = reference)
                ELSE EXISTS (SELECT 1 FROM resource t WHERE NOT t.deleted
                        AND t.resource_type = split_part(reference, '/', 1) AND t.id = split_part(reference, '/', 2)
                        AND reference = t.resource_type || '/' || t.id)
              END AS found
       FROM refs`,
    );
    expect(references.length).toBe(expected.references);
    expect(references.filter((r) => !r.found).slice(0, 5)).toEqual([]);

    // The Group's members were urn:uuid references to patients of other files: they name the imported Patients
    // (the Group is imported with all the files only).
    const members = await server.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM resource g, jsonb_array_elements(g.content->'member') m
       WHERE g.resource_type = 'Group' AND (m #>> '{entity,reference}') LIKE 'Patient/%'`,
    );
    expect(members[0].n).toBe(files === ALL_FILES ? 100 : 0);
  }, 600_000);
});
