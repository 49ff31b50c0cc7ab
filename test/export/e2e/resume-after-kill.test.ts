import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BundleEntry, Resource } from 'fhir/r4';
import type { Database } from '../../../server/store/database.js';
import { openDatabase } from '../../../server/store/open.js';
import { createEmptySchema, reportBackends, TEST_DATABASE_URL } from '../../support/backends.js';
import { migratedDataDir } from '../../support/data-dir.js';
import { freePort, type ServerProcess, startServerProcess } from '../../support/server-process.js';

reportBackends();

const PATIENTS = 150;
/** Ten rows a chunk (the least BULK_EXPORT_CHUNK_ROWS allows): 300 resources take some 30 committed chunks. */
const CHUNK_ROWS = 10;

/** What the killed process had committed of the job, read from its database once it was dead. */
interface Committed {
  state: string;
  /** The ids of the resources in each file's committed parts (a part records its rows' rids), by file number. */
  lines: Map<number, string[]>;
}

interface Storage {
  name: string;
  env: Record<string, string>;
  /**
   * PostgreSQL: the schema the servers use, reachable while they run; the job's row is locked to hold the engine
   * still at a chunk boundary while the server is killed. PGlite belongs to the one process that opened it.
   */
  db?: Database;
  /** Opens the database while no server runs (PGlite) or beside them (PostgreSQL), for `use`. */
  withDatabase<T>(use: (db: Database) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

const storages: Array<() => Promise<Storage>> = [
  async () => {
    // From the migrated empty database jest's global setup made: a server creating and migrating one takes longer.
    const dir = migratedDataDir(mkdtempSync(path.join(os.tmpdir(), 'ccp-export-resume-')));
    return {
      name: 'PGlite DATA_DIR',
      env: { DATA_DIR: dir },
      async withDatabase(use) {
        const db = await openDatabase({ dataDir: dir });
        try {
          return await use(db);
        } finally {
          await db.close();
        }
      },
      close: async () => rmSync(dir, { recursive: true, force: true }),
    };
  },
  ...(TEST_DATABASE_URL
    ? [
        async (): Promise<Storage> => {
          const schema = await createEmptySchema(TEST_DATABASE_URL!);
          return { name: 'PostgreSQL schema', env: { DATABASE_URL: schema.url }, db: schema.db, withDatabase: (use) => use(schema.db), close: () => schema.close() };
        },
      ]
    : []),
];

async function killed(server: ServerProcess): Promise<void> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return;
  const exited = new Promise((resolve) => server.child.once('exit', resolve));
  server.child.kill('SIGKILL');
  await exited;
}

async function committed(db: Database, job: string): Promise<Committed> {
  const [row] = await db.query<{ state: string }>('SELECT state FROM bulk_job WHERE id = $1', [job]);
  const rows = await db.query<{ number: number; id: string }>(
    `SELECT p.number, r.id FROM bulk_file_part p CROSS JOIN unnest(p.rids) WITH ORDINALITY AS u(rid, n) JOIN resource r ON r.rid = u.rid
     WHERE p.job_id = $1 ORDER BY p.number, p.part, u.n`,
    [job],
  );
  const lines = new Map<number, string[]>();
  for (const row of rows) lines.set(row.number, [...(lines.get(row.number) ?? []), row.id]);
  return { state: row?.state ?? 'gone', lines };
}

const count = (lines: Map<number, string[]>) => [...lines.values()].reduce((sum, file) => sum + file.length, 0);

async function fetchJson(url: string, init: RequestInit = {}): Promise<{ status: number; headers: Headers; body: unknown }> {
  const response = await fetch(url, { ...init, headers: { accept: 'application/fhir+json', ...(init.headers ?? {}) } });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

/**
 * Issue 21, "a killed server resumes the job": the real server (`node dist/server/main.js`) exports 300 resources
 * in chunks of ten; it is killed with SIGKILL once at least one chunk is committed and before the job is complete,
 * and started again on the same database. The new process takes the job over when the dead one's lease has run out
 * (BULK_EXPORT_LEASE_SECONDS, short here) and finishes it from the last committed chunk: every resource written is
 * in the manifest's files exactly once, and what the dead process had committed is kept as it was.
 *
 * Caught mid-way: on PostgreSQL the test takes the job's row lock (each chunk takes it first, in its transaction)
 * and, holding it, sees a chunk committed and the job running, then kills the server: the engine cannot commit
 * another chunk in between, so nothing depends on timing. The embedded database has no second session: the test
 * polls the status (X-Progress) and kills the server at the first 202 with progress above 0; the job still has
 * most of its 30 chunks before it at that moment. Either way the database is read after the kill, to show the
 * job was running with part of its files committed, before the restart.
 */
describe.each(storages.map((open, i) => ({ open, label: i === 0 ? 'PGlite DATA_DIR' : 'PostgreSQL schema' })))('an export whose server is killed mid-way, on $label', ({ open }) => {
  let storage: Storage;
  let first: ServerProcess | undefined;
  let second: ServerProcess | undefined;

  beforeAll(async () => {
    storage = await open();
  });
  afterAll(async () => {
    if (first) await killed(first);
    if (second) await second.stop();
    await storage?.close();
  });

  it('resumes in the restarted process: every resource in the files exactly once', async () => {
    const env = { ...storage.env, BULK_EXPORT_CHUNK_ROWS: String(CHUNK_ROWS), BULK_EXPORT_MIN_POLL_SECONDS: '0', BULK_EXPORT_LEASE_SECONDS: '2' };
    first = startServerProcess('first', await freePort(), env);
    await first.ready(60_000);

    // 150 Patients and an Observation of each, in one transaction.
    const patients = Array.from({ length: PATIENTS }, (_, i) => `rk-p-${i}`);
    const observations = patients.map((id) => `rk-o-${id.slice('rk-p-'.length)}`);
    const entry: BundleEntry[] = [
      ...patients.map((id) => ({ resource: { resourceType: 'Patient', id } as Resource, request: { method: 'PUT' as const, url: `Patient/${id}` } })),
      ...observations.map((id, i) => ({
        resource: { resourceType: 'Observation', id, status: 'final', code: { text: 'weight' }, subject: { reference: `Patient/${patients[i]}` } } as Resource,
        request: { method: 'PUT' as const, url: `Observation/${id}` },
      })),
    ];
    const written = await fetchJson(first.fhir, { method: 'POST', headers: { 'content-type': 'application/fhir+json', prefer: 'return=minimal' }, body: JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry }) });
    expect(written.status).toBe(200);

    const kickOff = await fetchJson(`${first.fhir}/$export?_type=Patient,Observation`, { headers: { prefer: 'respond-async' } });
    expect(kickOff.status).toBe(202);
    const statusUrl = kickOff.headers.get('content-location')!;
    const job = statusUrl.split('/').pop()!;

    if (storage.db) {
      // Holding the job's row, the engine's next chunk waits: the kill lands between two chunks, after at least one.
      for (let caught = false; !caught; ) {
        caught = await storage.db.transaction(async (tx) => {
          const [row] = await tx.query<{ state: string }>('SELECT state FROM bulk_job WHERE id = $1 FOR UPDATE', [job]);
          const [parts] = await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM bulk_file_part WHERE job_id = $1', [job]);
          if (row.state !== 'running' || parts.n === 0) return false;
          await killed(first!);
          return true;
        });
      }
    } else {
      for (;;) {
        const status = await fetch(statusUrl);
        await status.arrayBuffer();
        const progress = Number(/^(\d+)%/.exec(status.headers.get('x-progress') ?? '')?.[1] ?? 0);
        expect(status.status).toBe(202);
        if (progress > 0) break;
      }
      await killed(first);
    }

    // The dead process's share: the job still running, some of its chunks committed (whole chunks of ten while
    // the first type, Patient, is read), not all.
    const before = await storage.withDatabase((db) => committed(db, job));
    expect(before.state).toBe('running');
    expect(count(before.lines)).toBeGreaterThanOrEqual(CHUNK_ROWS);
    expect(count(before.lines)).toBeLessThan(2 * PATIENTS);

    second = startServerProcess('second', await freePort(), env);
    await second.ready(60_000);
    const deadline = Date.now() + 30_000;
    let manifest: { output: { type: string; url: string; count: number }[]; error: unknown[] } | undefined;
    while (!manifest) {
      const status = await fetchJson(statusUrl.replace(first.origin, second.origin));
      if (status.status === 200) manifest = status.body as typeof manifest;
      else {
        expect(status.status).toBe(202);
        if (Date.now() > deadline) throw new Error(`the export did not complete after the restart:\n${second.output().slice(-4000)}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    expect(manifest.error).toEqual([]);

    // Every file, every line: each resource written exactly once (no chunk lost, none written twice).
    const exported: Record<string, string[]> = { Patient: [], Observation: [] };
    for (const output of manifest.output) {
      const response = await fetch(output.url.replace(first.origin, second.origin), { headers: { accept: 'application/fhir+ndjson' } });
      expect(response.status).toBe(200);
      const lines = (await response.text()).split('\n').filter(Boolean);
      expect(lines).toHaveLength(output.count);
      const number = Number(output.url.split('/').pop());
      const ids = lines.map((line) => (JSON.parse(line) as Resource).id!);
      // What the dead process had committed of this file is the file's beginning, unchanged.
      const kept = before.lines.get(number) ?? [];
      expect(ids.slice(0, kept.length)).toEqual(kept);
      exported[output.type].push(...ids);
    }
    expect(exported.Patient.sort()).toEqual([...patients].sort());
    expect(exported.Observation.sort()).toEqual([...observations].sort());
    const total = manifest.output.reduce((sum, output) => sum + output.count, 0);
    expect(total).toBe(2 * PATIENTS);
  }, 120_000);
});
