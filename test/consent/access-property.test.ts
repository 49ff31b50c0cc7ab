import fc from 'fast-check';
import type { Bundle, BundleEntry, CarePlan, Consent, Goal, Provenance, Resource } from 'fhir/r4';
import { randomBytes } from 'node:crypto';
import { type Caller, UNRESTRICTED } from '../../server/access/caller.js';
import { FhirError, type Issue } from '../../server/fhir/outcome.js';
import { createFhirContext } from '../../server/pipeline/context.js';
import { handleFhirRequest } from '../../server/pipeline/fhir-request.js';
import type { FhirContext } from '../../server/rest/types.js';
import { extractIndexRows } from '../../server/search/index/extract.js';
import { R4_REGISTRY } from '../../server/search/registry.js';
import { ACT_CODE, CONSENT_CATEGORY, CONSENT_SCOPE, DIRECTIVE_CODE, GATED_TYPES, PRIVACY_SCOPE } from '../../server/conformance/consent-vocabulary.js';
import { BACKENDS, reportBackends, type TestDatabase } from '../support/backends.js';
import {
  buildWorld,
  compartmentsOf,
  type ConsentSpec,
  describeConsents,
  isDirective,
  key,
  ownRecord,
  planAllows,
  type PatientSpec,
  patientsOf,
  visible,
  writable,
  type World,
  WORLD_TAG_SYSTEM,
  type WorldSpec,
  worldSpec,
  worldTransaction,
} from '../support/consent-world.js';
import { schemaValidator, TEST_OPTIONS } from '../support/fhir-app.js';

reportBackends();

const BASE = 'https://ccp.example.org/fhir';
const RUNS = Number(process.env.FC_RUNS ?? 4);
const SEED = process.env.FC_SEED === undefined ? undefined : Number(process.env.FC_SEED);

/** What an interaction answered: a response, or the FhirError the transport would turn into an OperationOutcome. */
interface Answer {
  status: number;
  body?: Resource;
  issues?: Issue[];
  headers?: Record<string, string>;
}

let requests = 0;

async function ask(context: FhirContext, caller: Caller, method: string, path: string, query: Record<string, string[]> = {}, body?: unknown): Promise<Answer> {
  requests++;
  try {
    const response = await handleFhirRequest({ method, path, query, body, headers: body ? { 'content-type': 'application/fhir+json' } : {}, baseUrl: BASE, caller }, context);
    return { status: response.status, body: response.body, headers: response.headers };
  } catch (error) {
    if (!(error instanceof FhirError)) throw error;
    return { status: error.status, issues: error.issues, headers: error.headers };
  }
}

/** A search walked through every `next` link: matches in order, the included rows, and each page's total. */
interface Walked {
  /** 200, a failed page's status, or 0 when the `next` links never ended. */
  status: number;
  matches: string[];
  included: Set<string>;
  totals: (number | undefined)[];
}

async function walk(context: FhirContext, caller: Caller, path: string, query: Record<string, string[]>): Promise<Walked> {
  const walked: Walked = { status: 200, matches: [], included: new Set(), totals: [] };
  let next: { path: string; query: Record<string, string[]> } | undefined = { path, query };
  for (let page = 0; next && page < 200; page++) {
    const answer = await ask(context, caller, 'GET', next.path, next.query);
    if (answer.status !== 200) return { ...walked, status: answer.status };
    const bundle = answer.body as Bundle;
    walked.totals.push(bundle.total);
    for (const entry of bundle.entry ?? []) {
      if (entry.search?.mode === 'match') walked.matches.push(key(entry.resource!));
      else if (entry.search?.mode === 'include') walked.included.add(key(entry.resource!));
    }
    const url = bundle.link?.find((l) => l.relation === 'next')?.url;
    next = url ? parsePageLink(url) : undefined;
  }
  return next ? { ...walked, status: 0 } : walked;
}

function parsePageLink(url: string): { path: string; query: Record<string, string[]> } {
  const [path, search = ''] = url.slice(BASE.length + 1).split('?');
  const query: Record<string, string[]> = {};
  for (const [name, value] of new URLSearchParams(search)) (query[name] ??= []).push(value);
  return { path, query };
}

