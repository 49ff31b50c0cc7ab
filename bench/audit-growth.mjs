// Audit growth: clinical cost must not grow with the audit trail (issue 19). The same clinical requests
//   CarePlan?patient=…&status=active, Patient?identifier=…, and a create (POST CarePlan)
// are measured with the trail as it is (a loaded schema's few events), then with N more AuditEvents (default
// 1,000,000) inserted in bulk with SQL into the audit tables (migration 007): BALP-shaped read events spread over the
// last 60 days (so over three monthly partitions), each with the index rows the server writes for a read (~17). The
// server is restarted in between (a fresh first start, as bench/quick.mjs measures).
//
//   DATABASE_URL=… node bench/audit-growth.mjs [--events 1000000]
// on an already loaded schema (e.g. /work/notes/restore.sh). The bulk events are not linked into the hash chain
// (no request made them): `$verify` on that schema reports them as stored outside the chain.
import { parseArgs } from 'node:util';
import pg from 'pg';
import { accessToken, load, log, startServer } from './harness.mjs';
import { sampleIds } from './sample-ids.mjs';

const { values } = parseArgs({ options: { events: { type: 'string', default: '1000000' }, 'insert-only': { type: 'boolean', default: false } } });
const EVENTS = Number(values.events);
const BATCH = 100_000;

const db = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 1 });
const query = async (sql, params) => (await db.query(sql, params)).rows;
const ids = await sampleIds(query);

/** The bootstrap client's secret, printed at the first start only: kept for the second. */
let secret;

async function measure(label) {
  const server = await startServer({ DATABASE_URL: process.env.DATABASE_URL }, { secret });
  secret = server.secret;
  try {
    const token = await accessToken(server.base, 'local-admin', server.secret);
    const scenarios = [
      { name: 'search CarePlan?patient&status=active', path: `CarePlan?patient=Patient/${ids.carePlanPatient}&status=active` },
      { name: 'search Patient?identifier', path: `Patient?identifier=${encodeURIComponent(ids.identifier)}` },
      {
        name: 'create CarePlan',
        path: 'CarePlan',
        method: 'POST',
        body: JSON.stringify({ resourceType: 'CarePlan', status: 'draft', intent: 'plan', subject: { reference: `Patient/${ids.patient}` } }),
      },
    ];
    const results = {};
    for (const scenario of scenarios) {
      const r = await load(`${server.base}/fhir/${scenario.path}`, token, scenario);
      results[scenario.name] = { rps: Math.round(r.requestsPerSecond), p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.non2xx };
      log(`${label}: ${scenario.name}: ${r.requestsPerSecond.toFixed(0)} req/s p50 ${r.latency.p50} p99 ${r.latency.p99} errors ${r.errors} non2xx ${r.non2xx}`);
    }
    return results;
  } finally {
    await server.stop();
  }
}

