// The write path's validation cost (server/validation/validate-resource.ts, from dist/: `npm run build` first),
// in this process, on one core, before and after the base-definition check of every write:
//   - before: what validateResource did until the base-definition check: FHIR's JSON rules, the R4 JSON schema,
//     dom-2/4/5 on contained resources and the profiles a resource claims;
//   - after: that and the base StructureDefinition walk (cardinality, types, required bindings) without the
//     FHIRPath invariants: what a write runs now;
//   - after, with invariants: the same walk with every core invariant, the option measured and not taken.
// Over the Synthea bundles' resources (the first BENCH_WRITE_PATIENTS patients of ../shared/data/synthea-r4, as
// bench/run.mjs finds it, or SYNTHEA_DIR) and the CCP guide's examples (which claim their profiles). Each variant gets a fresh validator for
// its cold pass (definitions loaded beforehand, shared); then warm passes, the variants taking turns in each round
// so that they share the machine's noise. Last, creates through the interactions (handleFhirRequest on a fresh
// PGlite database in a temporary folder): rounds of creates with the base check on and off, taking turns.
//   node bench/write-validation.mjs                       prints the results
//   node bench/write-validation.mjs --into <results.json> stores them as `writeValidation` in that run's results
//                                                         and writes docs/PERFORMANCE.md again from it
//   BENCH_WRITE_PATIENTS (default 20), BENCH_WRITE_PASSES warm rounds (default 5), BENCH_WRITE_CREATES creates
//   per variant and round (default 500; 0 skips the creates), BENCH_WRITE_ROUNDS (default 3)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { log, machine, PIN, root } from './harness.mjs';

const PATIENTS = Number(process.env.BENCH_WRITE_PATIENTS ?? 20);
const PASSES = Number(process.env.BENCH_WRITE_PASSES ?? 5);
const CREATES = Number(process.env.BENCH_WRITE_CREATES ?? 500);
const ROUNDS = Number(process.env.BENCH_WRITE_ROUNDS ?? 3);
const SYNTHEA = process.env.SYNTHEA_DIR ?? [path.resolve(root, '../shared/data/synthea-r4'), '/work/shared/data/synthea-r4'].find((dir) => existsSync(dir));
const GUIDE_EXAMPLES = path.join(root, 'conformance/profiles/examples');
/** The guide's eleven examples are repeated so that a pass lasts long enough to mean something. */
const GUIDE_REPEAT = 100;

const VARIANTS = ['before', 'after', 'afterWithInvariants'];

function syntheaResources() {
  if (!SYNTHEA) throw new Error('the Synthea data (../shared/data/synthea-r4, or SYNTHEA_DIR) is not there');
  const files = readdirSync(SYNTHEA).filter((f) => /\.json(\.gz)?$/.test(f)).sort().slice(0, PATIENTS);
  return files.flatMap((file) => {
    const raw = readFileSync(path.join(SYNTHEA, file));
    const bundle = JSON.parse((file.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8'));
    return bundle.entry.map((entry) => entry.resource);
  });
}

function guideResources() {
  return readdirSync(GUIDE_EXAMPLES)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(path.join(GUIDE_EXAMPLES, f), 'utf8')));
}

