// The bulk export bench's data (bench/export.mjs): N stored resources, written fast and honestly. Loading a million
// resources through the API or the import (validated, ruled, audited: ~1,400 resources/s here) would take hours,
// and even the server's bulk write path alone runs at ~1,000-1,700 resources/s on this machine (its time is the
// index extraction, in JavaScript), so the store is made in two steps:
//
// 1. A base population (BENCH_EXPORT_BASE, default 50,000 resources, or all of N when smaller): the synthetic CCP
//    patients of bench/generate (the growth phase's generator: Patient, Conditions, Goals, CareTeam, CarePlan,
//    registrations and directives as Consents, Tasks, and the shared Organizations, Practitioners, PractitionerRoles)
//    written through the server's own bulk write path, `SqlResourceStore.createMany`
//    (server/store/sql-resource-store.ts), in batches, with the server's own indexer (search/index/extract.ts): each
//    resource's current row, first version, search index rows (the consent `_access` rows included) and links, by
//    the statement every create uses.
// 2. Copies of the base's patients, in SQL, until N: in copy k every per-patient id (`gen-p-42` → `gen3-p-42`, `gen-cp-…`, …) and MRN
//    (`GEN…`) in the copied resources' ids and content is rewritten,
//    so a copy's references point at the copy's own Patient, plan, goals and registrations (the shared
//    Organizations and Practitioners are not copied: every copy refers to them as the base does). The copy's
//    versions, search index rows and links are the base's rows with the same rewriting of every text column, which
//    is what the indexer gives for the rewritten content: checked on a sample of copies after seeding (their index
//    rows extracted again by the server's indexer and compared row for row), and the seeding fails if one differs.
//
// Left out, as the export does not read them: validation, the CCP and consent rules' side effects, and the import's
// audit trail (the generator's made-up AuditEvents too: an export never contains AuditEvents).
//
// The seeded store is kept for reruns (a PostgreSQL schema `bench_export_<N>`, or the PGlite folder
// /tmp/ccp-bench-export/pglite-<N>), described by a state file beside it that also keeps the bootstrap client's
// secret (printed by the server's first start only). `openSeeded({ reuse: true })` takes it again when its state
// says it holds N seeded resources.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { DEFAULT_SEED, todayUtc } from './generate/bundles.mjs';
import { patientResources } from './generate/patient.mjs';
import { DEFAULT_LAYOUT, sharedResources } from './generate/shared.mjs';
import { log } from './harness.mjs';

const BASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const STATE_FOLDER = process.env.BENCH_EXPORT_STATE ?? '/tmp/ccp-bench-export';
/** Resources per createMany: one statement each, about 0.4 MB of JSON. */
const BATCH = 500;
/** Resources written through createMany before the copies in SQL. */
const BASE = Number(process.env.BENCH_EXPORT_BASE ?? 50_000);
/** Copies of the base whose index rows are extracted again and compared, after seeding. */
const CHECKED = 200;
/**
 * What copy k rewrites: the per-patient ids of bench/generate/patient.mjs by their prefixes (`gen-p-42` becomes
 * `gen3-p-42`; the shared ones, `gen-org-`, `gen-pr-`, `gen-role-`, `gen-user-`, are not among them) and the MRNs
 * (`GEN00000042` becomes `GEN3-00000042`, lower-cased as well: string indexes lower-case). Plain `replace`, not a
 * regular expression: five times faster here, and the prefixes are whole enough (checked after seeding).
 */
const PER_PATIENT_PREFIXES = ['gen-p-', 'gen-cond-', 'gen-goal-', 'gen-ct-', 'gen-cp-', 'gen-reg-', 'gen-task-', 'gen-dir-'];
function rewriting(column, k) {
  let sql = column;
  for (const prefix of PER_PATIENT_PREFIXES) sql = `replace(${sql}, '${prefix}', '${prefix.replace('gen-', `gen${k}-`)}')`;
  return `replace(replace(${sql}, 'GEN0', 'GEN${k}-0'), 'gen0', 'gen${k}-0')`;
}
const SHARED_TYPES = ['Organization', 'Practitioner', 'PractitionerRole'];

