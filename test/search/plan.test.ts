import type { FhirResource } from 'fhir/r4';
import { parseSearch } from '../../server/search/query/parse.js';
import { R4_REGISTRY } from '../../server/search/registry.js';
import { compileSearch } from '../../server/search/sql/compile.js';
import { includeStatement } from '../../server/search/sql/include.js';
import { extractIndexRows } from '../../server/search/index/extract.js';
import { SqlResourceStore } from '../../server/store/sql-resource-store.js';
import { registrationConsent } from '../support/registration.js';
import { postgresBackend, TEST_DATABASE_URL, type TestDatabase } from '../support/backends.js';
import { moveQueuedAuditIndex } from '../../server/store/audit-index-queue.js';

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

const PATIENTS = 400;

function registration(id: string, patient: string, organization: string): FhirResource {
  return { ...registrationConsent(patient, organization, 'view'), id };
}
const OBSERVATIONS_PER_PATIENT = 10;

/**
 * The key CCP queries are answered from indexes, not by reading the resource table: EXPLAIN on PostgreSQL once
 * the tables hold enough rows for the planner to care (a few thousand resources, statistics gathered).
 */
if (!TEST_DATABASE_URL) {
  describe('search query plans on PostgreSQL', () => {
    it('does not run without TEST_DATABASE_URL: query plans are PostgreSQL server plans (CI sets it)', () => {
      console.warn('TEST_DATABASE_URL is not set: the query plan suite does not run.');
      expect(TEST_DATABASE_URL).toBeUndefined();
    });
  });
} else {
  const backend = postgresBackend(TEST_DATABASE_URL);
  describe('search query plans on PostgreSQL', () => {
    let database: TestDatabase;
    beforeAll(async () => {
      database = await backend.open();
      const store = new SqlResourceStore(database.db, (resource) => extractIndexRows(resource, R4_REGISTRY));
      for (let p = 0; p < PATIENTS; p++) {
        const resources: FhirResource[] = [
          { resourceType: 'Patient', id: `p${p}`, identifier: [{ system: 'urn:oid:2.16.840.1.113883.4.59', value: `HCN${p}` }], gender: p % 2 ? 'male' : 'female' },
          { resourceType: 'CareTeam', id: `ct${p}`, subject: { reference: `Patient/p${p}` } },
          {
            resourceType: 'CarePlan',
            id: `cp${p}`,
            status: p % 3 ? 'active' : 'completed',
            intent: 'plan',
            subject: { reference: `Patient/p${p}` },
            careTeam: [{ reference: `CareTeam/ct${p}` }],
          },
          { resourceType: 'Consent', id: `c${p}`, status: 'active', scope: { text: 'patient-privacy' }, category: [{ text: 'consent' }], patient: { reference: `Patient/p${p}` } },
          // A partner organization's registration for the patient: the rows the consent gate looks up.
          registration(`r${p}`, `p${p}`, `org${p % 10}`),
          {
            resourceType: 'AuditEvent',
            id: `a${p}`,
            type: { system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110110' },
            recorded: `2024-0${(p % 9) + 1}-15T10:00:00Z`,
            agent: [{ who: { reference: `Patient/p${p}` }, requestor: false }],
            source: { observer: { display: 'ccp' } },
          },
          ...Array.from({ length: OBSERVATIONS_PER_PATIENT }, (_, o): FhirResource => ({
            resourceType: 'Observation',
            id: `o${p}-${o}`,
            status: 'final',
            code: { coding: [{ system: 'http://loinc.org', code: '8302-2' }] },
            subject: { reference: `Patient/p${p}` },
            valueQuantity: { value: 150 + o, system: 'http://unitsofmeasure.org', code: 'cm' },
          })),
        ];
        for (const resource of resources) {
          // AuditEvents are append-only: created, never put.
          if (resource.resourceType === 'AuditEvent') await store.create(resource, resource.id);
          else await store.update({ ...resource, id: resource.id! }, { allowCreate: true });
        }
      }
      // The AuditEvents' index rows out of their queue (migration 011), as any search of them does first.
      await moveQueuedAuditIndex(database.db);
      await database.db.exec('ANALYZE');
      const partitions = await database.db.query<{ name: string }>(
        `SELECT c.relname AS name FROM pg_class c WHERE c.relname ~ '^audit_\\w+_(p\\d{6}|default)$' AND c.relkind = 'r' AND c.reltuples > 0`,
      );
      holding = new Set(partitions.map((row) => row.name));
    }, 180_000);
    afterAll(async () => database?.close());

    /** The audit partitions holding rows (the month the AuditEvents above were stored in). */
    let holding = new Set<string>();
    const explain = async (sql: string, params: unknown[]): Promise<PlanNode[]> => {
      const [row] = await database.db.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(`EXPLAIN (FORMAT JSON) ${sql}`, params);
      return nodes(row['QUERY PLAN'][0].Plan);
    };
    const planOf = (type: string, query: Record<string, string[]>) => {
      const parsed = parseSearch(query, [type], R4_REGISTRY, { defaultCount: 20, maxCount: 1000 });
      return compileSearch(parsed);
    };
    const expectIndexed = (plan: PlanNode[], index: RegExp) => {
      // The audit tables' partitions of months without events are empty: reading them whole costs nothing.
      const empty = /^audit_\w+_(p\d{6}|default)$/;
      const seqScans = plan.filter((n) => n['Node Type'] === 'Seq Scan').map((n) => n['Relation Name']).filter((name) => !empty.test(name ?? '') || holding.has(name!));
      expect(seqScans).toEqual([]);
      expect(plan.some((n) => index.test(n['Index Name'] ?? ''))).toBe(true);
    };

    it.each([
      ['CarePlan', { patient: ['Patient/p7'], status: ['active'] }, /^search_reference_target$/],
      ['Consent', { patient: ['p7'], status: ['active'] }, /^search_reference_target$/],
      // The trail's own tables (migration 007): the index of the partition holding the rows.
      ['AuditEvent', { patient: ['Patient/p7'], date: ['ge2024-01-01'] }, /^audit_reference_p\d{6}_target_id_target_type_param_idx$/],
      ['Patient', { identifier: ['urn:oid:2.16.840.1.113883.4.59|HCN7'] }, /^search_token_value$/],
      ['Observation', { subject: ['Patient/p7'], code: ['http://loinc.org|8302-2'] }, /^search_reference_target$/],
    ])('%s?%j: page and count use indexes, no sequential scan', async (type, query, index) => {
      const compiled = planOf(type, query);
      expectIndexed(await explain(compiled.page.sql, compiled.page.params), index);
      expectIndexed(await explain(compiled.count.sql, compiled.count.params), index);
    });

    it('a partner\'s CarePlan?patient=…&status=active: the consent gate is answered from indexes too', async () => {
      const query = parseSearch({ patient: ['Patient/p7'], status: ['active'] }, ['CarePlan'], R4_REGISTRY, { defaultCount: 20, maxCount: 1000 });
      const compiled = compileSearch({ ...query, consent: { organization: 'org7', practitioner: 'u1', level: 'view' } });
      for (const statement of [compiled.page, compiled.count]) {
        expectIndexed(await explain(statement.sql, statement.params), /^search_reference_target$/);
      }
      // The decision itself runs inside consent_permits (migration 012), out of EXPLAIN's sight: the transaction's
      // own statistics show what it read (org7 is registered for p7).
      const scans = await database.db.transaction(async (tx) => {
        const [decided] = await tx.query<{ permits: boolean }>(
          "SELECT consent_permits('p7', 'Organization/org7', 'Practitioner/u1', ARRAY['registration-view', 'registration-modify']) AS permits",
        );
        const [read] = await tx.query<{ seq: string; idx: string }>(
          `SELECT (SELECT seq_scan FROM pg_stat_xact_user_tables WHERE relid = 'search_composite'::regclass)::text AS seq,
                  pg_stat_get_xact_numscans('search_composite_value'::regclass)::text AS idx`,
        );
        return { permits: decided.permits, seq: Number(read.seq), idx: Number(read.idx) };
      });
      expect(scans).toEqual({ permits: true, seq: 0, idx: expect.any(Number) });
      expect(scans.idx).toBeGreaterThan(0);
    });

    it.each([
      ['Consent', { category: ['http://terminology.hl7.org/CodeSystem/v3-ActCode|INFA'], organization: ['Organization/org7'] }],
      ['Consent', { patient: ['Patient/p7'] }],
      ['Task', { patient: ['Patient/p7'], status: ['requested'] }],
    ])("a partner privacy contact's %s?%j: the records of consent are answered from indexes too", async (type, params) => {
      const query = parseSearch(params, [type], R4_REGISTRY, { defaultCount: 20, maxCount: 1000 });
      const gate = { organization: 'org7', practitioner: 'u1', practitionerRole: 'u1', privacyContact: true, level: 'view' as const };
      const compiled = compileSearch({ ...query, consent: gate });
      for (const statement of [compiled.page, compiled.count]) {
        const plan = await explain(statement.sql, statement.params);
        expect(plan.filter((n) => n['Node Type'] === 'Seq Scan').map((n) => n['Relation Name'])).toEqual([]);
      }
    });

    it("a partner's read by id is prepared, and its generic plan starts from the primary key", async () => {
      const byId = (params: Record<string, string[]>, types = ['CarePlan']) =>
        compileSearch({ ...parseSearch(params, types, R4_REGISTRY, { defaultCount: 1, maxCount: 1 }), total: 'none', consent: { organization: 'org7', level: 'view' } });
      const compiled = byId({ _id: ['cp7'] });
      expect(compiled.planStable).toBe(true);
      // Plans that depend on the values are not prepared (server/store/search.ts).
      expect([byId({ _id: ['cp7'], status: ['active'] }), byId({ '_id:not': ['cp7'] }), byId({ _id: ['cp7'] }, ['CarePlan', 'Goal'])].map((c) => c.planStable)).toEqual([false, false, false]);
      const literal = (value: unknown): string =>
        Array.isArray(value) ? `ARRAY[${value.map(literal).join(', ')}]::text[]` : typeof value === 'number' ? String(value) : `'${String(value).replace(/'/g, "''")}'`;
      const plan = await database.db.transaction(async (tx) => {
        await tx.query('SET LOCAL plan_cache_mode = force_generic_plan');
        await tx.query(`PREPARE partner_by_id AS ${compiled.page.sql}`);
        try {
          const [row] = await tx.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(`EXPLAIN (FORMAT JSON) EXECUTE partner_by_id(${compiled.page.params.map(literal).join(', ')})`);
          return nodes(row['QUERY PLAN'][0].Plan);
        } finally {
          await tx.query('DEALLOCATE partner_by_id');
        }
      });
      expect(plan.find((n) => n['Relation Name'] === 'resource')?.['Index Name']).toBe('resource_pkey');
      expect(plan.filter((n) => n['Node Type'] === 'Seq Scan').map((n) => n['Relation Name'])).toEqual([]);
    });

    it("a partner's read by id settles on its generic plan: PostgreSQL stops planning it after five runs", async () => {
      // PostgreSQL keeps planning a prepared statement for its values while the generic plan looks costlier; with
      // `id = ANY($n)` it expected ten ids and never switched (0.8 ms of planning on every partner read).
      const compiled = compileSearch({
        ...parseSearch({ _id: ['cp7'] }, ['CarePlan'], R4_REGISTRY, { defaultCount: 1, maxCount: 1 }),
        total: 'none',
        consent: { organization: 'org7', level: 'view' },
      });
      const literal = (value: unknown): string =>
        Array.isArray(value) ? `ARRAY[${value.map(literal).join(', ')}]::text[]` : typeof value === 'number' ? String(value) : `'${String(value).replace(/'/g, "''")}'`;
      const execute = `EXECUTE partner_read(${compiled.page.params.map(literal).join(', ')})`;
      const plan = await database.db.transaction(async (tx) => {
        await tx.query(`PREPARE partner_read AS ${compiled.page.sql}`);
        try {
          for (let run = 0; run < 6; run++) await tx.query(execute);
          const [row] = await tx.query<{ 'QUERY PLAN': [{ Plan: PlanNode & { 'Index Cond'?: string } }] }>(`EXPLAIN (FORMAT JSON) ${execute}`);
          return nodes(row['QUERY PLAN'][0].Plan) as (PlanNode & { 'Index Cond'?: string })[];
        } finally {
          await tx.query('DEALLOCATE partner_read');
        }
      });
      // A generic plan compares with the parameter, a plan for the values with the value itself.
      const lookup = plan.find((n) => n['Index Name'] === 'resource_pkey');
      expect(lookup?.['Index Cond']).toMatch(/\$\d/);
      expect(lookup?.['Index Cond']).not.toContain('cp7');
    });

    it('CarePlan?subject=…&_include=CarePlan:care-team: the include query uses indexes too', async () => {
      const compiled = planOf('CarePlan', { subject: ['Patient/p7'] });
      expectIndexed(await explain(compiled.page.sql, compiled.page.params), /^search_reference_target$/);
      const [plan] = await database.db.query<{ rid: string }>('SELECT rid::text AS rid FROM resource WHERE resource_type = $1 AND id = $2', ['CarePlan', 'cp7']);
      const include = includeStatement({ sourceType: 'CarePlan', param: 'care-team', iterate: false }, [{ rid: plan.rid, resourceType: 'CarePlan', id: 'cp7' }], false);
      expectIndexed(await explain(include.sql, include.params), /^search_reference_rid$|^resource_pkey$/);
    });
  });
}