const sorted = (items: Iterable<string>) => [...items].sort();

/**
 * Every read path of one world, for one caller, against the model. Returns the disagreements, each naming the
 * request, what the model allows and what the server answered; an empty list is a pass.
 */
async function disagreements(world: World, context: FhirContext, label: string, caller: Caller): Promise<string[]> {
  const problems: string[] = [];
  const tag = [`${WORLD_TAG_SYSTEM}|${world.prefix}`];
  const sees = (r: Resource) => visible(world, caller, r);
  const byKey = new Map(world.resources.map((r) => [key(r), r]));
  const ofType = (type: string) => world.resources.filter((r) => r.resourceType === type);
  const gated = world.resources.filter((r) => (GATED_TYPES as readonly string[]).includes(r.resourceType));
  const say = (what: string, expected: unknown, got: unknown) => problems.push(`${label}: ${what}: model ${JSON.stringify(expected)}, server ${JSON.stringify(got)}`);

  // A hidden row must read exactly like one that does not exist: same status, same outcome (its id aside).
  const missingId = `${world.prefix}-missing`;
  const missing = await ask(context, caller, 'GET', `CarePlan/${missingId}`);
  const missingVersion = await ask(context, caller, 'GET', `CarePlan/${missingId}/_history/1`);
  const missingHistory = await ask(context, caller, 'GET', `CarePlan/${missingId}/_history`);
  /** A 404 whose outcome and headers are those of `reference` (about the missing id) with `path` in its place. */
  const likeMissing = (answer: Answer, reference: Answer, path: string) =>
    answer.status === 404 &&
    reference.status === 404 &&
    JSON.stringify(reference.issues).split(`CarePlan/${missingId}`).join(path) === JSON.stringify(answer.issues) &&
    JSON.stringify(reference.headers) === JSON.stringify(answer.headers);

  for (const resource of world.resources) {
    const path = key(resource);
    const read = await ask(context, caller, 'GET', path);
    if (sees(resource)) {
      if (read.status !== 200 || read.body?.id !== resource.id) say(`GET ${path}`, 200, read.status);
    } else {
      if (!likeMissing(read, missing, path)) say(`GET ${path} (hidden)`, missing, read);
    }
  }
  for (const resource of gated) {
    const path = key(resource);
    const vread = await ask(context, caller, 'GET', `${path}/_history/1`);
    const history = await ask(context, caller, 'GET', `${path}/_history`);
    const versions = ((history.body as Bundle | undefined)?.entry ?? []).map((e) => e.resource && key(e.resource));
    if (sees(resource)) {
      if (vread.status !== 200 || vread.body?.id !== resource.id) say(`GET ${path}/_history/1`, 200, vread.status);
      if (history.status !== 200 || JSON.stringify(versions) !== JSON.stringify([path])) say(`GET ${path}/_history`, [path], { status: history.status, versions });
    } else {
      if (!likeMissing(vread, missingVersion, path)) say(`GET ${path}/_history/1 (hidden)`, missingVersion, vread);
      if (!likeMissing(history, missingHistory, path)) say(`GET ${path}/_history (hidden)`, missingHistory, { ...history, versions });
    }
  }

  const expectSearch = async (what: string, path: string, query: Record<string, string[]>, matches: Resource[], included: Resource[] = []) => {
    const walked = await walk(context, caller, path, query);
    const expected = { status: 200, matches: sorted(matches.map(key)), included: sorted(included.map(key)) };
    const got = { status: walked.status, matches: sorted(walked.matches), included: sorted(walked.included) };
    if (JSON.stringify(expected) !== JSON.stringify(got)) say(what, expected, got);
    if (new Set(walked.matches).size !== walked.matches.length) say(`${what}: a row on two pages`, 'none', walked.matches);
    if (query._total?.[0] === 'accurate' && walked.totals.some((t) => t !== matches.length)) say(`${what}: Bundle.total on each page`, matches.length, walked.totals);
  };

  // Each gated type (and Observation, which no registration governs), two rows a page, with accurate totals.
  for (const type of [...GATED_TYPES, 'Observation']) {
    await expectSearch(`GET ${type}?_count=2`, type, { _tag: tag, _total: ['accurate'], _count: ['2'] }, ofType(type).filter(sees));
  }
  // Compartments: one type and every type, for every patient, paged.
  const membersOf = (patient: string) => world.resources.filter((r) => compartmentsOf(r).includes(patient));
  for (const patient of world.patients) {
    await expectSearch(`GET Patient/${patient}/CarePlan`, `Patient/${patient}/CarePlan`, { _total: ['accurate'], _count: ['2'] }, membersOf(patient).filter((r) => r.resourceType === 'CarePlan' && sees(r)));
  }
  for (const patient of world.patients) {
    await expectSearch(`GET Patient/${patient}/*`, `Patient/${patient}/*`, { _total: ['accurate'], _count: ['5'] }, membersOf(patient).filter(sees));
  }

  // _include and _revinclude: only visible rows come along.
  const carePlans = ofType('CarePlan') as CarePlan[];
  const goals = ofType('Goal') as Goal[];
  const referenced = (refs: (string | undefined)[]) => refs.flatMap((r) => (r && byKey.has(r) ? [byKey.get(r)!] : []));
  const seenPlans = carePlans.filter(sees);
  await expectSearch(
    'GET CarePlan?_include=CarePlan:goal',
    'CarePlan',
    { _tag: tag, _include: ['CarePlan:goal'], _count: ['3'] },
    seenPlans,
    [...new Set(referenced(seenPlans.flatMap((p) => (p.goal ?? []).map((g) => g.reference))))].filter(sees),
  );
  const seenGoals = goals.filter(sees);
  await expectSearch(
    'GET Goal?_include=Goal:patient',
    'Goal',
    { _tag: tag, _include: ['Goal:patient'], _count: ['3'] },
    seenGoals,
    [...new Set(referenced(seenGoals.map((g) => g.subject.reference)))].filter((r) => r.resourceType === 'Patient'),
  );
  const patients = ofType('Patient');
  await expectSearch(
    'GET Patient?_revinclude=CarePlan:subject',
    'Patient',
    { _tag: tag, _revinclude: ['CarePlan:subject'], _count: ['2'] },
    patients,
    seenPlans,
  );

  // Chains and _has: a hidden row must neither hide a match the model allows nor make one.
  const gender = (reference: string | undefined) => (byKey.get(reference ?? '') as { gender?: string } | undefined)?.gender;
  await expectSearch(
    'GET CarePlan?subject:Patient.gender=female',
    'CarePlan',
    { _tag: tag, 'subject:Patient.gender': ['female'], _total: ['accurate'] },
    seenPlans.filter((p) => gender(p.subject.reference) === 'female'),
  );
  const activeSeenPlans = new Set(seenPlans.filter((p) => p.status === 'active').map(key));
  await expectSearch(
    'GET Provenance?target:CarePlan.status=active',
    'Provenance',
    { _tag: tag, 'target:CarePlan.status': ['active'], _total: ['accurate'] },
    (ofType('Provenance') as Provenance[]).filter((p) => sees(p) && p.target.some((t) => activeSeenPlans.has(t.reference ?? ''))),
  );
  await expectSearch(
    'GET Patient?_has:CarePlan:subject:status=active',
    'Patient',
    { _tag: tag, '_has:CarePlan:subject:status': ['active'], _total: ['accurate'] },
    patients.filter((p) => seenPlans.some((plan) => plan.status === 'active' && plan.subject.reference === key(p))),
  );

  // Batch: each GET entry on its own, a hidden row answering 404 like a missing one.
  const reads = [...gated.map(key), `CarePlan/${missingId}`];
  const batch = await ask(context, caller, 'POST', '', {}, {
    resourceType: 'Bundle',
    type: 'batch',
    entry: reads.map((url) => ({ request: { method: 'GET', url } })),
  });
  const statuses = ((batch.body as Bundle | undefined)?.entry ?? []).map((e: BundleEntry) => e.response?.status.split(' ')[0]);
  const expectedStatuses = reads.map((r) => (byKey.has(r) && sees(byKey.get(r)!) ? '200' : '404'));
  if (batch.status !== 200 || JSON.stringify(statuses) !== JSON.stringify(expectedStatuses)) {
    say('batch of GET entries', expectedStatuses, { status: batch.status, statuses });
  }
  // Transaction: the visible rows all read; one hidden row fails the whole Bundle exactly as a missing one does.
  const seenRows = gated.filter(sees).map(key);
  if (seenRows.length) {
    const all = await ask(context, caller, 'POST', '', {}, { resourceType: 'Bundle', type: 'transaction', entry: seenRows.map((url) => ({ request: { method: 'GET', url } })) });
    const got = ((all.body as Bundle | undefined)?.entry ?? []).map((e) => e.resource && key(e.resource));
    if (all.status !== 200 || JSON.stringify(got) !== JSON.stringify(seenRows)) say('transaction of visible GET entries', seenRows, { status: all.status, got });
  }
  const hiddenRows = gated.filter((r) => !sees(r)).map(key);
  if (hiddenRows.length) {
    const lead = seenRows.slice(0, 1);
    const transaction = (url: string) =>
      ask(context, caller, 'POST', '', {}, { resourceType: 'Bundle', type: 'transaction', entry: [...lead, url].map((u) => ({ request: { method: 'GET', url: u } })) });
    const reference = await transaction(`CarePlan/${missingId}`);
    for (const hidden of [hiddenRows[0], hiddenRows[hiddenRows.length - 1]]) {
      const answer = await transaction(hidden);
      if (!likeMissing(answer, reference, hidden)) say(`transaction GET ${hidden} (hidden)`, reference, answer);
    }
  }
  return problems;
}

