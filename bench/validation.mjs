// Validation throughput of the profile validator (server/validation/profile, from dist/: `npm run build` first),
// in this process, on one core:
//   - the official R4 examples (hl7.fhir.r4.examples, 5,306 resources) against their base definitions: a cold
//     first pass on a fresh validator (definitions loaded beforehand; StructureDefinitions and invariants compiled
//     as the pass meets them), then warm passes; resources/s and MB/s of JSON (parsing excluded), and the five
//     resource types that take longest per resource;
//   - the CCP guide's examples (conformance/profiles/examples/) against the profiles they claim.
// `npm run bench` runs it after the HTTP scenarios (measureValidation()); by itself:
//   node bench/validation.mjs                       prints the results
//   node bench/validation.mjs --into <results.json> also stores them as `validation` in that run's results file
//                                                   and writes docs/PERFORMANCE.md again from it
//   BENCH_VALIDATION_PASSES  warm passes over the official examples (default 3)
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { log, machine, PIN, root } from './harness.mjs';

const PASSES = Number(process.env.BENCH_VALIDATION_PASSES ?? 3);
const EXAMPLES = path.join(root, 'node_modules/hl7.fhir.r4.examples');
const GUIDE_EXAMPLES = path.join(root, 'conformance/profiles/examples');
/** Passes over the guide's few examples, so the measured time is long enough to mean something. */
const GUIDE_REPEAT = 200;

const isError = (issue) => issue.severity === 'error' || issue.severity === 'fatal';

function readJsonFiles(dir, skip = new Set()) {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.json') && !skip.has(name))
    .sort()
    .map((name) => {
      const text = readFileSync(path.join(dir, name), 'utf8');
      return { name, bytes: Buffer.byteLength(text), resource: JSON.parse(text) };
    });
}

/** One pass: every item validated once, timed one by one (the sum is the pass's time). */
function pass(validator, items, profilesOf) {
  let errorFree = 0;
  let warningFree = 0;
  const times = new Float64Array(items.length);
  for (let i = 0; i < items.length; i++) {
    const started = process.hrtime.bigint();
    const issues = profilesOf ? profilesOf(items[i].resource).flatMap((p) => validator.validate(items[i].resource, p)) : validator.validate(items[i].resource);
    times[i] = Number(process.hrtime.bigint() - started) / 1e6;
    if (!issues.some(isError)) errorFree++;
    if (!issues.some((issue) => isError(issue) || issue.severity === 'warning')) warningFree++;
  }
  return { times, errorFree, warningFree };
}

function summary(items, times) {
  const ms = times.reduce((sum, t) => sum + t, 0);
  const bytes = items.reduce((sum, item) => sum + item.bytes, 0);
  return { ms, resourcesPerSecond: (items.length / ms) * 1000, mbPerSecond: (bytes / 2 ** 20 / ms) * 1000 };
}

/** The resource types taking longest per resource in a warm pass (Bundles are counted as Bundles). */
function slowestTypes(items, times, count = 5) {
  const byType = new Map();
  items.forEach((item, i) => {
    const type = item.resource.resourceType;
    const entry = byType.get(type) ?? { type, resources: 0, ms: 0, bytes: 0 };
    entry.resources++;
    entry.ms += times[i];
    entry.bytes += item.bytes;
    byType.set(type, entry);
  });
  const total = times.reduce((sum, t) => sum + t, 0);
  return [...byType.values()]
    .map((e) => ({ ...e, msPerResource: e.ms / e.resources, kbPerResource: e.bytes / e.resources / 1024, shareOfTime: e.ms / total }))
    .sort((a, b) => b.msPerResource - a.msPerResource)
    .slice(0, count);
}

export async function measureValidation({ passes = PASSES } = {}) {
  const dist = (file) => import(path.join(root, 'dist/server', file));
  const [{ loadDefinitions }, { createTerminology }, { createProfileValidator }] = await Promise.all([
    dist('conformance/definitions.js'),
    dist('terminology/service.js'),
    dist('validation/profile/profile-validator.js'),
  ]);
  let started = performance.now();
  const definitions = loadDefinitions();
  const definitionsMs = performance.now() - started;

  const official = readJsonFiles(EXAMPLES, new Set(['package.json']));
  const officialBytes = official.reduce((sum, item) => sum + item.bytes, 0);
  log(`validation: ${official.length} official examples (${(officialBytes / 2 ** 20).toFixed(0)} MB), ${passes} warm passes`);
  const validator = createProfileValidator(definitions, createTerminology(definitions));
  const cold = pass(validator, official);
  const warm = [];
  for (let i = 0; i < passes; i++) warm.push(pass(validator, official));
  // The median warm pass by time, for the per-type table too.
  const sorted = [...warm].sort((a, b) => summary(official, a.times).ms - summary(official, b.times).ms);
  const median = sorted[Math.floor(sorted.length / 2)];

  const guide = readJsonFiles(GUIDE_EXAMPLES);
  const profilesOf = (resource) => resource.meta?.profile ?? [];
  const guideValidator = createProfileValidator(definitions, createTerminology(definitions));
  const guideCold = pass(guideValidator, guide, profilesOf);
  const repeated = Array.from({ length: GUIDE_REPEAT }, () => guide).flat();
  const guideWarm = pass(guideValidator, repeated, profilesOf);

  const result = {
    measuredAt: new Date().toISOString(),
    machine: machine(),
    pinned: PIN,
    definitionsMs,
    official: {
      resources: official.length,
      megabytes: officialBytes / 2 ** 20,
      withoutError: cold.errorFree,
      withoutWarning: cold.warningFree,
      cold: summary(official, cold.times),
      warm: warm.map((w) => summary(official, w.times)),
      warmMedian: summary(official, median.times),
      slowestTypes: slowestTypes(official, median.times),
    },
    guide: {
      resources: guide.length,
      profiles: guide.reduce((sum, item) => sum + profilesOf(item.resource).length, 0),
      withoutError: guideCold.errorFree,
      cold: summary(guide, guideCold.times),
      warm: summary(repeated, guideWarm.times),
      repeat: GUIDE_REPEAT,
    },
  };
  log(
    `validation: official cold ${result.official.cold.resourcesPerSecond.toFixed(0)} resources/s, warm ${result.official.warmMedian.resourcesPerSecond.toFixed(0)} resources/s ` +
      `(${result.official.warmMedian.mbPerSecond.toFixed(2)} MB/s); guide warm ${result.guide.warm.resourcesPerSecond.toFixed(0)} resources/s`,
  );
  return result;
}

// `node bench/validation.mjs [--into bench/results/<run>.json]`
if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const into = process.argv.indexOf('--into') > 0 ? process.argv[process.argv.indexOf('--into') + 1] : undefined;
  // On the second core, as the servers are in `npm run bench`.
  if (PIN) execFileSync('taskset', ['-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
  const validation = await measureValidation();
  if (into) {
    const { writeReport } = await import('./report.mjs');
    const results = JSON.parse(readFileSync(into, 'utf8'));
    results.validation = validation;
    writeFileSync(into, `${JSON.stringify(results, null, 2)}\n`);
    writeReport(root, into, results);
    log(`validation results in ${into} and docs/PERFORMANCE.md`);
  } else {
    console.log(JSON.stringify(validation, null, 2));
  }
}