/** Where the store of `name` ('postgres' | 'pglite') with `resources` seeded resources lives. */
function placeOf(name, resources) {
  const stateFile = path.join(STATE_FOLDER, `${name}-${resources}.json`);
  if (name === 'postgres') {
    const schema = `bench_export_${resources}`;
    const url = new URL(BASE_URL);
    // BENCH_EXPORT_PG_OPTIONS: the server's session settings on top (e.g. `-c synchronous_commit=off`), for experiments.
    url.searchParams.set('options', [`-c search_path=${schema}`, process.env.BENCH_EXPORT_PG_OPTIONS].filter(Boolean).join(' '));
    return { name, stateFile, schema, where: `schema ${schema}`, env: { DATABASE_URL: url.toString(), DATA_DIR: undefined } };
  }
  const dataDir = path.join(STATE_FOLDER, `pglite-${resources}`);
  return { name, stateFile, dataDir, where: dataDir, env: { DATA_DIR: dataDir, DATABASE_URL: undefined } };
}

/**
 * The seeded store: `{ name, where, env, state, saveSecret(secret) }`, `state.seeding` saying how it was seeded
 * (and `reused` when it was there already). `reuse`: take the kept store when its state file says it is complete.
 */
export async function openSeeded(name, resources, { reuse = false } = {}) {
  const place = placeOf(name, resources);
  mkdirSync(STATE_FOLDER, { recursive: true });
  const kept = existsSync(place.stateFile) ? JSON.parse(readFileSync(place.stateFile, 'utf8')) : undefined;
  let state;
  if (reuse && kept?.complete) {
    state = { ...kept, reused: true };
    log(`export ${name}: reusing the seeded store in ${place.where} (${kept.seeding.resources.toLocaleString('en')} resources, seeded ${kept.seeding.at})`);
  } else {
    await remove(place);
    const seeding = await seed(place, resources);
    state = { complete: true, seeding };
    writeFileSync(place.stateFile, `${JSON.stringify(state, null, 2)}\n`);
  }
  return {
    ...place,
    state,
    /** Remembers the bootstrap client's secret: a later start on this store does not print it again. */
    saveSecret(secret) {
      state.secret = secret;
      const { reused, ...kept } = state;
      writeFileSync(place.stateFile, `${JSON.stringify(kept, null, 2)}\n`);
    },
    /** Removes the store and its state (BENCH_EXPORT_KEEP=false). */
    drop: () => remove(place),
  };
}

async function remove(place) {
  rmSync(place.stateFile, { force: true });
  if (place.dataDir) rmSync(place.dataDir, { recursive: true, force: true });
  if (place.schema) {
    const admin = new pg.Client({ connectionString: BASE_URL });
    await admin.connect();
    try {
      await admin.query(`DROP SCHEMA IF EXISTS ${place.schema} CASCADE`);
      await admin.query(`CREATE SCHEMA ${place.schema}`);
    } finally {
      await admin.end();
    }
  }
}

/** The generator's resources: the shared ones, then patient after patient, until `resources` are given. */
function* generated(resources) {
  const anchor = todayUtc();
  let given = 0;
  for (const resource of sharedResources(DEFAULT_LAYOUT)) {
    if (given++ >= resources) return;
    yield resource;
  }
  for (let index = 0; ; index++) {
    for (const resource of patientResources(index, { seed: DEFAULT_SEED, anchor, layout: DEFAULT_LAYOUT, audit: false }).resources) {
      if (given++ >= resources) return;
      yield resource;
    }
  }
}

