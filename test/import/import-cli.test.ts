import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Bundle, Group } from 'fhir/r4';
import type { Database } from '../../server/store/database.js';
import { openDatabase } from '../../server/store/open.js';
import { BACKENDS, reportBackends, type TestDatabase } from '../support/backends.js';
import { migratedDataDir } from '../support/data-dir.js';
import { childEnv, freePort, PROJECT_ROOT, startServerProcess } from '../support/server-process.js';
import { syntheaDir } from '../support/synthea.js';

reportBackends();

/** The smallest Synthea patient: 28 resources in one self-contained transaction Bundle. */
const FANNIE = 'Fannie_Waelchi_8666cd40-7af9-48c6-a1a6-86a161195542.json.gz';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `node dist/server/import.js ARGS` as `npm run import -- ARGS` runs it (dist is built by jest's global setup). */
function runImport(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(PROJECT_ROOT, 'dist/server/import.js'), ...args], { env: childEnv({ LOG_LEVEL: 'warn', ...env }), timeout: 120_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

function readBundle(file: string): Bundle {
  return JSON.parse(gunzipSync(readFileSync(file)).toString('utf8')) as Bundle;
}

describe.each(BACKENDS)('npm run import on $name', (backend) => {
  const work = mkdtempSync(path.join(os.tmpdir(), 'ccp-import-'));
  const folder = path.join(work, 'in');
  let env: Record<string, string>;
  let postgres: TestDatabase | undefined;

  /** The target database, opened only between runs: the embedded one takes one process at a time. */
  async function withDatabase<T>(use: (db: Database) => Promise<T>): Promise<T> {
    if (postgres) return use(postgres.db);
    const db = await openDatabase({ dataDir: path.join(work, 'data') });
    try {
      return await use(db);
    } finally {
      await db.close();
    }
  }

  async function countsByType(): Promise<Record<string, number>> {
    const rows = await withDatabase((db) =>
      // The import's transactions are audited like any request (server/audit): their AuditEvents are not imported data.
      db.query<{ resource_type: string; n: number }>(
        "SELECT resource_type, count(*)::int AS n FROM resource WHERE NOT deleted AND resource_type <> 'AuditEvent' GROUP BY resource_type",
      ),
    );
    return Object.fromEntries(rows.map((row) => [row.resource_type, row.n]));
  }

  beforeAll(async () => {
    if (backend.name === 'postgres') {
      postgres = await backend.open();
      env = { DATABASE_URL: postgres.url! };
    } else {
      env = { DATA_DIR: migratedDataDir(path.join(work, 'data')) };
    }
    mkdirSync(folder);
  });
  afterAll(async () => {
    await postgres?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('without files prints its usage and exits with 2', async () => {
    const run = await runImport([], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/usage: npm run import -- \[--url FHIR_BASE \[--token ACCESS_TOKEN\]\] \[--parallel N\] FILE_OR_FOLDER/);
  });

  it('refuses a --parallel that is not a whole number from 1 to 64, with exit 2', async () => {
    const run = await runImport(['--parallel', '0', work], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--parallel must be a whole number from 1 to 64, not 0');
  });

  it('loads a folder of .json.gz, .json, .ndjson and .ndjson.gz files, in any order, and sums up per type', async () => {
    copyFileSync(path.join(syntheaDir(), FANNIE), path.join(folder, FANNIE));
    const fannie = readBundle(path.join(folder, FANNIE));
    const patientEntry = fannie.entry!.find((entry) => entry.resource?.resourceType === 'Patient')!;
    // Sorted first ('0' < 'F'), it names a patient of a later file: it fails with nothing written and is tried again.
    const group: Group = { resourceType: 'Group', type: 'person', actual: true, member: [{ entity: { reference: patientEntry.fullUrl } }] };
    writeFileSync(path.join(folder, '0-group.json'), JSON.stringify(group));
    writeFileSync(
      path.join(folder, 'export.ndjson'),
      [
        JSON.stringify({ resourceType: 'Patient', id: 'nd-1', gender: 'female' }),
        '',
        JSON.stringify({ resourceType: 'Observation', id: 'nd-obs-1', status: 'final', code: { text: 'weight' }, subject: { reference: 'Patient/nd-1' } }),
      ].join('\n'),
    );
    writeFileSync(path.join(folder, 'more.ndjson.gz'), gzipSync(JSON.stringify({ resourceType: 'Practitioner', active: true }) + '\n'));

    const run = await runImport([folder], env);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: expect.any(String) });

    const expected: Record<string, number> = {};
    for (const entry of fannie.entry!) expected[entry.resource!.resourceType] = (expected[entry.resource!.resourceType] ?? 0) + 1;
    expected.Group = 1;
    expected.Patient += 1;
    expected.Observation += 1;
    expected.Practitioner += 1;
    const total = Object.values(expected).reduce((sum, n) => sum + n, 0);
    expect(total).toBe(28 + 4);

    // Not a terminal: one progress line per file on stderr, the summary on stdout.
    expect(run.stderr.match(/^\d+\/4 /gm)).toHaveLength(4);
    expect(run.stdout).toMatch(new RegExp(`^imported ${total} resources from 4 of 4 files in 4 transactions`));
    for (const [type, count] of Object.entries(expected)) expect(run.stdout).toMatch(new RegExp(`^  ${type} +${count}$`, 'm'));

    expect(await countsByType()).toEqual(expected);
    const members = await withDatabase((db) =>
      db.query<{ reference: string }>(`SELECT m #>> '{entity,reference}' AS reference FROM resource g, jsonb_array_elements(g.content->'member') m WHERE g.resource_type = 'Group'`),
    );
    const patients = await withDatabase((db) =>
      db.query<{ id: string }>(`SELECT id FROM resource WHERE resource_type = 'Patient' AND id <> 'nd-1'`),
    );
    expect(patients).toHaveLength(1);
    expect(members).toEqual([{ reference: `Patient/${patients[0].id}` }]);
    // The import ends with ANALYZE: the planner knows the resource table is no longer empty (-1: never analyzed).
    const [stats] = await withDatabase((db) =>
      db.query<{ reltuples: number }>(`SELECT reltuples::float8 AS reltuples FROM pg_class WHERE relname = 'resource' AND relnamespace = current_schema()::regnamespace`),
    );
    expect(stats.reltuples).toBeGreaterThanOrEqual(total);
  }, 180_000);

  it('names each failing file with its reason, keeps the others, and exits with 1', async () => {
    const before = await countsByType();
    const bad = path.join(work, 'bad.json');
    writeFileSync(bad, JSON.stringify({ resourceType: 'Patient', birthDate: 'yesterday' }));
    const broken = path.join(work, 'broken.ndjson');
    writeFileSync(broken, `${JSON.stringify({ resourceType: 'Patient', id: 'nd-2' })}\n{"resourceType": "Patient",\n`);
    const good = path.join(work, 'good.ndjson');
    writeFileSync(good, `${JSON.stringify({ resourceType: 'Patient', id: 'nd-3' })}\n`);

    // A batch's entries stand alone: the good one is written, the refused one makes the file a failure.
    const batch = path.join(work, 'batch.json');
    writeFileSync(
      batch,
      JSON.stringify({
        resourceType: 'Bundle',
        type: 'batch',
        entry: [
          { resource: { resourceType: 'Patient', id: 'nd-4' }, request: { method: 'PUT', url: 'Patient/nd-4' } },
          { resource: { resourceType: 'Patient', gender: 'sometimes' }, request: { method: 'POST', url: 'Patient' } },
        ],
      }),
    );

    const run = await runImport([bad, broken, good, batch], env);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^imported 2 resources from 1 of 4 files in 2 transactions/);
    expect(run.stdout).toMatch(/^3 files failed:$/m);
    expect(run.stdout).toMatch(/batch\.json: batch entries refused: entry 1: 400 .*gender/);
    expect(run.stdout).toMatch(new RegExp(`^  ${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: 400 .*birthDate`, 'm'));
    // The broken line stops the file before its first transaction was sent: nothing of it is written.
    expect(run.stdout).toMatch(/broken\.ndjson:2: not JSON/);

    expect(await countsByType()).toEqual({ ...before, Patient: before.Patient + 2 });
    const ids = await withDatabase((db) =>
      db.query<{ id: string }>(`SELECT id FROM resource WHERE resource_type = 'Patient' AND id IN ('nd-2', 'nd-3', 'nd-4') ORDER BY id`),
    );
    expect(ids).toEqual([{ id: 'nd-3' }, { id: 'nd-4' }]);
  }, 120_000);

  it('with --url sends the transactions to a running server', async () => {
    const port = await freePort();
    const serverEnv = postgres ? env : { DATA_DIR: migratedDataDir(path.join(work, 'served')) };
    const server = startServerProcess('import-target', port, serverEnv);
    try {
      await server.ready(60_000);
      const before = (await (await fetch(`${server.fhir}/Observation?_summary=count`)).json()) as Bundle;
      const run = await runImport(['--url', server.fhir, path.join(syntheaDir(), FANNIE)], {});
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^imported 28 resources from 1 of 1 files in 1 transactions/);
      const after = (await (await fetch(`${server.fhir}/Observation?_summary=count`)).json()) as Bundle;
      expect(after.total).toBe(before.total! + 20);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  }, 120_000);
});

describe('npm run import --url into a server that requires tokens', () => {
  const dataDir = migratedDataDir(mkdtempSync(path.join(os.tmpdir(), 'ccp-import-secured-')));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('with --url and --token imports into a server that requires tokens; without the token each file fails with the 401', async () => {
    const port = await freePort();
    const server = startServerProcess('import-secured', port, { DATA_DIR: dataDir, AUTH_DISABLED: 'false', LOG_LEVEL: 'info' });
    try {
      await server.ready(60_000);
      // The first start's backend client, as its banner prints it.
      const secret = /client_id local-admin\s+client_secret (\S+)/.exec(server.output())?.[1];
      expect(secret).toBeDefined();
      const issued = await fetch(`${server.origin}/auth/token`, {
        method: 'POST',
        headers: { Authorization: `Basic ${Buffer.from(`local-admin:${secret}`).toString('base64')}`, 'Content-Type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials&scope=system%2F*.cruds',
      });
      const token = ((await issued.json()) as { access_token: string }).access_token;
      const file = path.join(syntheaDir(), FANNIE);

      const refused = await runImport(['--url', server.fhir, file], {});
      expect(refused.code).toBe(1);
      expect(refused.stdout).toMatch(/401/);

      const run = await runImport(['--url', server.fhir, '--token', token, file], {});
      // What the import and the server said, when it failed.
      expect({ code: run.code, output: run.code === 0 ? '' : `${run.stdout}\n${run.stderr}\n${server.output().slice(-4000)}` }).toEqual({ code: 0, output: '' });
      expect(run.stdout).toMatch(/^imported 28 resources from 1 of 1 files/);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  }, 120_000);
});

it('npm run import refuses --token without --url (usage error, exit 2)', async () => {
  const run = await runImport(['--token', 'abc', 'nothing.json'], {});
  expect(run.code).toBe(2);
  expect(run.stderr).toMatch(/--token goes with --url/);
});