const isPrivacyContact = (caller: Caller) => caller.kind === 'user' && (caller.role?.roles ?? []).includes('privacy-contact');

/**
 * What a privacy contact may write, against the model: each Consent of the world put back unchanged (404 when
 * hidden; 403 unless a directive they may write; else 200), and a new directive for each patient (201 or 403). The
 * new directives withhold from the hosting organization, which consent never holds, so no later check changes.
 * Run after every read check: a write makes a new version, which the history checks would see.
 */
async function writeDisagreements(world: World, context: FhirContext, label: string, caller: Caller): Promise<string[]> {
  const problems: string[] = [];
  const say = (what: string, expected: unknown, got: unknown) => problems.push(`${label}: ${what}: model ${JSON.stringify(expected)}, server ${JSON.stringify(got)}`);
  for (const consent of world.consents) {
    const stored = world.resources.find((r) => key(r) === key(consent))!;
    const expected = !visible(world, caller, consent) ? 404 : !isDirective(consent) ? 403 : writable(world, caller, consent) ? 200 : 403;
    const answer = await ask(context, caller, 'PUT', key(consent), {}, stored);
    if (answer.status !== expected) say(`PUT ${key(consent)} unchanged`, expected, { status: answer.status, issues: answer.issues });
  }
  for (const patient of world.patients) {
    const directive: Consent = {
      resourceType: 'Consent',
      status: 'active',
      scope: { coding: [{ system: CONSENT_SCOPE, code: PRIVACY_SCOPE }] },
      category: [{ coding: [{ system: CONSENT_CATEGORY, code: DIRECTIVE_CODE }] }],
      patient: { reference: `Patient/${patient}` },
      policyRule: { coding: [{ system: ACT_CODE, code: 'OPTOUT' }] },
      provision: { type: 'deny', actor: [{ role: { text: 'recipient' }, reference: { reference: `Organization/${world.hostingOrganization}` } }] },
    };
    const expected = writable(world, caller, directive) ? 201 : 403;
    const answer = await ask(context, caller, 'POST', 'Consent', {}, directive);
    if (answer.status !== expected) say(`POST Consent (a directive for Patient/${patient})`, expected, { status: answer.status, issues: answer.issues });
  }
  return problems;
}

