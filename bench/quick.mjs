// Dev loop: the scenarios of `npm run bench` on an already loaded PostgreSQL schema or PGlite folder, without the
// import, ceilings or extra phases. `node bench/quick.mjs [scenario-substring…]` with DATABASE_URL or DATA_DIR set.
import { HOST_ORGANIZATION, setUpPartner } from './partner.mjs';
import { accessToken, load, log, startServer } from './harness.mjs';
import { sampleIds } from './sample-ids.mjs';
import pg from 'pg';

const filters = process.argv.slice(2);
const db = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 1 });
const ids = await sampleIds(async (sql) => (await db.query(sql)).rows);
await db.end();
const server = await startServer({ DATABASE_URL: process.env.DATABASE_URL, HOSTING_ORGANIZATION: HOST_ORGANIZATION });
try {
  const partnerToken = await setUpPartner(server, ids);
  const hostToken = () => accessToken(server.base, 'local-admin', server.secret);
  const search = (patient) => `CarePlan?patient=Patient/${patient}&status=active`;
  const scenarios = [
    { name: 'read', path: `Patient/${ids.patient}` },
    { name: 'careplan-read', path: `CarePlan/${ids.carePlan}` },
    { name: 'search', path: search(ids.carePlanPatient) },
    { name: 'include', path: `${search(ids.carePlanPatient)}&_include=CarePlan:care-team` },
    { name: 'identifier', path: `Patient?identifier=${encodeURIComponent(ids.identifier)}` },
    { name: 'create', path: 'CarePlan', method: 'POST', body: JSON.stringify({ resourceType: 'CarePlan', status: 'draft', intent: 'plan', subject: { reference: `Patient/${ids.patient}` } }) },
    { name: 'partner-read', path: `CarePlan/${ids.carePlan}`, partner: true },
    { name: 'partner-search', path: search(ids.carePlanPatient), partner: true },
  ].filter((s) => !filters.length || filters.some((f) => s.name.includes(f)));
  for (const scenario of scenarios) {
    const token = await (scenario.partner ? partnerToken() : hostToken());
    const r = await load(`${server.base}/fhir/${scenario.path}`, token, scenario);
    log(`${scenario.name}: ${r.requestsPerSecond.toFixed(0)} req/s p50 ${r.latency.p50} p99 ${r.latency.p99} errors ${r.errors} non2xx ${r.non2xx}`);
  }
} finally {
  await server.stop();
}
