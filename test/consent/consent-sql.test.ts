import type { Consent, FhirResource } from 'fhir/r4';
import { ACT_CODE, CONSENT_SCOPE, GATED_TYPES, OVERRIDE_CODE, PRIVACY_SCOPE } from '../../server/conformance/consent-vocabulary.js';
import type { ConsentGate, SearchQuery } from '../../server/search/query/model.js';
import { parseSearch } from '../../server/search/query/parse.js';
import { R4_REGISTRY } from '../../server/search/registry.js';
import { extractIndexRows } from '../../server/search/index/extract.js';
import { consentCondition } from '../../server/search/sql/consent.js';
import type { Database, QueryOptions } from '../../server/store/database.js';
import { SqlResourceStore } from '../../server/store/sql-resource-store.js';
import { Statement } from '../../server/search/sql/statement.js';
import { BACKENDS, reportBackends, type TestDatabase } from '../support/backends.js';
import { registrationConsent } from '../support/registration.js';

reportBackends();

const HOUR = 3600_000;
const iso = (offset: number) => new Date(Date.now() + offset).toISOString();
const actor = (reference: string) => ({ role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }] }, reference: { reference } });
const privacy = { scope: { coding: [{ system: CONSENT_SCOPE, code: PRIVACY_SCOPE }] } };

/**
 * p1: A registered (view), B registered (modify); pr1 holds an override. p2: A registered (modify), but a directive
 * denies everyone except B and pr2. p3: nobody registered. Rows of gated types name one or two patients (or none),
 * and ungated rows (Patient, Observation) sit beside them.
 */
const WORLD: FhirResource[] = [
  ...['p1', 'p2', 'p3'].map((id): FhirResource => ({ resourceType: 'Patient', id })),
  { resourceType: 'CarePlan', id: 'cp1', status: 'active', intent: 'plan', subject: { reference: 'Patient/p1' } },
  { resourceType: 'CarePlan', id: 'cp2', status: 'active', intent: 'plan', subject: { reference: 'Patient/p2' } },
  { resourceType: 'CarePlan', id: 'cp12', status: 'active', intent: 'plan', subject: { reference: 'Patient/p1' } },
  { resourceType: 'Goal', id: 'g1', lifecycleStatus: 'active', description: { text: 'walk' }, subject: { reference: 'Patient/p1' } },
  { resourceType: 'Goal', id: 'g3', lifecycleStatus: 'active', description: { text: 'rest' }, subject: { reference: 'Patient/p3' } },
  { resourceType: 'CareTeam', id: 'ct12', subject: { reference: 'Patient/p1' }, participant: [{ member: { reference: 'Patient/p2' } }] },
  { resourceType: 'Task', id: 't0', status: 'requested', intent: 'order' },
  { resourceType: 'Task', id: 't1', status: 'requested', intent: 'order', for: { reference: 'Patient/p1' } },
  { resourceType: 'Observation', id: 'o1', status: 'final', code: { text: 'weight' }, subject: { reference: 'Patient/p1' } },
  { ...registrationConsent('p1', 'A', 'view'), id: 'rA1' },
  { ...registrationConsent('p1', 'B', 'modify'), id: 'rB1' },
  { ...registrationConsent('p2', 'A', 'modify'), id: 'rA2' },
  {
    resourceType: 'Consent',
    id: 'd2',
    status: 'active',
    ...privacy,
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    patient: { reference: 'Patient/p2' },
    provision: { type: 'deny', provision: [{ type: 'permit', actor: [actor('Organization/B'), actor('Practitioner/pr2')] }] },
  } as Consent,
  {
    resourceType: 'Consent',
    id: 'o1pr1',
    status: 'active',
    ...privacy,
    category: [{ coding: [{ system: ACT_CODE, code: OVERRIDE_CODE }] }],
    patient: { reference: 'Patient/p1' },
    provision: { type: 'permit', period: { start: iso(-HOUR), end: iso(HOUR) }, actor: [actor('Practitioner/pr1')] },
  } as Consent,
];

const GATES: [string, ConsentGate][] = [
  ['A, view', { organization: 'A', level: 'view' }],
  ['A, modify', { organization: 'A', level: 'modify' }],
  ['B, view', { organization: 'B', level: 'view' }],
  ['pr2 of A, view', { organization: 'A', practitioner: 'pr2', level: 'view' }],
  ['pr1 without organization (override)', { practitioner: 'pr1', level: 'view' }],
  ['privacy contact pr2 of A', { organization: 'A', practitioner: 'pr2', practitionerRole: 'pr2', privacyContact: true, level: 'view' }],
  ['nobody', { level: 'view' }],
];

const TYPE_SETS: string[][] = [['CarePlan'], ['Goal'], ['CareTeam'], ['Task'], ['Consent'], ['Patient'], ['Observation'], ['CarePlan', 'Goal'], ['CarePlan', 'Patient'], ['Patient', 'Observation'], [...GATED_TYPES]];

/** A database of `backend` holding WORLD, written through the store (indexed as the server indexes). */
async function openWorld(backend: (typeof BACKENDS)[number]): Promise<TestDatabase> {
  const database = await backend.open();
  const store = new SqlResourceStore(database.db, (resource) => extractIndexRows(resource, R4_REGISTRY));
  for (const resource of WORLD) await store.update({ ...resource, id: resource.id! }, { allowCreate: true });
  return database;
}