/** One line per world: its size and how much of it each caller sees, by the model. */
function describeWorld(world: World): string {
  const counts = world.callers.map(({ label, caller }) => {
    const gated = world.resources.filter((r) => (GATED_TYPES as readonly string[]).includes(r.resourceType));
    return `${label}: ${gated.filter((r) => visible(world, caller, r)).length}/${gated.length}`;
  });
  return `world ${world.prefix}: ${world.resources.length} resources; gated rows visible to ${counts.join('; ')}`;
}

describe.each(BACKENDS)('consent access decision, property-based, on $name', (backend) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await backend.open();
  });
  afterAll(async () => database?.close());

  it(`every read path returns exactly what the model of the rules allows (${RUNS} random worlds)`, async () => {
    const summaries: string[] = [];
    let worlds = 0;
    await fc.assert(
      fc.asyncProperty(worldSpec, async (spec) => {
        const world = buildWorld(spec, `w${worlds++}${randomBytes(3).toString('hex')}`, Date.now());
        const options = { ...TEST_OPTIONS, hostingOrganization: world.hostingOrganization };
        const context = createFhirContext(database.db, schemaValidator(), R4_REGISTRY, (r) => extractIndexRows(r, R4_REGISTRY), options);
        const written = await ask(context, UNRESTRICTED, 'POST', '', {}, worldTransaction(world));
        expect({ status: written.status, issues: written.issues }).toEqual({ status: 200, issues: undefined });
        const started = Date.now();
        requests = 0;
        const problems: string[] = [];
        for (const { label, caller } of world.callers) problems.push(...(await disagreements(world, context, label, caller)));
        for (const { label, caller } of world.callers.filter(({ caller }) => isPrivacyContact(caller))) {
          problems.push(...(await writeDisagreements(world, context, label, caller)));
        }
        summaries.push(`${describeWorld(world)} (${requests} requests in ${Date.now() - started} ms)`);
        if (problems.length) {
          throw new Error(
            `${problems.length} disagreements in ${describeWorld(world)}\nnow ${new Date(world.now).toISOString()}, consents:\n  ${describeConsents(world).join('\n  ')}\n` +
              `practitioners: ${world.practitioners.map((p) => `${p.id}→${p.organization ?? 'none'}`).join(', ')}\n${problems.slice(0, 25).join('\n')}`,
          );
        }
      }),
      { numRuns: RUNS, endOnFailure: !process.env.FC_SHRINK, ...(SEED !== undefined ? { seed: SEED } : {}) },
    );
    console.info(summaries.join('\n'));
  });

  it('the worlds hold what the property needs: gated rows without patients, shared rows, every kind of Consent', () => {
    // Checked on generated worlds without the server: the model itself must not be trivially all-or-nothing.
    const samples = fc.sample(worldSpec, { numRuns: 200, seed: 42 }).map((spec, i) => buildWorld(spec, `s${i}`, Date.now()));
    const held = samples.flatMap((w) => w.callers.filter((c) => c.label !== 'unrestricted').map((c) => ({ w, c: c.caller })));
    const gatedOf = (w: World) => w.resources.filter((r) => (GATED_TYPES as readonly string[]).includes(r.resourceType));
    const someSeen = held.filter(({ w, c }) => gatedOf(w).some((r) => visible(w, c, r)) && gatedOf(w).some((r) => !visible(w, c, r)));
    expect(someSeen.length).toBeGreaterThan(held.length / 10);
    expect(samples.every((w) => gatedOf(w).some((r) => patientsOf(r).length === 0))).toBe(true);
    expect(samples.some((w) => gatedOf(w).some((r) => patientsOf(r).length > 1))).toBe(true);
    const statuses = new Set(samples.flatMap((w) => w.consents.map((c) => c.status)));
    expect(sorted(statuses)).toEqual(['active', 'entered-in-error', 'inactive', 'proposed', 'rejected']);
    // Every kind of Consent and period appears (describeConsents names the kind, the provision and its period).
    const lines = samples.flatMap((w) => describeConsents(w));
    const now = Date.now();
    const day = (offset: number) => new Date(now + offset * 24 * 3600 * 1000).toISOString().slice(0, 10);
    // The records of consent that are a role's own business: each kind is some caller's in some world.
    const own = (test: (r: Resource) => boolean) => samples.some((w) => w.callers.some(({ caller }) => w.resources.some((r) => test(r) && ownRecord(w, caller, r, 'view') && !planAllows(w, caller, r, 'view'))));
    const category = (r: Resource) => (r as Consent).category?.[0]?.coding?.[0]?.code;
    expect(own((r) => r.resourceType === 'Task')).toBe(true);
    expect(own((r) => category(r) === 'ccp-registration')).toBe(true);
    expect(own((r) => category(r) === 'INFA' && !(r as Consent).organization)).toBe(true);
    expect(own((r) => category(r) === 'INFA' && Boolean((r as Consent).organization))).toBe(true);
    expect(own((r) => category(r) === 'consent-directive')).toBe(true);
    for (const pattern of [
      / registration permit \[org1\] .* access$/,
      / registration permit \[org1\] .* access\+correct$/,
      / directive\(patient-privacy\) deny \[everyone\] .*\{ permit/,
      / directive\(patient-privacy\) deny \[[^e\]][^\]]*\] /,
      / directive\(treatment\) deny /,
      / directive\(patient-privacy\) permit \[everyone\] open \{ deny /,
      / override permit \[pr0\] /,
      new RegExp(` ${day(-20)}\\.\\.${day(-10)}`),
      new RegExp(` ${day(10)}\\.\\.${day(20)}`),
      / open( |$)/,
    ]) {
      expect({ pattern: String(pattern), found: lines.some((line) => pattern.test(line)) }).toEqual({ pattern: String(pattern), found: true });
    }
  });
});