/** N read events (BALP shape, as server/audit/rest-event.ts builds them) and their index rows, in batches. */
async function insertEvents(n) {
  await query("SELECT audit_add_partitions(now() - interval '60 days', now())");
  const patients = (await query("SELECT id FROM resource WHERE resource_type = 'Patient' AND NOT deleted ORDER BY rid LIMIT 100")).map((r) => r.id);
  for (let done = 0; done < n; done += BATCH) {
    const size = Math.min(BATCH, n - done);
    const started = Date.now();
    await query(
      `WITH src AS (
         SELECT g, gen_random_uuid()::text AS id, now() - (random() * interval '60 days') AS at,
                ($2::text[])[1 + (g % array_length($2::text[], 1))] AS patient, 'org-' || (g % 7) AS org, 'user-' || (g % 300) AS usr
         FROM generate_series(1, $1::int) g),
       events AS (
         INSERT INTO audit_event (id, last_updated, content)
         SELECT id, at, jsonb_build_object(
           'resourceType', 'AuditEvent', 'id', id, 'meta', jsonb_build_object('versionId', '1', 'lastUpdated', at),
           'type', jsonb_build_object('system', 'http://terminology.hl7.org/CodeSystem/audit-event-type', 'code', 'rest'),
           'subtype', jsonb_build_array(jsonb_build_object('system', 'http://hl7.org/fhir/restful-interaction', 'code', 'read')),
           'action', 'R', 'recorded', at, 'outcome', '0',
           'agent', jsonb_build_array(
             jsonb_build_object('type', jsonb_build_object('coding', jsonb_build_array(jsonb_build_object('system', 'http://dicom.nema.org/resources/ontology/DCM', 'code', '110153'))),
               'who', jsonb_build_object('reference', 'Practitioner/' || usr), 'altId', usr, 'requestor', true),
             jsonb_build_object('who', jsonb_build_object('reference', 'Organization/' || org), 'requestor', false),
             jsonb_build_object('who', jsonb_build_object('identifier', jsonb_build_object('system', 'urn:ccp:client-id', 'value', 'app')), 'requestor', false)),
           'source', jsonb_build_object('observer', jsonb_build_object('display', 'CCP Exchange')),
           'entity', jsonb_build_array(
             jsonb_build_object('what', jsonb_build_object('reference', 'Patient/' || patient), 'type', jsonb_build_object('system', 'http://terminology.hl7.org/CodeSystem/audit-entity-type', 'code', '1'), 'role', jsonb_build_object('system', 'http://terminology.hl7.org/CodeSystem/object-role', 'code', '1')),
             jsonb_build_object('what', jsonb_build_object('reference', 'Patient/' || patient || '/_history/1'), 'type', jsonb_build_object('system', 'http://terminology.hl7.org/CodeSystem/audit-entity-type', 'code', '2'), 'role', jsonb_build_object('system', 'http://terminology.hl7.org/CodeSystem/object-role', 'code', '4'))))
         FROM src RETURNING rid, id, last_updated, content),
       tokens AS (
         INSERT INTO audit_token (rid, resource_type, param, system, code, last_updated)
         SELECT e.rid, 'AuditEvent', t.param, t.system, t.code, e.last_updated FROM events e, (VALUES
           ('type', 'http://terminology.hl7.org/CodeSystem/audit-event-type', 'rest'), ('subtype', 'http://hl7.org/fhir/restful-interaction', 'read'),
           ('action', NULL, 'R'), ('outcome', NULL, '0'), ('agent-role', NULL, NULL),
           ('entity-type', 'http://terminology.hl7.org/CodeSystem/audit-entity-type', '1'), ('entity-type', 'http://terminology.hl7.org/CodeSystem/audit-entity-type', '2'),
           ('entity-role', 'http://terminology.hl7.org/CodeSystem/object-role', '1'), ('entity-role', 'http://terminology.hl7.org/CodeSystem/object-role', '4')) AS t(param, system, code)
         WHERE t.code IS NOT NULL
         UNION ALL SELECT e.rid, 'AuditEvent', 'altid', NULL, e.content->'agent'->0->>'altId', e.last_updated FROM events e),
       refs AS (
         INSERT INTO audit_reference (rid, resource_type, param, target_type, target_id, target_version, identifier_system, identifier_value, last_updated)
         SELECT e.rid, 'AuditEvent', 'agent', 'Practitioner', substr(e.content->'agent'->0->'who'->>'reference', 14), NULL, NULL, NULL, e.last_updated FROM events e
         UNION ALL SELECT e.rid, 'AuditEvent', 'agent', 'Organization', substr(e.content->'agent'->1->'who'->>'reference', 14), NULL, NULL, NULL, e.last_updated FROM events e
         UNION ALL SELECT e.rid, 'AuditEvent', 'agent', NULL, NULL, NULL, 'urn:ccp:client-id', 'app', e.last_updated FROM events e
         UNION ALL SELECT e.rid, 'AuditEvent', p.param, 'Patient', substr(e.content->'entity'->0->'what'->>'reference', 9), NULL, NULL, NULL, e.last_updated FROM events e, (VALUES ('entity'), ('patient')) p(param)
         UNION ALL SELECT e.rid, 'AuditEvent', 'entity', 'Patient', split_part(substr(e.content->'entity'->1->'what'->>'reference', 9), '/', 1), '1', NULL, NULL, e.last_updated FROM events e)
       INSERT INTO audit_date (rid, resource_type, param, low, high, last_updated)
       SELECT rid, 'AuditEvent', 'date', last_updated, last_updated, last_updated FROM events`,
      [size, patients],
    );
    log(`inserted ${done + size} AuditEvents (${((Date.now() - started) / 1000).toFixed(1)} s for ${size})`);
  }
  await query('ANALYZE audit_event, audit_token, audit_reference, audit_date');
}

const sizes = async () =>
  (await query(`SELECT (SELECT count(*) FROM audit_event)::int AS events, (SELECT count(*) FROM resource)::int AS clinical,
    pg_size_pretty((SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c WHERE c.relname ~ '^audit_' AND c.relkind = 'r' AND c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())))::text AS audit_size,
    pg_size_pretty((SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c WHERE (c.relname ~ '^search_' OR c.relname IN ('resource', 'resource_version')) AND c.relkind = 'r' AND c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())))::text AS clinical_size`))[0];

if (values['insert-only']) {
  await insertEvents(EVENTS);
  console.log(JSON.stringify(await sizes()));
  await db.end();
  process.exit(0);
}
const before = { ...(await measure('before')), stored: await sizes() };
await insertEvents(EVENTS);
const after = { ...(await measure(`with ${EVENTS} more AuditEvents`)), stored: await sizes() };
await db.end();
console.log(JSON.stringify({ events: EVENTS, before, after }, null, 2));