/** Writes `resources` generated resources into the (empty) store of `place`, then ANALYZE; resolves with the timing. */
async function seed(place, resources) {
  // The server's own modules, from dist/ (npm run build first).
  const [{ openDatabase }, { SchemaValidator }, { loadRegistry }, { extractIndexRows }, { SqlResourceStore }, { analyzeTables }, { loadConfig }, { INDEX_TABLES }] = await Promise.all([
    import('../dist/server/store/open.js'),
    import('../dist/server/validation/schema-validator.js'),
    import('../dist/server/search/custom-parameters.js'),
    import('../dist/server/search/index/extract.js'),
    import('../dist/server/store/sql-resource-store.js'),
    import('../dist/server/store/analyze.js'),
    import('../dist/server/config/config.js'),
    import('../dist/server/store/search-index-sql.js'),
  ]);
  const config = loadConfig({ ...Object.fromEntries(Object.entries(place.env).filter(([, v]) => v !== undefined)), LOG_LEVEL: 'warn' });
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  const { registry } = loadRegistry(config.searchParametersDir, new SchemaValidator());
  const store = new SqlResourceStore(db, (resource) => extractIndexRows(resource, registry));
  // PostgreSQL inserts one batch while this process builds the next one's index rows; PGlite is this process.
  const inFlight = place.name === 'postgres' ? 2 : 1;
  const base = Math.min(resources, BASE);
  const started = Date.now();
  const byType = {};
  let written = 0;
  let shown = started;
  try {
    const source = generated(base);
    const nextBatch = () => {
      const batch = [];
      for (let next = source.next(); !next.done; next = batch.length < BATCH ? source.next() : { done: true }) {
        batch.push({ resource: next.value, id: next.value.id });
        byType[next.value.resourceType] = (byType[next.value.resourceType] ?? 0) + 1;
        if (batch.length >= BATCH) break;
      }
      return batch;
    };
    const worker = async () => {
      for (let batch = nextBatch(); batch.length; batch = nextBatch()) {
        const stored = await store.createMany(batch);
        written += stored.length;
        if (Date.now() - shown > 15_000) {
          shown = Date.now();
          const seconds = (shown - started) / 1000;
          log(`export ${place.name}: base ${written.toLocaleString('en')} of ${base.toLocaleString('en')} resources in ${seconds.toFixed(0)} s (${(written / seconds).toFixed(0)}/s)`);
        }
      }
    };
    await Promise.all(Array.from({ length: inFlight }, worker));
    const baseSeconds = (Date.now() - started) / 1000;
    log(`export ${place.name}: base of ${written.toLocaleString('en')} resources through createMany in ${baseSeconds.toFixed(0)} s (${(written / baseSeconds).toFixed(0)}/s)`);

    const copying = Date.now();
    const copies = resources > written ? await copyPatients(db, resources - written, place.name) : { resources: 0, copies: 0 };
    const copySeconds = (Date.now() - copying) / 1000;
    const analyzing = Date.now();
    await analyzeTables(db);
    const analyzeSeconds = (Date.now() - analyzing) / 1000;
    const checking = Date.now();
    const checked = copies.resources ? await checkCopies(db, (resource) => extractIndexRows(resource, registry), INDEX_TABLES) : undefined;
    const checkSeconds = (Date.now() - checking) / 1000;
    const [{ n: total, bytes }] = await db.query('SELECT count(*)::int AS n, sum(octet_length(content::text))::float8 AS bytes FROM resource');
    const counted = Object.fromEntries((await db.query('SELECT resource_type, count(*)::int AS n FROM resource GROUP BY 1 ORDER BY 2 DESC')).map((row) => [row.resource_type, row.n]));
    const seconds = (Date.now() - started) / 1000;
    log(`export ${place.name}: ${total.toLocaleString('en')} resources (${(bytes / 2 ** 20).toFixed(0)} MiB of JSON) in ${seconds.toFixed(0)} s: base ${baseSeconds.toFixed(0)} s, ${copies.copies} copies ${copySeconds.toFixed(0)} s (${(copies.resources / copySeconds).toFixed(0)}/s), ANALYZE ${analyzeSeconds.toFixed(0)} s, ${checked ? `${checked.resources} copies checked against the indexer` : 'no copies'}`);
    return {
      at: new Date().toISOString(),
      resources: total,
      bytes,
      byType: counted,
      seconds,
      base: { resources: written, seconds: baseSeconds, resourcesPerSecond: written / baseSeconds, batch: BATCH, inFlight, how: 'SqlResourceStore.createMany' },
      copies: { ...copies, seconds: copySeconds, resourcesPerSecond: copies.resources / copySeconds, how: 'INSERT … SELECT with per-patient ids rewritten' },
      analyzeSeconds,
      checked: checked && { ...checked, seconds: checkSeconds },
      resourcesPerSecond: total / (baseSeconds + copySeconds),
    };
  } finally {
    await db.close();
  }
}

