// `npm run generate -- --patients N --out DIR`: synthetic CCP patients (bench/generate) as transaction Bundles in
// .json files that `npm run import -- DIR` loads: first the organizations and staff they name, then the patients,
// 40 a file (Patient, Conditions, Goals, CareTeam, the CCP, approved partner registrations and, for about one in
// ten, a consent directive). Ids are fixed by the seed (Patient/gen-p-0, …), so importing the files again updates.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_SEED, generateBundles, HOST, partnerIds } from '../bench/generate/bundles.mjs';

const USAGE = `usage: npm run generate -- --patients N --out DIR [--seed ${DEFAULT_SEED}]
  Writes N synthetic patients with Coordinated Care Plans as transaction Bundles (.json) into DIR, a new or
  empty folder; load them with npm run import -- DIR. Their plans belong to Organization/${HOST}, their
  registrations to ${partnerIds.length} partner organizations (${partnerIds[0]} …): start the server with
  HOSTING_ORGANIZATION=${HOST} for the consent rules to read them as meant. Dates are relative to today.`;

function main() {
  let values;
  try {
    ({ values } = parseArgs({ options: { patients: { type: 'string' }, out: { type: 'string' }, seed: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true }));
  } catch (error) {
    console.error(`${error.message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const patients = Number(values.patients);
  const seed = values.seed === undefined ? DEFAULT_SEED : Number(values.seed);
  if (values.patients === undefined || !values.out) {
    console.error(USAGE);
    return 2;
  }
  if (!Number.isInteger(patients) || patients < 1 || patients > 1_000_000) {
    console.error(`--patients must be a whole number from 1 to 1000000, not ${values.patients}`);
    return 2;
  }
  if (!Number.isInteger(seed)) {
    console.error(`--seed must be a whole number, not ${values.seed}`);
    return 2;
  }
  const out = path.resolve(values.out);
  if (existsSync(out) && readdirSync(out).some((name) => /\.(nd)?json(\.gz)?$/i.test(name))) {
    console.error(`${out} already holds .json files: give a new or empty folder (npm run import would load them all)`);
    return 2;
  }
  mkdirSync(out, { recursive: true });
  let files = 0;
  let resources = 0;
  // The made-up audit history of the benchmarks stays out: an import records its own AuditEvents.
  for (const bundle of generateBundles({ patients, seed, audit: false })) {
    const patientIds = bundle.entry.filter((entry) => entry.resource.resourceType === 'Patient').map((entry) => entry.resource.id);
    const what = patientIds.length ? `patients-${patientIds[0].replace(/^gen-p-/, '')}-${patientIds.at(-1).replace(/^gen-p-/, '')}` : 'organizations-and-staff';
    const name = `generated-${String(files).padStart(4, '0')}-${what}.json`;
    writeFileSync(path.join(out, name), `${JSON.stringify(bundle)}\n`);
    files++;
    resources += bundle.entry.length;
  }
  console.log(`${patients} patients, ${resources} resources in ${files} transaction Bundles in ${out}\nload them: npm run import -- ${values.out}`);
  return 0;
}

process.exit(main());
