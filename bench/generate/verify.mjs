// Checks the generator against the real import path on a fresh schema: loads N synthetic patients, then compares
// what PostgreSQL holds with what the generator says it wrote, finds each plan by a search with the patient
// parameter, checks the registrations' and directives' `_access` rows, and that the consent gate filters a partner's
// search as the data says (registered: sees the plan; not registered or withheld by a directive: sees nothing).
// The schema is dropped afterwards.
//
//   node bench/generate/verify.mjs [--patients 200] [--ids put|uuid]     (DATABASE_URL: default this machine's test database)
import assert from 'node:assert/strict';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { parseResourceScope } from '../../dist/server/access/scopes.js';
import { loadConfig } from '../../dist/server/config/config.js';
import { UNRESTRICTED } from '../../dist/server/access/caller.js';
import { createContext } from '../../dist/server/import/context.js';
import { handleFhirRequest } from '../../dist/server/pipeline/fhir-request.js';
import { countByType, DEFAULT_SEED, generateBundles, HOST, MRN_SYSTEM, mrnOf, partnerIds, todayUtc } from './bundles.mjs';
import { loadPatients } from './load.mjs';
import { patientResources } from './patient.mjs';

const { values } = parseArgs({ options: { patients: { type: 'string', default: '200' }, ids: { type: 'string', default: 'put' } } });
const PATIENTS = Number(values.patients);
const base = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `bench_genverify_${Date.now().toString(36)}`;
const admin = new pg.Client({ connectionString: base });
await admin.connect();
await admin.query(`CREATE SCHEMA ${schema}`);
const url = new URL(base);
url.searchParams.set('options', `-c search_path=${schema}`);
const databaseUrl = url.toString();
let failed = false;
const check = async (name, work) => {
  try {
    await work();
    console.log(`ok    ${name}`);
  } catch (error) {
    failed = true;
    console.log(`FAIL  ${name}: ${error.message}`);
  }
};

try {
  const summary = await loadPatients({ databaseUrl, patients: PATIENTS, ids: values.ids });
  console.log(`loaded ${summary.resources} resources in ${summary.bundles} Bundles (${summary.resourcesPerSecond.toFixed(0)}/s)`);
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  const { context, close } = await createContext(loadConfig({ DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn', HOSTING_ORGANIZATION: HOST }));
  context.options = { ...context.options, hostingOrganization: HOST };
  const search = async (caller, path, query) => {
    const response = await handleFhirRequest({ method: 'GET', path, query, headers: {}, baseUrl: 'http://localhost/fhir', caller }, context);
    return (response.body.entry ?? []).filter((entry) => entry.search?.mode !== 'include').map((entry) => entry.resource);
  };
  const patientRef = async (index) =>
    values.ids === 'put'
      ? `Patient/gen-p-${index}`
      : `Patient/${(await db.query(`SELECT r.id FROM search_token t JOIN resource r ON r.rid = t.rid WHERE t.resource_type = 'Patient' AND t.param = 'identifier' AND t.system = $1 AND t.code = $2`, [MRN_SYSTEM, mrnOf(index)])).rows[0].id}`;

  await check('stored resources per type = generated (+ one import AuditEvent per Bundle)', async () => {
    const expected = {};
    let bundles = 0;
    for (const bundle of generateBundles({ patients: PATIENTS, ids: values.ids })) {
      countByType(bundle, expected);
      bundles++;
    }
    expected.AuditEvent += bundles;
    const { rows } = await db.query('SELECT resource_type, count(*)::int AS n FROM resource WHERE NOT deleted GROUP BY 1');
    const stored = Object.fromEntries(rows.map((row) => [row.resource_type, row.n]));
    // The server's first start (bootstrap) is not part of this load: no other type may appear.
    assert.deepEqual(stored, expected);
  });

  const people = Array.from({ length: PATIENTS }, (_, index) => ({ index, ...patientResources(index, { seed: DEFAULT_SEED, anchor: todayUtc() }) }));
  await check('CarePlan?patient=…&status=active finds each sampled patient\'s CCP (unrestricted)', async () => {
    for (const index of [0, 1, Math.floor(PATIENTS / 2), PATIENTS - 1]) {
      const patient = await patientRef(index);
      const found = await search(UNRESTRICTED, 'CarePlan', { patient: [patient], status: ['active'] });
      assert.equal(found.length, 1, `${patient}: ${found.length} plans`);
      assert.equal(found[0].subject.reference, patient);
      assert.match(found[0].text?.div ?? '', /Patient's goals|goal/i, 'the narrative rule ran');
    }
  });

  await check('Patient?identifier=MRN finds the patient', async () => {
    const found = await search(UNRESTRICTED, 'Patient', { identifier: [`${MRN_SYSTEM}|${mrnOf(3)}`] });
    assert.equal(found.length, 1);
  });

  await check('_access rows: one per registration (by level) and per directive actor, with current periods', async () => {
    const registrations = people.flatMap((p) => p.resources.filter((r) => r.resourceType === 'Consent' && r.status === 'active' && r.provision.type === 'permit'));
    const directives = people.filter((p) => p.withheldFrom).length;
    const { rows } = await db.query(`SELECT c1_system AS kind, count(*)::int AS n, bool_and(c2_date_low <= now() AND now() < c2_date_high) AS current
      FROM search_composite WHERE param = '_access' GROUP BY 1`);
    const byKind = Object.fromEntries(rows.map((row) => [row.kind, row]));
    const modify = registrations.filter((c) => c.provision.action.length === 2).length;
    assert.equal(byKind['registration-modify']?.n ?? 0, modify);
    assert.equal(byKind['registration-view']?.n ?? 0, registrations.length - modify);
    assert.equal(byKind.deny?.n ?? 0, directives);
    assert.ok(byKind['registration-view'].current && byKind['registration-modify'].current, 'every registration is current');
  });

  const partner = (organization, practitioner) => ({ kind: 'system', clientId: 'gen-verify', organization, ...(practitioner ? { practitioner } : {}), scopes: [parseResourceScope('system/CarePlan.rs')] });
  await check('consent gate: a registered partner sees the plan, an unregistered one does not', async () => {
    const open = people.find((p) => !p.withheldFrom);
    const patient = await patientRef(open.index);
    const registered = open.partners[0];
    const stranger = partnerIds.find((id) => !open.partners.includes(id));
    assert.equal((await search(partner(registered), 'CarePlan', { patient: [patient], status: ['active'] })).length, 1);
    assert.equal((await search(partner(stranger), 'CarePlan', { patient: [patient], status: ['active'] })).length, 0);
  });

  await check('consent gate: a directive withholds the plan from the organization it names', async () => {
    const withheld = people.find((p) => p.withheldFrom?.startsWith('Organization/'));
    assert.ok(withheld, 'no directive naming an organization among the patients');
    const patient = await patientRef(withheld.index);
    const organization = withheld.withheldFrom.slice('Organization/'.length);
    assert.equal((await search(partner(organization), 'CarePlan', { patient: [patient], status: ['active'] })).length, 0);
    const other = withheld.partners.find((id) => id !== organization);
    if (other) assert.equal((await search(partner(other), 'CarePlan', { patient: [patient], status: ['active'] })).length, 1);
  });
  await close();
  await db.end();
} finally {
  await admin.query(`DROP SCHEMA ${schema} CASCADE`);
  await admin.end();
}
process.exit(failed ? 1 : 0);