describe('the model of the rules, on hand-worked worlds', () => {
  // org0 hosts; pr0 works for org1. pat0 has plan pat0-plan0; pat1's plan names pat0 as a performer too.
  const patient = (carePlans: PatientSpec['carePlans']): PatientSpec => ({
    gender: 'female',
    org1: null,
    carePlans,
    goals: 0,
    conditions: [],
    careTeams: [],
    tasks: 0,
    provenance: [],
    documents: [],
    observations: 0,
  });
  const spec = (consents: ConsentSpec[]): WorldSpec => ({
    organizations: 3,
    practitioners: [1, 2, null],
    patients: [patient([{ status: 'active', performer: null, goalOf: null }]), patient([{ status: 'active', performer: 0, goalOf: null }])],
    noPatientRows: ['Task'],
    consents,
    callers: [{ kind: 'practitioner', practitioner: 0 }, { kind: 'org-user', org: 1 }, { kind: 'hosting-user' }],
    partner: 0,
    planNotice: false,
  });
  const reg = (patient: number, extra: Partial<Extract<ConsentSpec, { kind: 'registration' }>> = {}): ConsentSpec => ({
    kind: 'registration',
    patient,
    status: 'active',
    org: 1,
    actions: ['access'],
    period: 'current',
    task: false,
    ...extra,
  });
  const deny = (patient: number, extra: Partial<Extract<ConsentSpec, { kind: 'deny' }>> = {}): ConsentSpec => ({
    kind: 'deny',
    patient,
    status: 'active',
    actors: [{ org: 1 }],
    exceptions: [],
    period: 'open',
    scope: 'patient-privacy',
    ...extra,
  });
  const override = (patient: number, extra: Partial<Extract<ConsentSpec, { kind: 'override' }>> = {}): ConsentSpec => ({
    kind: 'override',
    patient,
    status: 'active',
    practitioner: 0,
    period: 'current',
    org: null,
    notice: null,
    ...extra,
  });
  /** What pr0 (org1), a user of org1 without practitioner, the hosting coordinator and org1's system see of [pat0-plan0, pat1-plan0, nopat0]. */
  const seen = (consents: ConsentSpec[]) => {
    const world = buildWorld(spec(consents), 'h', Date.parse('2026-06-01T00:00:00Z'));
    const rows = ['CarePlan/h-pat0-plan0', 'CarePlan/h-pat1-plan0', 'Task/h-nopat0'].map((k) => world.resources.find((r) => key(r) === k)!);
    const callers = world.callers.filter(({ caller }) => !caller.role?.roles.includes('privacy-contact'));
    return [...callers.slice(2), callers[1]].map(({ caller }) => rows.map((r) => (visible(world, caller, r) ? 1 : 0)).join(''));
  };

  it.each<[string, ConsentSpec[], string[]]>([
    ['no consent: partners see nothing, the hosting organization everything', [], ['000', '000', '111', '000']],
    ['an approved registration for pat0 shows its plan, not the plan shared with pat1', [reg(0)], ['100', '100', '111', '100']],
    ['registrations for both patients show both plans', [reg(0), reg(1)], ['110', '110', '111', '110']],
    ['a registration of org2 shows nothing to org1', [reg(0, { org: 2 })], ['000', '000', '111', '000']],
    ['proposed, rejected, inactive, entered-in-error registrations show nothing', (['proposed', 'rejected', 'inactive', 'entered-in-error'] as const).map((status) => reg(0, { status })), ['000', '000', '111', '000']],
    ['expired, future and ended registrations show nothing', (['expired', 'future', 'ended'] as const).map((period) => reg(0, { period })), ['000', '000', '111', '000']],
    ['open-ended registrations count', [reg(0, { period: 'open' }), reg(1, { period: 'from-earlier' })], ['110', '110', '111', '110']],
    ['view and modify both show; correct alone shows; no action shows nothing', [reg(0, { actions: ['correct'] }), reg(1, { actions: [] })], ['100', '100', '111', '100']],
    ['deny of org1 wins over its registration', [reg(0), reg(1), deny(0)], ['000', '000', '111', '000']],
    ['deny of pat1 hides only the plan naming pat1', [reg(0), reg(1), deny(1)], ['100', '100', '111', '100']],
    ['deny of pr0 hides from pr0 only', [reg(0), deny(0, { actors: [{ practitioner: 0 }] })], ['000', '100', '111', '100']],
    ['deny of everyone but pr0', [reg(0), deny(0, { actors: [], exceptions: [{ practitioner: 0 }] })], ['100', '000', '111', '000']],
    ['deny of everyone hides from partners, not from the hosting organization', [reg(0), deny(0, { actors: [] })], ['000', '000', '111', '000']],
    ['expired, future and inactive denials deny nothing', [reg(0), deny(0, { period: 'expired' }), deny(0, { period: 'future' }), deny(0, { status: 'inactive' })], ['100', '100', '111', '100']],
    ['a deny outside patient-privacy is no directive', [reg(0), deny(0, { scope: 'treatment' })], ['100', '100', '111', '100']],
    [
      'a permit directive denies the actors of its current nested deny only',
      [reg(0), reg(1), { kind: 'permit-with-denies', patient: 1, status: 'active', denies: [{ actors: [{ practitioner: 0 }], period: 'current' }, { actors: [{ org: 1 }], period: 'expired' }] }],
      ['100', '110', '111', '110'],
    ],
    ['an override lets pr0 see pat0 without registration', [override(0)], ['100', '000', '111', '000']],
    ['an override beats a deny; pat1 still needs a registration', [reg(0), deny(0), override(0)], ['100', '000', '111', '000']],
    ['an override with a registration for pat1 shows the shared plan', [reg(1), override(0)], ['110', '000', '111', '000']],
    ['expired, future, proposed overrides and overrides of others do nothing', [override(0, { period: 'expired' }), override(0, { period: 'future' }), override(0, { status: 'proposed' }), override(0, { practitioner: 1 })], ['000', '000', '111', '000']],
  ])('%s', (_name, consents, expected) => {
    expect(seen(consents)).toEqual(expected);
  });
});