/** A transaction handle that logs each statement's time (BENCH_EXPORT_SEED_TIMING=1). */
function timed(tx) {
  return {
    query: async (sql, params) => {
      const started = Date.now();
      const rows = await tx.query(sql, params);
      log(`  ${Date.now() - started} ms  ${sql.replace(/\s+/g, ' ').slice(0, 90)}`);
      return rows;
    },
  };
}

/** The text columns of `table` (but its type and parameter name): what a copy rewrites. */
async function columnsOf(db, table) {
  const rows = await db.query(
    `SELECT column_name AS name, data_type AS type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`,
    [table],
  );
  return rows.map((row) => ({ name: row.name, rewrite: row.type === 'text' && !['resource_type', 'param'].includes(row.name) }));
}

/**
 * `wanted` more resources as copies of the base's per-patient resources (every type but the shared ones), copy
 * after copy, the last one partial (whole patients first: by rid). Each copy is one transaction: its current rows,
 * versions, search index rows and links, every per-patient id in them suffixed `-x<k>`.
 */
async function copyPatients(db, wanted, name) {
  await db.query('DROP TABLE IF EXISTS bench_copy_base');
  await db.query(`CREATE TABLE bench_copy_base AS SELECT rid, resource_type, id FROM resource WHERE resource_type <> ALL($1) AND id ~ '^gen-' AND NOT deleted ORDER BY rid`, [SHARED_TYPES]);
  const [{ n: perCopy }] = await db.query('SELECT count(*)::int AS n FROM bench_copy_base');
  if (!perCopy) throw new Error('export seed: no per-patient resources in the base to copy');
  const indexTables = (await import('../dist/server/store/search-index-sql.js')).INDEX_TABLES;
  const tables = [];
  for (const table of indexTables) tables.push({ table, columns: await columnsOf(db, table) });
  // The value indexes go while the copies are written and come back after, built once (a bulk load's usual way):
  // the rid indexes stay, the copies' joins use them; the constraints' indexes stay (resource's keys, the versions').
  const dropped = await db.query(
    `SELECT i.indexname AS name, i.indexdef AS definition FROM pg_indexes i
     WHERE i.schemaname = current_schema() AND i.tablename = ANY($1) AND i.indexname NOT LIKE '%\\_rid'
       AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)`,
    [['resource', 'resource_version', ...indexTables]],
  );
  for (const { name } of dropped) await db.query(`DROP INDEX ${name}`);
  const started = Date.now();
  let copied = 0;
  let copies = 0;
  for (let k = 1; copied < wanted; k++) {
    const take = Math.min(perCopy, wanted - copied);
    await db.transaction(async (raw) => {
      const tx = process.env.BENCH_EXPORT_SEED_TIMING ? timed(raw) : raw;
      await tx.query('DROP TABLE IF EXISTS bench_copy_map');
      await tx.query('CREATE TABLE bench_copy_map (old bigint PRIMARY KEY, new bigint NOT NULL)');
      // The base was written by createMany: one version each (POST, created), its content the current one, so the
      // copy's version is written from the same rewritten content, rewritten once.
      await tx.query(
        `WITH source AS MATERIALIZED (
           SELECT r.rid AS old, r.resource_type, ${rewriting('r.id', k)} AS id, r.version_id, r.last_updated, r.deleted, ${rewriting('r.content::text', k)}::jsonb AS content
           FROM resource r WHERE r.rid IN (SELECT b.rid FROM bench_copy_base b ORDER BY b.rid LIMIT ${take})),
         inserted AS (
           INSERT INTO resource (resource_type, id, version_id, last_updated, deleted, content)
           SELECT resource_type, id, version_id, last_updated, deleted, content FROM source
           RETURNING rid, resource_type, id),
         version AS (
           INSERT INTO resource_version (resource_type, id, version_id, last_updated, method, created, content)
           SELECT resource_type, id, version_id, last_updated, 'POST', true, content FROM source)
         INSERT INTO bench_copy_map (old, new)
         SELECT s.old, i.rid FROM inserted i JOIN source s USING (resource_type, id)`,
      );
      await tx.query('ANALYZE bench_copy_map');
      const [{ low, high }] = await tx.query('SELECT min(old)::text AS low, max(old)::text AS high FROM bench_copy_map');
      for (const { table, columns } of tables) {
        const names = columns.map((c) => c.name);
        const values = columns.map((c) => (c.name === 'rid' ? 'm.new' : c.rewrite ? rewriting(`t.${c.name}`, k) : `t.${c.name}`));
        await tx.query(`INSERT INTO ${table} (${names.join(', ')}) SELECT ${values.join(', ')} FROM ${table} t JOIN bench_copy_map m ON m.old = t.rid WHERE t.rid BETWEEN ${low} AND ${high}`);
      }
      await tx.query('DROP TABLE bench_copy_map');
    });
    copied += take;
    copies++;
    const seconds = (Date.now() - started) / 1000;
    log(`export ${name}: copy ${k}: ${copied.toLocaleString('en')} of ${wanted.toLocaleString('en')} copied resources in ${seconds.toFixed(0)} s (${(copied / seconds).toFixed(0)}/s)`);
  }
  await db.query('DROP TABLE bench_copy_base');
  const indexing = Date.now();
  await db.transaction(async (tx) => {
    await tx.query(`SET LOCAL maintenance_work_mem = '256MB'`);
    for (const { definition } of dropped) await tx.query(definition);
  });
  const indexSeconds = (Date.now() - indexing) / 1000;
  log(`export ${name}: ${dropped.length} value indexes built again in ${indexSeconds.toFixed(0)} s`);
  return { resources: copied, copies, perCopy, indexesRebuilt: dropped.length, indexSeconds };
}

