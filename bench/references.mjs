// Write-path cost of referential integrity (server/integrity, from dist/: `npm run build` first), in this process
// on an in-memory PGlite, no HTTP: POST of an Observation naming a Patient, a Practitioner and an Encounter
// (three references, one query), sequentially, with REFERENTIAL_INTEGRITY on and off; then a transaction Bundle
// of 100 such Observations, and DELETEs of unreferenced resources. Medians of alternating rounds.
//   node bench/references.mjs            BENCH_REFERENCES_N  writes per round (default 500), BENCH_REFERENCES_ROUNDS (default 3)
import { openDatabase } from '../dist/server/store/open.js';
import { createFhirContext } from '../dist/server/pipeline/context.js';
import { handleFhirRequest } from '../dist/server/pipeline/fhir-request.js';
import { extractIndexRows } from '../dist/server/search/index/extract.js';
import { R4_REGISTRY } from '../dist/server/search/registry.js';
import { SchemaValidator } from '../dist/server/validation/schema-validator.js';
import { UNRESTRICTED } from '../dist/server/access/caller.js';

const N = Number(process.env.BENCH_REFERENCES_N ?? 500);
const ROUNDS = Number(process.env.BENCH_REFERENCES_ROUNDS ?? 3);
const BASE = 'http://bench.local/fhir';
const options = { allowUpdateCreate: true, allowMultipleDelete: false, maxBundleEntries: 10000, defaultPageSize: 20, maxPageSize: 1000, deleteReferenced: false };

const db = await openDatabase({});
const schema = new SchemaValidator();
const contexts = Object.fromEntries(
  [true, false].map((on) => [on ? 'on' : 'off', createFhirContext(db, schema, R4_REGISTRY, (r) => extractIndexRows(r, R4_REGISTRY), { ...options, referentialIntegrity: on })]),
);
const call = (context, method, path, body) => handleFhirRequest({ method, path, query: {}, headers: {}, baseUrl: BASE, caller: UNRESTRICTED, body }, context);

for (const [type, extra] of [['Patient', {}], ['Practitioner', {}], ['Encounter', { status: 'finished', class: { code: 'AMB' }, subject: { reference: 'Patient/p' } }]]) {
  await call(contexts.off, 'PUT', `${type}/${type === 'Patient' ? 'p' : type === 'Practitioner' ? 'dr' : 'e'}`, { resourceType: type, id: type === 'Patient' ? 'p' : type === 'Practitioner' ? 'dr' : 'e', ...extra });
}
const observation = () => ({ resourceType: 'Observation', status: 'final', code: { text: 'weight' }, subject: { reference: 'Patient/p' }, performer: [{ reference: 'Practitioner/dr' }], encounter: { reference: 'Encounter/e' }, valueQuantity: { value: 70, unit: 'kg' } });

async function timed(work) {
  const started = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - started) / 1e6;
}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

// Warm up both paths (definitions loaded, statements prepared).
for (const mode of ['on', 'off']) for (let i = 0; i < 50; i++) await call(contexts[mode], 'POST', 'Observation', observation());

const results = { creates: { on: [], off: [] }, bundle: { on: [], off: [] }, deletes: { on: [], off: [] } };
for (let round = 0; round < ROUNDS; round++) {
  for (const mode of round % 2 ? ['off', 'on'] : ['on', 'off']) {
    const ids = [];
    results.creates[mode].push(await timed(async () => {
      for (let i = 0; i < N; i++) ids.push((await call(contexts[mode], 'POST', 'Observation', observation())).body.id);
    }));
    const bundle = { resourceType: 'Bundle', type: 'transaction', entry: Array.from({ length: 100 }, () => ({ resource: observation(), request: { method: 'POST', url: 'Observation' } })) };
    results.bundle[mode].push(await timed(() => call(contexts[mode], 'POST', '', bundle)));
    results.deletes[mode].push(await timed(async () => {
      for (const id of ids) await call(contexts[mode], 'DELETE', `Observation/${id}`);
    }));
  }
}
const row = (name, unit, per) => {
  const on = median(results[name].on);
  const off = median(results[name].off);
  console.log(`${name.padEnd(8)} on ${(on / per).toFixed(3)} ${unit}, off ${(off / per).toFixed(3)} ${unit} (+${(((on - off) / off) * 100).toFixed(1)} %)`);
};
console.log(`referential integrity, PGlite in memory, ${N} writes per round, ${ROUNDS} rounds (medians):`);
row('creates', 'ms/create', N);
row('bundle', 'ms/Bundle of 100', 1);
row('deletes', 'ms/delete', N);
await db.close();