describe('the model of the records of consent, on hand-worked worlds', () => {
  // org0 hosts; pr0 works for org1, pr1 for org2, pr2 (who overrides) for none. Callers: pr0 as contributor, pr0
  // as privacy contact, org1's privacy contact without practitioner, pr1 as contributor.
  const spec = (consents: ConsentSpec[]): WorldSpec => ({
    organizations: 3,
    practitioners: [1, 2, null],
    patients: [0, 1].map(() => ({
      gender: 'female' as const,
      org1: null,
      carePlans: [],
      goals: 0,
      conditions: [],
      careTeams: [],
      tasks: 0,
      provenance: [],
      documents: [],
      observations: 0,
    })),
    noPatientRows: [],
    consents,
    callers: [{ kind: 'org-privacy-contact', org: 1 }, { kind: 'practitioner', practitioner: 1 }],
    partner: 1,
    planNotice: false,
  });
  const reg = (extra: Partial<Extract<ConsentSpec, { kind: 'registration' }>> = {}): ConsentSpec => ({
    kind: 'registration',
    patient: 0,
    status: 'active',
    org: 1,
    actions: ['access'],
    period: 'current',
    task: true,
    ...extra,
  });
  const override = (extra: Partial<Extract<ConsentSpec, { kind: 'override' }>>): ConsentSpec => ({
    kind: 'override',
    patient: 1,
    status: 'active',
    practitioner: 2,
    period: 'current',
    org: 2,
    notice: null,
    ...extra,
  });
  const withhold = (patient: number): ConsentSpec => ({ kind: 'deny', patient, status: 'active', actors: [{ org: 1 }], exceptions: [], period: 'open', scope: 'patient-privacy' });
  /** Who sees the last Consent (or its Task), as 1/0 for: pr0 contributor, pr0 privacy contact, org1's privacy contact, pr1. */
  const seen = (consents: ConsentSpec[], row: 'consent' | 'task' = 'consent', level: 'view' | 'modify' = 'view') => {
    const world = buildWorld(spec(consents), 'h', Date.parse('2026-06-01T00:00:00Z'));
    const last = world.consents[world.consents.length - 1];
    const resource = row === 'consent' ? last : world.resources.find((r) => r.id === `${last.id}-task`)!;
    const callers = world.callers.filter(({ label }) => label !== 'unrestricted' && !label.includes('system'));
    return callers.map(({ caller }) => ((level === 'view' ? visible : writable)(world, caller, resource) ? 1 : 0)).join('');
  };

  it.each<[string, ConsentSpec[], string]>([
    ["org1's request, proposed: its Consent is org1's to see, whoever of org1 asks", [reg({ status: 'proposed' })], '1110'],
    ['rejected, or approved and expired: still theirs', [reg({ status: 'rejected', period: 'expired' })], '1110'],
    ["org2's request is not org1's", [reg({ org: 2, status: 'proposed' })], '0001'],
    ["an override whose organization is org1: org1's privacy contacts only", [override({ org: 1 })], '0110'],
    ["org2's override: not org1's, nor a contributor's of org2", [override({})], '0000'],
    ["org2's override, with a notice to pr0's PractitionerRole: pr0 as privacy contact", [override({ notice: { practitioner: 0 } })], '0100'],
    ["org2's override, with a notice to org1: org1's privacy contacts", [override({ notice: { org: 1 } })], '0110'],
    ["a notice to pr2, who has no PractitionerRole (so to the Practitioner): nobody's", [override({ notice: { practitioner: 2 } })], '0000'],
    ['a directive of a patient org1 takes part in (view): its privacy contacts, even when it withholds from org1', [reg(), withhold(0)], '0110'],
    ['not when the registration is only requested, nor expired', [reg({ status: 'proposed' }), reg({ period: 'expired' }), withhold(0)], '0000'],
    ['nor for another patient', [reg(), withhold(1)], '0000'],
  ])('%s', (_name, consents, expected) => {
    expect(seen(consents)).toEqual(expected);
  });

  it('the Task of a request goes with its Consent; writing: directives only, never requests or overrides', () => {
    expect(seen([reg({ status: 'proposed' })], 'task')).toEqual('1110');
    expect(seen([reg({ status: 'proposed' })], 'task', 'modify')).toEqual('0000');
    expect(seen([override({ org: 1 })], 'consent', 'modify')).toEqual('0000');
    expect(seen([reg(), withhold(0)], 'consent', 'modify')).toEqual('0110');
  });
});
