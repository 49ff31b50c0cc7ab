// Per-request cost of the audit trail (docs/AUDIT.md): the same reads, searches and creates through
// handleFhirRequest, recorded (one AuditEvent each) and not recorded (dispatched as a Bundle entry is, which adds
// to an enclosing record instead of writing one). Run after `npm run build`:
//   node bench/audit-cost.mjs                 (PGlite in memory)
//   DATABASE_URL=postgres://… node bench/audit-cost.mjs
import { UNRESTRICTED } from '../dist/server/access/caller.js';
import { Touched } from '../dist/server/audit/touched.js';
import { createFhirContext } from '../dist/server/pipeline/context.js';
import { handleFhirRequest } from '../dist/server/pipeline/fhir-request.js';
import { extractIndexRows } from '../dist/server/search/index/extract.js';
import { R4_REGISTRY } from '../dist/server/search/registry.js';
import { openDatabase } from '../dist/server/store/open.js';
import { SchemaValidator } from '../dist/server/validation/schema-validator.js';

const N = Number(process.env.N ?? 400);
const db = await openDatabase({ databaseUrl: process.env.DATABASE_URL });
const options = { allowUpdateCreate: true, allowMultipleDelete: false, maxBundleEntries: 1000, defaultPageSize: 20, maxPageSize: 1000 };
const context = createFhirContext(db, new SchemaValidator(), R4_REGISTRY, (resource) => extractIndexRows(resource, R4_REGISTRY), options);
const call = (ctx, method, path, extra = {}) =>
  handleFhirRequest({ method, path, query: {}, headers: {}, baseUrl: 'http://bench/fhir', caller: UNRESTRICTED, ...extra }, ctx);

const patient = (await call(context, 'POST', 'Patient', { body: { resourceType: 'Patient', active: true } })).body;
const observation = { resourceType: 'Observation', status: 'final', code: { text: 'weight' }, subject: { reference: `Patient/${patient.id}` } };
const work = {
  read: (ctx) => call(ctx, 'GET', `Patient/${patient.id}`),
  search: (ctx) => call(ctx, 'GET', 'Observation', { query: { subject: [`Patient/${patient.id}`], _count: ['10'] } }),
  create: (ctx) => call(ctx, 'POST', 'Observation', { body: observation }),
};

async function timed(ctx, kind) {
  for (let i = 0; i < 20; i++) await work[kind](ctx); // warm-up
  const started = process.hrtime.bigint();
  for (let i = 0; i < N; i++) await work[kind](ctx);
  return Number(process.hrtime.bigint() - started) / 1e6 / N;
}

const results = [];
for (let round = 0; round < 2; round++) {
  for (const kind of Object.keys(work)) {
    const plain = await timed({ ...context, auditing: new Touched(R4_REGISTRY) }, kind);
    const audited = await timed(context, kind);
    if (round === 1) results.push({ kind, plain, audited });
  }
}
console.log(`audit cost on ${db.dialect}, ${N} sequential requests each (ms per request):`);
for (const { kind, plain, audited } of results) {
  console.log(`  ${kind.padEnd(6)}  without record ${plain.toFixed(2)}  with AuditEvent ${audited.toFixed(2)}  (+${(audited - plain).toFixed(2)})`);
}

// Concurrent reads: each read's event committed on its own, or group-committed with the others' (the default).
const CLIENTS = 16;
async function concurrent(ctx) {
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: CLIENTS }, async () => {
    for (let i = 0; i < N / CLIENTS; i++) await work.read(ctx);
  }));
  return (N / (Number(process.hrtime.bigint() - started) / 1e9)).toFixed(0);
}
const modes = {
  'without record': { ...context, auditing: new Touched(R4_REGISTRY) },
  'one commit per event': { ...context, auditLog: undefined },
  'group commit': context,
};
for (const ctx of Object.values(modes)) await concurrent(ctx); // warm-up
console.log(`${CLIENTS} concurrent readers, reads per second:`);
for (const [name, ctx] of Object.entries(modes)) console.log(`  ${name.padEnd(22)} ${await concurrent(ctx)}`);
await db.close();