/**
 * CHECKED copied resources, spread over the copies: for each, in a transaction rolled back afterwards, its index rows
 * are read, then written again from its stored content by the server's own re-index statement (as
 * server/store/reindex.ts does: delete, then the indexer's rows), read again and compared row for row. Throws on any
 * difference.
 */
export async function checkCopies(db, index, indexTables) {
  const [{ deleteIndexCtes, insertIndexCtes }, { Statement }] = await Promise.all([
    import('../dist/server/store/search-index-sql.js'),
    import('../dist/server/search/sql/statement.js'),
  ]);
  const sample = await db.query(`SELECT rid::text AS rid, content FROM resource WHERE id ~ '^gen[0-9]+-' ORDER BY md5(id) LIMIT ${CHECKED}`);
  const rowsOf = async (tx, rid) => {
    const all = [];
    for (const table of indexTables) {
      const rows = await tx.query(`SELECT row_to_json(t)::text AS row FROM ${table} t WHERE rid = $1`, [rid]);
      all.push(...rows.map((r) => `${table} ${r.row}`));
    }
    return all.sort();
  };
  const undo = new Error('rolled back on purpose');
  let rows = 0;
  for (const { rid, content } of sample) {
    await db
      .transaction(async (tx) => {
        const stored = await rowsOf(tx, rid);
        const sql = new Statement();
        await tx.query(sql.with([...deleteIndexCtes(rid), ...insertIndexCtes(index(content), { rid }, content.resourceType, sql.param)], 'SELECT 1'), sql.params);
        const indexed = await rowsOf(tx, rid);
        if (JSON.stringify(stored) !== JSON.stringify(indexed)) {
          const missing = indexed.filter((row) => !stored.includes(row));
          const extra = stored.filter((row) => !indexed.includes(row));
          throw new Error(`export seed: the copy ${content.resourceType}/${content.id} has index rows unlike the indexer's for its content:\n  written by the copy only: ${extra.join('\n    ')}\n  the indexer's only: ${missing.join('\n    ')}`);
        }
        rows += stored.length;
        throw undo;
      })
      .catch((error) => {
        if (error !== undo) throw error;
      });
  }
  return { resources: sample.length, rows };
}
