import type { Server } from 'node:http';
import type {
  Bundle,
  CodeableConcept,
  Coding,
  DiagnosticReport,
  Encounter,
  Group,
  Identifier,
  Immunization,
  Observation,
  Organization,
  Patient,
  Practitioner,
  Reference,
  Resource,
} from 'fhir/r4';
import request from 'supertest';
import { BACKENDS, reportBackends } from '../support/backends.js';
import { openTestServer, type TestServer } from '../support/fhir-app.js';
import {
  BASE,
  anyDate,
  containsFolded,
  dateMatches,
  idsOf,
  keys,
  link,
  matchIds,
  numberMatches,
  pathOf,
  periodSpan,
  search,
  sorted,
  span,
  startsWithFolded,
  type Prefix,
  type Span,
} from '../support/search-oracle.js';
import { q } from '../support/search-query.js';
import { loadSynthea, prepareSynthea, SEARCH_PATIENTS } from '../support/synthea.js';

reportBackends();

/**
 * Search over realistic data: the Synthea information bundles (203 hospitals, 203 practitioners), the Group and
 * eleven patient records (about 2,650 resources), loaded once per backend. Every expectation is computed from the
 * JSON that was written, by the plain-JS oracle below (R4 search semantics), never from the server's answers.
 */
const data = prepareSynthea(SEARCH_PATIENTS);
const all = <T extends Resource>(type: T['resourceType']) => data.ofType<T>(type);
const patients = all<Patient>('Patient');
const observations = all<Observation>('Observation');
const encounters = all<Encounter>('Encounter');
const practitioners = all<Practitioner>('Practitioner');
const organizations = all<Organization>('Organization');
const patientId = (name: (typeof SEARCH_PATIENTS)[number]) => data.patientIds.get(name)!;

const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';
const V2_0203 = 'http://terminology.hl7.org/CodeSystem/v2-0203';

// --- oracle helpers: what the elements of the written JSON say -------------------------------------------------

const codingsOf = (concepts: CodeableConcept | CodeableConcept[] | undefined): Coding[] =>
  (Array.isArray(concepts) ? concepts : concepts ? [concepts] : []).flatMap((c) => c.coding ?? []);
const hasCode = (concepts: CodeableConcept | CodeableConcept[] | undefined, code: string, system?: string) =>
  codingsOf(concepts).some((c) => c.code === code && (system === undefined || c.system === system));
const textsOf = (concepts: CodeableConcept | CodeableConcept[] | undefined): string[] =>
  (Array.isArray(concepts) ? concepts : concepts ? [concepts] : []).flatMap((c) => [
    ...(c.text ? [c.text] : []),
    ...(c.coding ?? []).flatMap((d) => (d.display ? [d.display] : [])),
  ]);
const refersTo = (reference: Reference | undefined, target: string) => reference?.reference === target;
const nameParts = (p: Patient | Practitioner): string[] =>
  (p.name ?? []).flatMap((n) => [n.family, ...(n.given ?? []), ...(n.prefix ?? []), ...(n.suffix ?? []), n.text]).filter((s): s is string => !!s);
const effective = (o: Observation): Span[] => {
  if (o.effectiveDateTime) return [span(o.effectiveDateTime)];
  if (o.effectiveInstant) return [span(o.effectiveInstant)];
  if (o.effectivePeriod) return [periodSpan(o.effectivePeriod)];
  return [];
};
const birth = (p: Patient): Span[] => (p.birthDate ? [span(p.birthDate)] : []);
const bodyHeights = observations.filter((o) => hasCode(o.code, '8302-2', LOINC));
const bodyWeights = observations.filter((o) => hasCode(o.code, '29463-7', LOINC));