describe.each(BACKENDS)('the consent condition narrowed to the types a row can have, on $name', (backend) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await openWorld(backend);
  });
  afterAll(async () => database?.close());

  /** `Type/id` of every current row the condition lets through. */
  async function visible(gate: ConsentGate, types?: string[]): Promise<string[]> {
    const sql = new Statement();
    const rows = await database.db.query<{ key: string }>(
      `SELECT r.resource_type || '/' || r.id AS key FROM resource r WHERE NOT r.deleted AND ${consentCondition(gate, sql, 'r', types)} ORDER BY 1`,
      sql.params,
    );
    return rows.map((row) => row.key);
  }

  it.each(GATES)('%s: on rows of the named types it decides as the whole condition; gated rows of other types stay hidden', async (_, gate) => {
    const whole = await visible(gate);
    for (const types of TYPE_SETS) {
      const narrowed = await visible(gate, types);
      const typeOf = (key: string) => key.split('/')[0];
      expect({ types, rows: narrowed.filter((key) => types.includes(typeOf(key))) }).toEqual({ types, rows: whole.filter((key) => types.includes(typeOf(key))) });
      // Fails closed: a row of a gated type the statement said it could not hold meets none of the rules left.
      const gatedOutside = narrowed.filter((key) => !types.includes(typeOf(key)) && (GATED_TYPES as readonly string[]).includes(typeOf(key)));
      expect({ types, gatedOutside }).toEqual({ types, gatedOutside: [] });
    }
  });

  it('the decisions the world was built for', async () => {
    const plans = async (gate: ConsentGate) => (await visible(gate, ['CarePlan', 'Goal', 'CareTeam', 'Task'])).sort();
    // A: p1 (view) and p2 (modify, but denied to all but B and pr2).
    expect(await plans({ organization: 'A', level: 'view' })).toEqual(['CarePlan/cp1', 'CarePlan/cp12', 'Goal/g1', 'Task/t1']);
    expect(await plans({ organization: 'A', level: 'modify' })).toEqual([]);
    // pr2 of A is excepted from p2's deny: p1 and p2 both, so the CareTeam naming both too.
    expect(await plans({ organization: 'A', practitioner: 'pr2', level: 'view' })).toEqual(['CarePlan/cp1', 'CarePlan/cp12', 'CarePlan/cp2', 'CareTeam/ct12', 'Goal/g1', 'Task/t1']);
    // B holds p1 only; the exception does not register it for p2.
    expect(await plans({ organization: 'B', level: 'modify' })).toEqual(['CarePlan/cp1', 'CarePlan/cp12', 'Goal/g1', 'Task/t1']);
    expect(await plans({ practitioner: 'pr1', level: 'view' })).toEqual(['CarePlan/cp1', 'CarePlan/cp12', 'Goal/g1', 'Task/t1']);
    expect(await plans({ level: 'view' })).toEqual([]);
  });
});

/** A Database that counts the statements it runs (the real one underneath). */
function counting(db: Database): { db: Database; statements: () => number } {
  let statements = 0;
  const counted: Database = {
    dialect: db.dialect,
    availability: db.availability,
    query: <Row>(sql: string, params?: unknown[], options?: QueryOptions) => {
      statements++;
      return db.query<Row>(sql, params, options);
    },
    exec: (sql) => db.exec(sql),
    transaction: (work) => db.transaction(work),
    afterCommit: (action) => db.afterCommit(action),
    get root() {
      return db.root;
    },
    dedicatedConnection: () => db.dedicatedConnection(),
    close: () => db.close(),
  };
  return { db: counted, statements: () => statements };
}

describe.each(BACKENDS)('search totals on $name', (backend) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await openWorld(backend);
  });
  afterAll(async () => database?.close());

  const query = (params: Record<string, string[]>, extra: Partial<SearchQuery> = {}): SearchQuery => ({
    ...parseSearch(params, ['CarePlan'], R4_REGISTRY, { defaultCount: 20, maxCount: 100 }),
    ...extra,
  });

  it('a first page holding every match is its own count: one statement; otherwise the count runs, with the same answer', async () => {
    const { db, statements } = counting(database.db);
    const store = new SqlResourceStore(db, (resource) => extractIndexRows(resource, R4_REGISTRY));
    const whole = await store.search(query({ status: ['active'] }));
    expect({ total: whole.total, matches: whole.resources.length, next: whole.next, statements: statements() }).toEqual({ total: 3, matches: 3, next: undefined, statements: 1 });

    const first = await store.search(query({ status: ['active'], _count: ['2'] }));
    expect({ total: first.total, matches: first.resources.length, statements: statements() }).toEqual({ total: 3, matches: 2, statements: 3 });
    const second = await store.search(query({ status: ['active'], _count: ['2'] }, { cursor: first.next }));
    expect({ total: second.total, matches: second.resources.length, next: second.next }).toEqual({ total: 3, matches: 1, next: undefined });

    expect((await store.search(query({ status: ['active'], _count: ['0'] }))).total).toBe(3);
    expect((await store.search(query({ status: ['cancelled'] }))).total).toBe(0);
    expect((await store.search(query({ status: ['active'], _total: ['none'] }))).total).toBeUndefined();
    // A partner's count is the consent-gated one, page or count statement alike.
    const gate: ConsentGate = { organization: 'A', level: 'view' };
    expect((await store.search(query({ status: ['active'] }, { consent: gate }))).total).toBe(2);
    expect((await store.search(query({ status: ['active'], _count: ['1'] }, { consent: gate }))).total).toBe(2);
  });
});