/** One pass: validateResource on every item, as a write calls it; µs per resource and how many were refused. */
function pass(validateResource, validation, items) {
  let refused = 0;
  const started = process.hrtime.bigint();
  for (const resource of items) {
    try {
      validateResource(validation, resource, resource.resourceType);
    } catch (error) {
      if (typeof error?.status !== 'number') throw error;
      refused++;
    }
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  return { ms, resourcesPerSecond: (items.length / ms) * 1000, microsPerResource: (ms * 1000) / items.length, refused };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

export async function measureWriteValidation({ passes = PASSES, creates = CREATES, rounds = ROUNDS } = {}) {
  const dist = (file) => import(path.join(root, 'dist/server', file));
  const [{ loadDefinitions }, { createTerminology }, { createProfileValidator }, { validateResource }, { SchemaValidator }] = await Promise.all([
    dist('conformance/definitions.js'),
    dist('terminology/service.js'),
    dist('validation/profile/profile-validator.js'),
    dist('validation/validate-resource.js'),
    dist('validation/schema-validator.js'),
  ]);
  const definitions = loadDefinitions();
  const schema = new SchemaValidator();
  schema.compileAll();

  /** The Profiles of server/validation/profiles.ts on a fresh validator, the base check as `variant` has it. */
  const profilesFor = (variant) => {
    const validator = createProfileValidator(definitions, createTerminology(definitions));
    return {
      validate(resource, profile, options) {
        const base = profile === undefined && options?.invariants === false;
        if (base && variant === 'before') return [];
        return validator.validate(resource, profile, base && variant === 'afterWithInvariants' ? {} : options);
      },
      knows: (url) => definitions.structureDefinition(url) !== undefined,
      required: () => [],
    };
  };

  const sets = { synthea: syntheaResources(), guide: guideResources() };
  const repeated = { synthea: sets.synthea, guide: Array.from({ length: GUIDE_REPEAT }, () => sets.guide).flat() };
  log(`write validation: ${sets.synthea.length} Synthea resources (${PATIENTS} patients), ${sets.guide.length} guide examples, ${passes} warm rounds`);

  const result = { measuredAt: new Date().toISOString(), machine: machine(), pinned: PIN, patients: PATIENTS, loadAverage: os.loadavg()[0], sets: {} };
  for (const [name, items] of Object.entries(sets)) {
    const validations = Object.fromEntries(VARIANTS.map((v) => [v, { schema, profiles: profilesFor(v) }]));
    const cold = Object.fromEntries(VARIANTS.map((v) => [v, pass(validateResource, validations[v], items)]));
    const warm = Object.fromEntries(VARIANTS.map((v) => [v, []]));
    for (let round = 0; round < passes; round++) {
      for (const v of VARIANTS) warm[v].push(pass(validateResource, validations[v], repeated[name]));
    }
    result.sets[name] = {
      resources: items.length,
      variants: Object.fromEntries(
        VARIANTS.map((v) => [
          v,
          {
            cold: cold[v],
            warm: {
              resourcesPerSecond: median(warm[v].map((p) => p.resourcesPerSecond)),
              microsPerResource: median(warm[v].map((p) => p.microsPerResource)),
              passes: warm[v].map((p) => p.resourcesPerSecond),
            },
            refused: cold[v].refused,
          },
        ]),
      ),
    };
    const w = result.sets[name].variants;
    log(`write validation, ${name}: warm µs per resource before ${w.before.warm.microsPerResource.toFixed(0)}, after ${w.after.warm.microsPerResource.toFixed(0)}, with invariants ${w.afterWithInvariants.warm.microsPerResource.toFixed(0)}`);
  }
  if (creates > 0) result.creates = await measureCreates(dist, profilesFor, sets.synthea, creates, rounds);
  result.loadAverageAfter = os.loadavg()[0];
  return result;
}

/**
 * Creates through the interactions, in this process, on a fresh PGlite database: the Synthea resources in turn
 * (references between them are urn:uuid, left as they are), rounds of `count` creates per variant, taking turns.
 */
async function measureCreates(dist, profilesFor, resources, count, rounds) {
  const [{ loadConfig }, { createContext }, { handleFhirRequest }, { UNRESTRICTED }] = await Promise.all([
    dist('config/config.js'),
    dist('import/context.js'),
    dist('pipeline/fhir-request.js'),
    dist('access/caller.js'),
  ]);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'bench-write-'));
  const { context, close } = await createContext(loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'warn' }));
  const contexts = { before: { ...context, profiles: profilesFor('before') }, after: { ...context, profiles: profilesFor('after') } };
  let next = 0;
  const create = async (ctx) => {
    const resource = resources[next++ % resources.length];
    const { id: _id, ...body } = resource;
    const response = await handleFhirRequest(
      { method: 'POST', path: resource.resourceType, query: {}, body, headers: { 'content-type': 'application/fhir+json', prefer: 'return=minimal' }, baseUrl: 'http://localhost/fhir', caller: UNRESTRICTED },
      ctx,
    );
    if (response.status !== 201) throw new Error(`create of a ${resource.resourceType} answered ${response.status}`);
  };
  const perSecond = { before: [], after: [] };
  try {
    // A warm-up round, not counted: the validators' cold passes and the database's first pages.
    for (const v of Object.keys(contexts)) for (let i = 0; i < Math.min(count, 100); i++) await create(contexts[v]);
    for (let round = 0; round < rounds; round++) {
      for (const v of Object.keys(contexts)) {
        const started = performance.now();
        for (let i = 0; i < count; i++) await create(contexts[v]);
        perSecond[v].push((count / (performance.now() - started)) * 1000);
      }
    }
  } finally {
    await close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  const result = { count, rounds, before: median(perSecond.before), after: median(perSecond.after), perRound: perSecond };
  log(`write validation, creates through the interactions on PGlite: ${result.before.toFixed(0)}/s before, ${result.after.toFixed(0)}/s after`);
  return result;
}

// `node bench/write-validation.mjs [--into bench/results/<run>.json]`
if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const into = process.argv.indexOf('--into') > 0 ? process.argv[process.argv.indexOf('--into') + 1] : undefined;
  if (PIN) execFileSync('taskset', ['-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
  const writeValidation = await measureWriteValidation();
  if (into) {
    const { writeReport } = await import('./report.mjs');
    const results = JSON.parse(readFileSync(into, 'utf8'));
    results.writeValidation = writeValidation;
    writeFileSync(into, `${JSON.stringify(results, null, 2)}\n`);
    writeReport(root, into, results);
    log(`write validation results in ${into} and docs/PERFORMANCE.md`);
  } else {
    console.log(JSON.stringify(writeValidation, null, 2));
  }
}