describe.each(BACKENDS)('search over Synthea data on $name', (backend) => {
  let server: TestServer;
  let http: Server;

  beforeAll(async () => {
    // Referential integrity off: the subset's Group names all 100 Synthea patients, and searching those unresolved
    // references is part of what is tested here (test/integrity/ tests the check itself).
    server = await openTestServer(backend, { baseUrl: BASE, referentialIntegrity: false });
    const result = await loadSynthea(server.app, data);
    console.info(`Synthea subset on ${backend.name}: ${result.written} resources written in ${(result.milliseconds / 1000).toFixed(1)} s`);
    expect(result.written).toBe(data.resources.size);
    http = server.app.listen(0, '127.0.0.1');
  }, 180_000);
  afterAll(async () => {
    http?.closeAllConnections();
    await new Promise((ok) => (http ? http.close(ok) : ok(undefined)));
    await server?.close();
  });

  /** The search's matches (all pages) are exactly `expected`, which must hold at least one unless `empty` says so. */
  async function expectMatches(path: string, expected: Resource[], { empty = false } = {}): Promise<void> {
    if (!empty) expect(expected.length).toBeGreaterThan(0);
    expect(await matchIds(http, path)).toEqual(keys(expected));
  }

  it('loaded what the bundles hold: the counts of each type match the prepared data', async () => {
    expect(data.rewritten.uuid).toBeGreaterThan(5000);
    for (const type of ['Patient', 'Practitioner', 'Organization', 'Encounter', 'Group']) {
      const bundle = await search(http, q(type, ['_summary', 'count']));
      expect([type, bundle.total]).toEqual([type, all(type as Resource['resourceType']).length]);
    }
  });

  describe('string', () => {
    it.each([['ram'], ['RAMON'], ['Ramón'], ['maría t'], ['streich'], ['murphy'], ['dill']])('Patient?name=%s matches any name part by prefix, ignoring case and accents', async (value) => {
      await expectMatches(
        q('Patient', ['name', value]),
        patients.filter((p) => nameParts(p).some((part) => startsWithFolded(part, value))),
      );
    });

    it('given and family search their own parts only; a word inside a part is not a prefix', async () => {
      await expectMatches(q('Patient', ['family', 'streich']), patients.filter((p) => p.name?.some((n) => startsWithFolded(n.family, 'streich'))));
      await expectMatches(q('Patient', ['given', 'dillon']), patients.filter((p) => p.name?.some((n) => n.given?.some((g) => startsWithFolded(g, 'dillon')))));
      await expectMatches(q('Patient', ['family', 'dillon']), [], { empty: true });
      // "María Teresa" is one given name: "teresa" is inside it, not at its start.
      await expectMatches(q('Patient', ['given', 'teresa']), [], { empty: true });
    });

    it(':exact compares the whole value with case and accents; :contains finds it anywhere', async () => {
      const ramon = patients.filter((p) => p.name?.some((n) => n.given?.includes('Ramón')));
      expect(ramon).toHaveLength(1);
      await expectMatches(q('Patient', ['given:exact', 'Ramón']), ramon);
      await expectMatches(q('Patient', ['given:exact', 'Ramon']), [], { empty: true });
      await expectMatches(q('Patient', ['given:exact', 'ramón']), [], { empty: true });
      await expectMatches(q('Patient', ['given:exact', 'Ram']), [], { empty: true });
      await expectMatches(
        q('Patient', ['family:contains', 'REI']),
        patients.filter((p) => p.name?.some((n) => containsFolded(n.family, 'rei'))),
      );
      await expectMatches(
        q('Organization', ['name:contains', 'hospital']),
        organizations.filter((o) => containsFolded(o.name, 'hospital')),
      );
    });

    it('accents in the stored data fold too (Practitioner names like Hernán, Rubén)', async () => {
      for (const value of ['hernan', 'ruben', 'andres']) {
        const expected = practitioners.filter((p) => nameParts(p).some((part) => startsWithFolded(part, value)));
        await expectMatches(q('Practitioner', ['name', value]), expected);
      }
    });

    it('address and address-city match parts of an address', async () => {
      const parts = (p: Patient) => (p.address ?? []).flatMap((a) => [...(a.line ?? []), a.city, a.district, a.state, a.postalCode, a.country, a.text]);
      await expectMatches(q('Patient', ['address-city', 'north']), patients.filter((p) => p.address?.some((a) => startsWithFolded(a.city, 'north'))));
      await expectMatches(q('Patient', ['address', 'massachusetts']), patients.filter((p) => parts(p).some((v) => startsWithFolded(v ?? undefined, 'massachusetts'))));
      await expectMatches(q('Patient', ['address', 'bost']), patients.filter((p) => parts(p).some((v) => startsWithFolded(v ?? undefined, 'bost'))));
    });
  });

  describe('token', () => {
    it('code, system|code, a wrong system, and |code (no system) on Observation.code', async () => {
      await expectMatches(q('Observation', ['code', '8302-2']), observations.filter((o) => hasCode(o.code, '8302-2')));
      await expectMatches(q('Observation', ['code', `${LOINC}|8302-2`]), bodyHeights);
      await expectMatches(q('Observation', ['code', 'http://snomed.info/sct|8302-2']), [], { empty: true });
      // Every Synthea coding has a system, so "no system" finds none.
      expect(observations.some((o) => codingsOf(o.code).some((c) => c.code === '8302-2' && !c.system))).toBe(false);
      await expectMatches(q('Observation', ['code', '|8302-2']), [], { empty: true });
    });

    it('system| matches any code of that system (Patient identifiers)', async () => {
      for (const system of ['urn:oid:2.16.840.1.113883.4.3.25', 'http://standardhealthrecord.org/fhir/StructureDefinition/passportNumber']) {
        const expected = patients.filter((p) => p.identifier?.some((i) => i.system === system));
        expect(expected.length).toBeLessThan(patients.length);
        await expectMatches(q('Patient', ['identifier', `${system}|`]), expected);
      }
    });

    it('identifier system|value finds one patient', async () => {
      const ramon = patients.find((p) => p.id === patientId('Ramón_Sarabia'))!;
      const ssn = ramon.identifier!.find((i) => i.system === 'http://hl7.org/fhir/sid/us-ssn')!.value!;
      await expectMatches(q('Patient', ['identifier', `http://hl7.org/fhir/sid/us-ssn|${ssn}`]), [ramon]);
      await expectMatches(q('Patient', ['identifier', ssn]), patients.filter((p) => p.identifier?.some((i) => i.value === ssn)));
    });

    it(':not excludes the matches and keeps resources without the element', async () => {
      const withReason = encounters.filter((e) => hasCode(e.reasonCode, '72892002'));
      const withoutAnyReason = encounters.filter((e) => !e.reasonCode);
      expect(withReason.length).toBeGreaterThan(0);
      expect(withoutAnyReason.length).toBeGreaterThan(0);
      await expectMatches(q('Encounter', ['reason-code:not', '72892002']), encounters.filter((e) => !hasCode(e.reasonCode, '72892002')));
      const rene = `Patient/${patientId('Rene_Hills')}`;
      await expectMatches(
        q('Observation', ['subject', rene], ['code:not', `${LOINC}|8302-2`]),
        observations.filter((o) => refersTo(o.subject, rene) && !hasCode(o.code, '8302-2', LOINC)),
      );
      await expectMatches(q('Patient', ['language:not', 'urn:ietf:bcp:47|es']), patients.filter((p) => !p.communication?.some((c) => hasCode(c.language, 'es', 'urn:ietf:bcp:47'))));
    });

    it(':text searches CodeableConcept.text and Coding.display', async () => {
      for (const value of ['body', 'BODY HEIGHT', 'body mass']) {
        await expectMatches(q('Observation', ['code:text', value]), observations.filter((o) => textsOf(o.code).some((t) => startsWithFolded(t, value))));
      }
      await expectMatches(q('Encounter', ['type:text', 'encounter for']), encounters.filter((e) => textsOf(e.type).some((t) => startsWithFolded(t, 'encounter for'))));
    });

    it(':of-type matches identifier type and value together', async () => {
      const ramon = patients.find((p) => p.id === patientId('Ramón_Sarabia'))!;
      const ssn = ramon.identifier!.find((i) => i.system === 'http://hl7.org/fhir/sid/us-ssn')!.value!;
      const ofType = (i: Identifier, code: string, value: string) => i.value === value && hasCode(i.type, code, V2_0203);
      await expectMatches(q('Patient', ['identifier:of-type', `${V2_0203}|SS|${ssn}`]), patients.filter((p) => p.identifier?.some((i) => ofType(i, 'SS', ssn))));
      await expectMatches(q('Patient', ['identifier:of-type', `${V2_0203}|DL|${ssn}`]), [], { empty: true });
      const mr = ramon.identifier!.find((i) => hasCode(i.type, 'MR', V2_0203))!.value!;
      await expectMatches(q('Patient', ['identifier:of-type', `${V2_0203}|MR|${mr}`]), [ramon]);
    });

    it(':missing=true and :missing=false', async () => {
      await expectMatches(q('Encounter', ['reason-code:missing', 'true']), encounters.filter((e) => !e.reasonCode?.length));
      await expectMatches(q('Encounter', ['reason-code:missing', 'false']), encounters.filter((e) => !!e.reasonCode?.length));
      const luther = `Patient/${patientId('Luther_Streich')}`;
      await expectMatches(
        q('Observation', ['subject', luther], ['value-quantity:missing', 'true']),
        observations.filter((o) => refersTo(o.subject, luther) && !o.valueQuantity),
      );
    });

    it('category, vaccine code and gender', async () => {
      const category = 'http://terminology.hl7.org/CodeSystem/observation-category';
      await expectMatches(q('Observation', ['category', `${category}|laboratory`]), observations.filter((o) => hasCode(o.category, 'laboratory', category)));
      const immunizations = all<Immunization>('Immunization');
      await expectMatches(q('Immunization', ['vaccine-code', 'http://hl7.org/fhir/sid/cvx|140']), immunizations.filter((i) => hasCode(i.vaccineCode, '140', 'http://hl7.org/fhir/sid/cvx')));
      await expectMatches(q('Patient', ['gender', 'female']), patients.filter((p) => p.gender === 'female'));
    });
  });

  describe('date', () => {
    it.each([
      ['1974', 'eq'],
      ['1972', 'eq'],
      ['1972-12', 'eq'],
      ['1972-12-06', 'eq'],
      ['1972-11', 'eq'],
      ['1972', 'ne'],
      ['1972', 'gt'],
      ['1972', 'ge'],
      ['1972', 'lt'],
      ['1972', 'le'],
      ['1972', 'sa'],
      ['1972', 'eb'],
      ['1972-12-06', 'ge'],
      ['1972-12-06', 'lt'],
      ['2002-09-09', 'le'],
    ] as [string, Exclude<Prefix, 'ap'>][])('Patient?birthdate=%s with prefix %s', async (value, prefix) => {
      const expected = patients.filter((p) => anyDate(prefix, birth(p), value));
      await expectMatches(q('Patient', ['birthdate', prefix === 'eq' ? value : `${prefix}${value}`]), expected, { empty: value === '1972-11' });
      if (prefix === 'eq') await expectMatches(q('Patient', ['birthdate', `eq${value}`]), expected, { empty: value === '1972-11' });
    });

    it('precision: 1972 holds two patients, 1972-12 one, 1974 one', async () => {
      const ids = async (value: string) => (await matchIds(http, q('Patient', ['birthdate', value]))).length;
      expect(await ids('1972')).toBe(2);
      expect(await ids('1972-12')).toBe(1);
      expect(await ids('1974')).toBe(1);
    });

    it('ap: includes values in the searched year and excludes values decades away', async () => {
      const got = await matchIds(http, q('Patient', ['birthdate', 'ap1972']));
      const core = keys(patients.filter((p) => anyDate('eq', birth(p), '1972')));
      // 10% of the gap to now is recommended; anything within ±20% of it is accepted here, nothing beyond.
      const gap = Date.now() - span('1972').lo;
      const outer = keys(patients.filter((p) => birth(p).some((b) => b.hi > span('1972').lo - 0.2 * gap && b.lo < span('1972').hi + 0.2 * gap)));
      expect(core.length).toBe(2);
      for (const id of core) expect(got).toContain(id);
      for (const id of got) expect(outer).toContain(id);
      expect(outer.length).toBeLessThan(patients.length);
    });

    it.each([
      ['2013', 'eq'],
      ['2013-09', 'eq'],
      ['2016-01-29', 'eq'],
      ['2015-06-15', 'gt'],
      ['2015-06-15', 'ge'],
      ['2015-06-15', 'lt'],
      ['2015-06-15', 'le'],
      ['2015-06-15', 'sa'],
      ['2015-06-15', 'eb'],
      ['2013', 'ne'],
    ] as [string, Exclude<Prefix, 'ap'>][])('Observation body height ?date=%s with prefix %s (dateTimes with zones)', async (value, prefix) => {
      const expected = bodyHeights.filter((o) => anyDate(prefix, effective(o), value));
      await expectMatches(q('Observation', ['code', `${LOINC}|8302-2`], ['date', `${prefix}${value}`]), expected, { empty: value === '2016-01-29' });
    });

    it('a dateTime to the second, written with its zone, matches itself and its minute', async () => {
      const target = bodyHeights[0];
      const when = target.effectiveDateTime!;
      expect(when).toMatch(/[+-]\d\d:\d\d$/);
      const sameSecond = bodyHeights.filter((o) => anyDate('eq', effective(o), when));
      await expectMatches(q('Observation', ['code', `${LOINC}|8302-2`], ['date', when]), sameSecond);
      const minute = new Date(span(when).lo).toISOString().slice(0, 16) + 'Z';
      await expectMatches(q('Observation', ['code', `${LOINC}|8302-2`], ['date', minute]), bodyHeights.filter((o) => anyDate('eq', effective(o), minute)));
      await expectMatches(q('Observation', ['code', `${LOINC}|8302-2`], ['date', `gt${when}`]), bodyHeights.filter((o) => anyDate('gt', effective(o), when)));
    });

    it.each([
      ['2010-09-06', 'eq'],
      ['2015', 'eq'],
      ['2010-01-01', 'gt'],
      ['2010-01-01', 'lt'],
      ['2010-01-01', 'ge'],
      ['2010-01-01', 'le'],
      ['2010-01-01', 'sa'],
      ['2010-01-01', 'eb'],
      ['2015', 'ne'],
    ] as [string, Exclude<Prefix, 'ap'>][])('Encounter?date=%s with prefix %s compares the whole Encounter.period', async (value, prefix) => {
      const expected = encounters.filter((e) => anyDate(prefix, e.period ? [periodSpan(e.period)] : [], value));
      await expectMatches(q('Encounter', ['date', `${prefix}${value}`]), expected);
    });

    it('a period of fifteen years is after and before a day inside it, but neither equal, sa nor eb', async () => {
      const long = encounters.find((e) => e.period && span(e.period.end!).lo - span(e.period.start!).lo > 10 * 365 * 86_400_000)!;
      expect(long).toBeDefined();
      const inside = '2010-01-01';
      const matches = async (value: string) => (await matchIds(http, q('Encounter', ['date', value], ['_id', long.id!]))).length === 1;
      expect([await matches(`gt${inside}`), await matches(`lt${inside}`), await matches(`ge${inside}`), await matches(`le${inside}`)]).toEqual([true, true, true, true]);
      expect([await matches(inside), await matches(`sa${inside}`), await matches(`eb${inside}`), await matches(`ne${inside}`)]).toEqual([false, false, false, true]);
      expect(dateMatches('gt', periodSpan(long.period!), span(inside))).toBe(true);
    });

    it('two prefixes ANDed make a range', async () => {
      const expected = encounters.filter((e) => anyDate('ge', [periodSpan(e.period!)], '2012-01-01') && anyDate('lt', [periodSpan(e.period!)], '2013-01-01'));
      await expectMatches(q('Encounter', ['date', 'ge2012-01-01'], ['date', 'lt2013-01-01']), expected);
    });
  });

  describe('quantity', () => {
    const quantityObs = observations.filter((o) => o.valueQuantity?.value !== undefined);
    const withUnit = (o: Observation, system: string | undefined, code: string | undefined) =>
      (system === undefined || o.valueQuantity!.system === system) &&
      (code === undefined || (system === undefined ? o.valueQuantity!.code === code || o.valueQuantity!.unit === code : o.valueQuantity!.code === code));

    it.each([
      ['gt180', undefined, undefined],
      ['gt180', UCUM, 'cm'],
      ['gt180', undefined, 'cm'],
      ['176', UCUM, 'cm'],
      ['176.7', UCUM, 'cm'],
      ['176.70', UCUM, 'cm'],
      ['lt50', UCUM, 'kg'],
      ['le89.4', UCUM, 'kg'],
      ['ge89.4', UCUM, 'kg'],
      ['ne89.4', UCUM, 'kg'],
      ['sa89.4', UCUM, 'kg'],
      ['eb10', UCUM, 'kg'],
      ['gt180', UCUM, 'm'],
      ['gt180', 'http://example.org/units', 'cm'],
    ] as [string, string | undefined, string | undefined][])('Observation?value-quantity=%s|%s|%s', async (value, system, code) => {
      const prefix = (/^[a-z]{2}/.exec(value)?.[0] ?? 'eq') as Exclude<Prefix, 'ap'>;
      const number = value.replace(/^[a-z]{2}/, '');
      const expected = quantityObs.filter((o) => withUnit(o, system, code) && numberMatches(prefix, o.valueQuantity!.value!, number));
      const param = system === undefined && code === undefined ? value : `${value}|${system ?? ''}|${code ?? ''}`;
      await expectMatches(q('Observation', ['value-quantity', param]), expected, { empty: code === 'm' || system === 'http://example.org/units' });
    });

    it('precision decides eq: 176 is [175.5, 176.5), so 175.8 cm matches it and 176.7 does not', async () => {
      const got = await matchIds(http, q('Observation', ['value-quantity', `176|${UCUM}|cm`]));
      const values = got.map((id) => observations.find((o) => `Observation/${o.id}` === id)!.valueQuantity!.value!);
      expect(values.length).toBeGreaterThan(0);
      expect(values.every((v) => v >= 175.5 && v < 176.5)).toBe(true);
      expect(values).toContain(175.8);
    });

    it('ap: includes values within 5% and nothing beyond 20%', async () => {
      const got = await matchIds(http, q('Observation', ['value-quantity', `ap80|${UCUM}|kg`]));
      const kg = quantityObs.filter((o) => withUnit(o, UCUM, 'kg'));
      const core = keys(kg.filter((o) => Math.abs(o.valueQuantity!.value! - 80) <= 4));
      const outer = keys(kg.filter((o) => Math.abs(o.valueQuantity!.value! - 80) <= 16));
      expect(core.length).toBeGreaterThan(0);
      for (const id of core) expect(got).toContain(id);
      for (const id of got) expect(outer).toContain(id);
    });

    it('value-quantity ANDed with code: tall body heights only', async () => {
      await expectMatches(
        q('Observation', ['code', `${LOINC}|8302-2`], ['value-quantity', 'gt170']),
        bodyHeights.filter((o) => o.valueQuantity!.value! > 170),
      );
    });
  });

  describe('reference', () => {
    const rene = patientId('Rene_Hills');
    const reneObservations = observations.filter((o) => refersTo(o.subject, `Patient/${rene}`));

    it.each([
      ['subject', `Patient/${rene}`],
      ['patient', rene],
      ['patient', `Patient/${rene}`],
      ['subject:Patient', rene],
      ['subject', `${BASE}/Patient/${rene}`],
    ])('Observation?%s=%s', async (name, value) => {
      await expectMatches(q('Observation', [name, value]), reneObservations);
    });

    it('a reference to another type is not this patient', async () => {
      await expectMatches(q('Observation', ['subject:Group', rene]), [], { empty: true });
      await expectMatches(q('Observation', ['subject', `Group/${rene}`]), [], { empty: true });
    });

    it('an absolute URL on another server is not this server\'s Patient of the same id', async () => {
      // Every stored subject is relative (Patient/X), so on this server (base BASE) it is BASE/Patient/X, which
      // https://elsewhere.example.com/fhir/Patient/X is not.
      await expectMatches(q('Observation', ['subject', `https://elsewhere.example.com/fhir/Patient/${rene}`]), [], { empty: true });
    });

    it('OR of two patients; Encounter participant, practitioner and service-provider', async () => {
      const luther = patientId('Luther_Streich');
      await expectMatches(
        q('Observation', ['patient', `Patient/${rene},Patient/${luther}`]),
        observations.filter((o) => refersTo(o.subject, `Patient/${rene}`) || refersTo(o.subject, `Patient/${luther}`)),
      );
      const practitioner = encounters[5].participant![0].individual!.reference!;
      const byPractitioner = encounters.filter((e) => e.participant?.some((p) => refersTo(p.individual, practitioner)));
      await expectMatches(q('Encounter', ['participant', practitioner]), byPractitioner);
      await expectMatches(q('Encounter', ['practitioner', practitioner.split('/')[1]]), byPractitioner);
      const provider = encounters[5].serviceProvider!.reference!;
      await expectMatches(q('Encounter', ['service-provider', provider]), encounters.filter((e) => refersTo(e.serviceProvider, provider)));
    });

    it('references need not resolve: the Group names patients that were never loaded', async () => {
      const group = all<Group>('Group')[0];
      const notLoaded = group.member!.map((m) => m.entity.reference!).find((r) => !data.resources.has(r))!;
      expect(notLoaded).toMatch(/^Patient\//);
      await expectMatches(q('Group', ['member', notLoaded]), [group]);
      await expectMatches(q('Group', ['member', `Patient/${rene}`]), group.member!.some((m) => m.entity.reference === `Patient/${rene}`) ? [group] : [], {
        empty: !group.member!.some((m) => m.entity.reference === `Patient/${rene}`),
      });
    });

    it('DiagnosticReport?result= and Observation?encounter=, and :missing on a reference', async () => {
      const report = all<DiagnosticReport>('DiagnosticReport')[0];
      const result = report.result![2].reference!;
      await expectMatches(q('DiagnosticReport', ['result', result]), all<DiagnosticReport>('DiagnosticReport').filter((d) => d.result?.some((r) => r.reference === result)));
      const encounter = observations[10].encounter!.reference!;
      await expectMatches(q('Observation', ['encounter', encounter]), observations.filter((o) => refersTo(o.encounter, encounter)));
      await expectMatches(q('Encounter', ['participant:missing', 'true']), encounters.filter((e) => !e.participant?.some((p) => p.individual)), { empty: true });
    });
  });

  describe('_id, OR and AND', () => {
    const [a, b] = [patientId('Sona_Sporer'), patientId('Rene_Hills')];
    const byId = (...ids: string[]) => patients.filter((p) => ids.includes(p.id!));

    it('_id takes one id or several (OR); repeated it is AND', async () => {
      await expectMatches(q('Patient', ['_id', a]), byId(a));
      await expectMatches(q('Patient', ['_id', `${a},${b}`]), byId(a, b));
      await expectMatches(q('Patient', ['_id', a], ['_id', b]), [], { empty: true });
      await expectMatches(q('Patient', ['_id', a], ['_id', `${a},${b}`]), byId(a));
      // An id of another type finds nothing in this one.
      await expectMatches(q('Observation', ['_id', a]), [], { empty: true });
    });

    it('comma is OR within a parameter; a repeated parameter or another parameter is AND', async () => {
      await expectMatches(q('Patient', ['family', 'streich,hills']), patients.filter((p) => p.name?.some((n) => startsWithFolded(n.family, 'streich') || startsWithFolded(n.family, 'hills'))));
      await expectMatches(q('Patient', ['given', 'dillon'], ['family', 'adams']), patients.filter((p) => p.name?.some((n) => startsWithFolded(n.family, 'adams')) && p.name?.some((n) => n.given?.some((g) => startsWithFolded(g, 'dillon')))));
      await expectMatches(q('Patient', ['birthdate', 'ge1966'], ['birthdate', 'lt1973']), patients.filter((p) => anyDate('ge', birth(p), '1966') && anyDate('lt', birth(p), '1973')));
      await expectMatches(q('Patient', ['name', 'streich'], ['name', 'hills']), [], { empty: true });
      const subject = `Patient/${patientId('Darcy_Schmidt')}`;
      await expectMatches(
        q('Observation', ['code', '8302-2,29463-7'], ['subject', subject]),
        observations.filter((o) => refersTo(o.subject, subject) && (hasCode(o.code, '8302-2') || hasCode(o.code, '29463-7'))),
      );
    });

    it('an escaped comma is part of the value, not an OR', async () => {
      await expectMatches(q('Patient', ['family', 'streich\\,hills']), [], { empty: true });
    });
  });

  describe('the Bundle: totals, _summary, _elements, POST, system level', () => {
    it('_total=accurate counts all matches, none leaves total out, estimate gives a number', async () => {
      const accurate = await search(http, q('Observation', ['code', `${LOINC}|8302-2`], ['_total', 'accurate'], ['_count', '5']));
      expect(accurate.total).toBe(bodyHeights.length);
      expect(idsOf(accurate)).toHaveLength(5);
      const none = await search(http, q('Observation', ['code', `${LOINC}|8302-2`], ['_total', 'none'], ['_count', '5']));
      expect(none.total).toBeUndefined();
      expect(idsOf(none)).toHaveLength(5);
      const estimate = await search(http, q('Observation', ['code', `${LOINC}|8302-2`], ['_total', 'estimate']));
      expect(typeof estimate.total).toBe('number');
      expect(estimate.total).toBeGreaterThanOrEqual(0);
    });

    it('_summary=count: the total, no entries', async () => {
      const bundle = await search(http, q('Observation', ['code', `${LOINC}|29463-7`], ['_summary', 'count']));
      expect(bundle.total).toBe(bodyWeights.length);
      expect(bundle.entry ?? []).toEqual([]);
    });

    it('_count bounds a page and the next link carries on', async () => {
      const bundle = await search(http, q('Patient', ['_count', '4']));
      expect(idsOf(bundle)).toHaveLength(4);
      expect(link(bundle, 'next')).toBeDefined();
      expect(bundle.total).toBe(patients.length);
    });

    it('_elements returns only the elements asked for (and id), marked SUBSETTED', async () => {
      const bundle = await search(http, q('Patient', ['family', 'streich'], ['_elements', 'birthDate,gender']));
      const expected = patients.filter((p) => p.name?.some((n) => startsWithFolded(n.family, 'streich')));
      expect(sorted(idsOf(bundle))).toEqual(keys(expected));
      for (const entry of bundle.entry!) {
        const resource = entry.resource as Patient;
        const original = expected.find((p) => p.id === resource.id)!;
        expect(resource.birthDate).toBe(original.birthDate);
        expect(resource.gender).toBe(original.gender);
        expect(resource.name).toBeUndefined();
        expect(resource.address).toBeUndefined();
        expect(resource.identifier).toBeUndefined();
        expect(resource.meta?.tag?.some((t) => t.code === 'SUBSETTED')).toBe(true);
      }
    });

    it('POST [type]/_search with a form body finds what GET finds', async () => {
      const params: [string, string][] = [
        ['code', '8302-2,29463-7'],
        ['date', 'ge2012'],
        ['date', 'lt2019'],
        ['subject', `Patient/${patientId('Rene_Hills')}`],
      ];
      const expected = observations.filter(
        (o) =>
          refersTo(o.subject, `Patient/${patientId('Rene_Hills')}`) &&
          (hasCode(o.code, '8302-2') || hasCode(o.code, '29463-7')) &&
          anyDate('ge', effective(o), '2012') &&
          anyDate('lt', effective(o), '2019'),
      );
      const get = await search(http, `${q('Observation', ...params)}&_count=1000`);
      const form = new URLSearchParams([...params, ['_count', '1000']]).toString();
      const res = await request(http).post('/fhir/Observation/_search').set('content-type', 'application/x-www-form-urlencoded').send(form);
      expect(res.status).toBe(200);
      const post = res.body as Bundle;
      expect(sorted(idsOf(post))).toEqual(keys(expected));
      expect(sorted(idsOf(get))).toEqual(keys(expected));
      expect(post.total).toBe(get.total);
      expect(expected.length).toBeGreaterThan(0);
    });

    it('system level: GET [base]?_type=Patient,Practitioner&name=… searches both types', async () => {
      for (const value of ['streich', 'hills']) {
        const expected = [
          ...patients.filter((p) => nameParts(p).some((part) => startsWithFolded(part, value))),
          ...practitioners.filter((p) => nameParts(p).some((part) => startsWithFolded(part, value))),
        ];
        expect(expected.some((r) => r.resourceType === 'Patient') && expected.some((r) => r.resourceType === 'Practitioner')).toBe(true);
        await expectMatches(q('', ['_type', 'Patient,Practitioner'], ['name', value]), expected);
        const bundle = await search(http, q('', ['_type', 'Patient,Practitioner'], ['name', value]));
        expect(bundle.total).toBe(expected.length);
      }
    });
  });

  describe('paging', () => {
    const codes = ['8302-2', '29463-7', '8867-4'];
    const pagedQuery = q('Observation', ['code', codes.join(',')], ['_count', '7']);
    const pagedExpected = observations.filter((o) => codes.some((c) => hasCode(o.code, c)));

    it('walks more than 100 matches 7 at a time to the end and back, each exactly once', async () => {
      expect(pagedExpected.length).toBeGreaterThan(100);
      const forward: Bundle[] = [];
      let next: string | undefined = pagedQuery;
      while (next) {
        const page = await search(http, next);
        forward.push(page);
        expect(forward.length).toBeLessThan(100);
        const url = link(page, 'next');
        next = url ? pathOf(url) : undefined;
      }
      const ids = forward.flatMap(idsOf);
      expect(new Set(ids).size).toBe(ids.length);
      expect(sorted(ids)).toEqual(keys(pagedExpected));
      expect(forward).toHaveLength(Math.ceil(pagedExpected.length / 7));
      for (const page of forward.slice(0, -1)) expect(idsOf(page)).toHaveLength(7);
      for (const page of forward) expect(page.total).toBe(pagedExpected.length);
      expect(link(forward[0], 'previous')).toBeUndefined();

      // Back from the last page: the same pages in reverse order.
      const backward: Bundle[] = [forward[forward.length - 1]];
      let previous = link(backward[0], 'previous');
      while (previous) {
        const page = await search(http, pathOf(previous));
        backward.push(page);
        expect(backward.length).toBeLessThan(100);
        previous = link(page, 'previous');
      }
      expect(backward.map(idsOf).reverse()).toEqual(forward.map(idsOf));
    });

    it('a cursor that this server did not issue is a 400', async () => {
      const res = await request(http).get(`${pagedQuery}&_cursor=bogus`);
      expect(res.status).toBe(400);
      expect(res.body.resourceType).toBe('OperationOutcome');
    });

    // Last in this file: it writes.
    it('while resources are updated and created between pages, none is duplicated and none that still matches is missed', async () => {
      const query = q('Observation', ['code', `${LOINC}|8302-2,${LOINC}|29463-7`], ['_count', '7']);
      const initial = [...bodyHeights, ...bodyWeights];
      const seen: string[] = [];
      const created: string[] = [];
      const updated = new Set<string>();
      const put = async (o: Observation) => {
        const body = { ...o, note: [{ text: `updated while paging (${updated.size})` }] };
        delete body.meta;
        const res = await request(http).put(`/fhir/Observation/${o.id}`).set('content-type', 'application/fhir+json').send(body);
        expect(res.status).toBe(200);
        updated.add(`Observation/${o.id}`);
      };
      let next: string | undefined = query;
      let pages = 0;
      while (next) {
        const page = await search(http, next);
        seen.push(...idsOf(page));
        pages++;
        const url = link(page, 'next');
        next = url ? pathOf(url) : undefined;
        // Between pages: update one already seen and one not seen yet (both still match), and create a new match.
        const seenOne = initial.find((o) => seen.includes(`Observation/${o.id}`) && !updated.has(`Observation/${o.id}`));
        const unseenOne = initial.find((o) => !seen.includes(`Observation/${o.id}`) && !updated.has(`Observation/${o.id}`));
        if (seenOne) await put(seenOne);
        if (unseenOne) await put(unseenOne);
        const res = await request(http)
          .post('/fhir/Observation')
          .set('content-type', 'application/fhir+json')
          .send({
            resourceType: 'Observation',
            status: 'final',
            code: { coding: [{ system: LOINC, code: '8302-2', display: 'Body Height' }] },
            subject: { reference: `Patient/${patientId('Fannie_Waelchi')}` },
            effectiveDateTime: '2024-02-02T10:00:00Z',
            valueQuantity: { value: 50 + pages, unit: 'cm', system: UCUM, code: 'cm' },
          });
        expect(res.status).toBe(201);
        created.push(`Observation/${res.body.id}`);
      }
      expect(pages).toBeGreaterThan(20);
      expect(updated.size).toBeGreaterThan(20);
      expect(new Set(seen).size).toBe(seen.length);
      const missing = keys(initial).filter((id) => !seen.includes(id));
      expect(missing).toEqual([]);
      // Anything else returned is one of the resources created during the walk.
      for (const id of seen) if (!keys(initial).includes(id)) expect(created).toContain(id);
    });
  });
});
