// The two databases the server runs on, as the benchmark prepares them: a fresh schema of a PostgreSQL server
// (dropped afterwards), or a fresh PGlite data folder (removed afterwards). Each says how the import and the server
// reach it, and probes it (the scenarios' ids and the storage ceiling) while no server has it open. The import
// ends with ANALYZE (server/store/analyze.ts), so the server plans on the loaded data's statistics.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { sampleIds } from './sample-ids.mjs';
import { pinned, root } from './harness.mjs';
import { pkLoop } from './storage-ceiling.mjs';

const BASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export const DATABASES = {
  postgres: { label: 'PostgreSQL', open: openPostgres },
  pglite: { label: 'PGlite', open: openPglite },
};

async function openPostgres() {
  const schema = `bench_${Date.now().toString(36)}`;
  const admin = new pg.Pool({ connectionString: BASE_URL, max: 1 });
  await admin.query(`CREATE SCHEMA ${schema}`);
  const url = new URL(BASE_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  const databaseUrl = url.toString();
  return {
    where: `schema ${schema}`,
    env: { DATABASE_URL: databaseUrl, DATA_DIR: undefined },
    async probe(seconds, connections) {
      const db = new pg.Pool({ connectionString: databaseUrl, max: 1 });
      const ids = await sampleIds(async (sql) => (await db.query(sql)).rows).finally(() => db.end());
      // In this process (the load generator's core): PostgreSQL's own processes share both cores anyway.
      return { ids, ceiling: await pkLoop(databaseUrl, ids.patient, seconds, connections) };
    },
    async drop() {
      await admin.query(`DROP SCHEMA ${schema} CASCADE`).catch(() => undefined);
      await admin.end();
    },
  };
}

async function openPglite() {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ccp-bench-pglite-'));
  return {
    where: dataDir,
    env: { DATA_DIR: dataDir, DATABASE_URL: undefined },
    async probe(seconds, connections) {
      // Pinned to the server's core: the embedded database does its work inside the server's process.
      const [command, args] = pinned(1, 'node', [path.join(root, 'bench/storage-ceiling-pglite.mjs'), dataDir, String(seconds), String(connections)]);
      return JSON.parse(execFileSync(command, args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }));
    },
    async drop() {
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
