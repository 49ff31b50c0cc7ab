// Loads synthetic CCP patients through the real import path, in this process: the server's FhirContext on the
// database (server/import/context.ts) and one transaction per Bundle through handleFhirRequest as the server
// itself (server/import/send.ts), so every resource is validated, indexed, ruled (CCP, consent) and audited
// exactly as `npm run import` would. Needs `npm run build` (dist/).
//
//   DATABASE_URL=postgres://… node bench/generate/load.mjs --patients 5000 [--offset N | --continue]
//        [--concurrency 2] [--ids put|uuid] [--seed 7] [--per-bundle 40 (put) | 25 (uuid)] [--skip-analyze]
//
// --continue starts after the highest synthetic patient already stored (from the MRN index), so a dataset can
// grow 10k → 100k → 1M resources without reloading. Prints resources/s (the server's own import AuditEvent per
// Bundle not counted).
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { loadConfig } from '../../dist/server/config/config.js';
import { createContext } from '../../dist/server/import/context.js';
import { sendInProcess } from '../../dist/server/import/send.js';
import { countByType, DEFAULT_SEED, generateBundles, HOST, MRN_SYSTEM, PATIENTS_PER_BUNDLE } from './bundles.mjs';

/** The index after the highest synthetic patient stored, 0 when there is none. */
export async function nextPatientIndex(databaseUrl) {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const { rows } = await db.query(
      `SELECT max(code) AS code FROM search_token WHERE resource_type = 'Patient' AND param = 'identifier' AND system = $1`,
      [MRN_SYSTEM],
    ).catch((error) => (error.code === '42P01' ? { rows: [] } : Promise.reject(error)));
    const code = rows[0]?.code;
    return code ? Number(code.replace(/^GEN/, '')) + 1 : 0;
  } finally {
    await db.end();
  }
}

/**
 * ANALYZE of the schema's tables (not the whole database: other schemas are not ours). autovacuum would keep the
 * statistics current in production; on this machine's PostgreSQL it is off, and without statistics the one-active
 * CCP check's search runs through every active plan for each plan written, so a long load slows down as it grows.
 */
export async function analyzeTables(databaseUrl) {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const { rows } = await db.query('SELECT tablename FROM pg_tables WHERE schemaname = current_schema()');
    for (const { tablename } of rows) await db.query(`ANALYZE "${tablename}"`);
    return rows.length;
  } finally {
    await db.end();
  }
}

/**
 * Loads `patients` synthetic patients from index `offset`, `concurrency` Bundles at a time, with an ANALYZE
 * (`analyzeTables`) each time this run's resources double from 5,000 on, much as autovacuum's scale factor would.
 * Stops at the first refused Bundle (Bundles already in flight finish) and throws with its OperationOutcome.
 * Resolves with what was written: `{ resources, byType, bundles, seconds, resourcesPerSecond, nextOffset }`.
 */
export async function loadPatients({ databaseUrl, patients, offset = 0, seed = DEFAULT_SEED, concurrency = 2, ids = 'put', perBundle = PATIENTS_PER_BUNDLE[ids], analyze = true, onProgress }) {
  const config = loadConfig({ DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn', HOSTING_ORGANIZATION: HOST });
  const { context, close } = await createContext(config);
  const send = sendInProcess(context, 'http://localhost/fhir');
  const bundles = generateBundles({ patients, seed, offset, perBundle, ids });
  const done = { resources: 0, byType: {}, bundles: 0 };
  const started = Date.now();
  let failure;
  let analyzeAt = 5000;
  // Workers take the next Bundle from the one generator: the patients' order is the generator's, whatever finishes first.
  const sendNext = async () => {
    const next = failure ? undefined : bundles.next();
    if (!next || next.done) return false;
    const result = await send(next.value);
    if (!result.ok) {
      failure ??= new Error(`a Bundle was refused (${result.status}): ${result.outcome.issue?.map((issue) => `${issue.diagnostics ?? issue.code} [${issue.expression ?? ''}]`).join('; ')}`);
      return false;
    }
    countByType(next.value, done.byType);
    done.resources += next.value.entry.length;
    done.bundles++;
    if (analyze && done.resources >= analyzeAt) {
      analyzeAt *= 2;
      await analyzeTables(databaseUrl);
    }
    onProgress?.({ ...done, seconds: (Date.now() - started) / 1000 });
    return true;
  };
  const worker = async () => {
    while (await sendNext());
  };
  try {
    // The shared Organizations and Practitioners first and alone: later Bundles name them.
    if (offset === 0) await sendNext();
    await Promise.all(Array.from({ length: concurrency }, () => worker()));
  } finally {
    await close();
  }
  if (failure) throw failure;
  const seconds = (Date.now() - started) / 1000;
  return { ...done, seconds, resourcesPerSecond: done.resources / seconds, nextOffset: offset + patients };
}

async function main() {
  const { values } = parseArgs({
    options: {
      patients: { type: 'string' },
      offset: { type: 'string' },
      continue: { type: 'boolean' },
      concurrency: { type: 'string', default: '2' },
      ids: { type: 'string', default: 'put' },
      seed: { type: 'string', default: String(DEFAULT_SEED) },
      'per-bundle': { type: 'string' },
      'skip-analyze': { type: 'boolean' },
    },
  });
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl || !values.patients) {
    console.error('usage: DATABASE_URL=postgres://… node bench/generate/load.mjs --patients N [--offset N | --continue] [--concurrency 2] [--ids put|uuid] [--seed 7] [--per-bundle 40 (put) | 25 (uuid)] [--skip-analyze]');
    return 2;
  }
  const offset = values.continue ? await nextPatientIndex(databaseUrl) : Number(values.offset ?? 0);
  const patients = Number(values.patients);
  console.log(`loading patients ${offset} … ${offset + patients - 1} (${values.ids} ids, ${values.concurrency} Bundles at a time)`);
  let last = 0;
  const summary = await loadPatients({
    databaseUrl,
    patients,
    offset,
    seed: Number(values.seed),
    concurrency: Number(values.concurrency),
    ids: values.ids,
    perBundle: Number(values['per-bundle'] ?? PATIENTS_PER_BUNDLE[values.ids]),
    analyze: !values['skip-analyze'],
    onProgress: ({ resources, seconds }) => {
      if (seconds - last < 10) return;
      last = seconds;
      console.log(`  ${resources} resources in ${seconds.toFixed(0)} s (${(resources / seconds).toFixed(0)}/s)`);
    },
  });
  console.log(JSON.stringify(summary.byType));
  console.log(`${summary.resources} resources in ${summary.bundles} Bundles, ${summary.seconds.toFixed(1)} s: ${summary.resourcesPerSecond.toFixed(0)} resources/s; next offset ${summary.nextOffset}`);
  return 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().then(
    (code) => process.exit(code),
    (error) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}
