import { readdirSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Basic, Bundle, Encounter, Observation, OperationOutcome, Patient, Practitioner, Resource, RiskAssessment, ValueSet } from 'fhir/r4';
import request from 'supertest';
import { BACKENDS, reportBackends } from '../support/backends.js';
import { openTestServer, type TestServer } from '../support/fhir-app.js';
import { BASE, anyDate, containsFolded, idsOf, keys, matchIds, numberMatches, periodSpan, search, sorted, span, startsWithFolded, type Prefix } from '../support/search-oracle.js';
import { q } from '../support/search-query.js';
import { REFUSED_ON_WRITE } from '../support/refused-examples.js';

reportBackends();

/**
 * Each parameter type, modifier and prefix over the official R4 examples (hl7.fhir.r4.examples: every Patient,
 * Observation, RiskAssessment and Practitioner example, and the example ValueSets and CodeSystems) plus a few
 * resources made here for what the examples lack (accents, numbers at chosen precisions, URLs in a hierarchy,
 * open periods, references by identifier). Expectations are hand-picked from the files (the `by reading` lists)
 * or computed by the oracle over the JSON written; never taken from the server.
 */
const require = createRequire(import.meta.url);
const EXAMPLES = dirname(require.resolve('hl7.fhir.r4.examples/package.json'));
// Less the few a write refuses as breaking their base definition (Observation-clinical-gender).
const exampleFiles = readdirSync(EXAMPLES).filter(
  (f) => (/^(Patient|Observation|RiskAssessment|Practitioner)-.+\.json$/.test(f) || /^(ValueSet|CodeSystem)-example.*\.json$/.test(f)) && !REFUSED_ON_WRITE.includes(f),
);
const examples: Resource[] = exampleFiles.map((f) => JSON.parse(readFileSync(join(EXAMPLES, f), 'utf8')) as Resource);

const UCUM = 'http://unitsofmeasure.org';
const risk = (id: string, ...probabilities: number[]): RiskAssessment => ({
  resourceType: 'RiskAssessment',
  id,
  status: 'final',
  subject: { reference: 'Patient/muller-1' },
  prediction: probabilities.map((p) => ({ probabilityDecimal: p })),
});
const valueSet = (id: string, url: string): ValueSet => ({ resourceType: 'ValueSet', id, url, status: 'active' });
const encounter = (id: string, period: Encounter['period']): Encounter => ({
  resourceType: 'Encounter',
  id,
  status: 'finished',
  class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
  ...(period ? { period } : {}),
});
const observation = (id: string, extra: Partial<Observation>): Observation => ({
  resourceType: 'Observation',
  id,
  status: 'final',
  code: { text: 'made here' },
  ...extra,
});

const made: Resource[] = [
  { resourceType: 'Patient', id: 'muller-1', name: [{ family: 'Müller', given: ['Jürgen'] }], gender: 'male', birthDate: '1980-05-05' } as Patient,
  { resourceType: 'Patient', id: 'muller-2', name: [{ family: 'Muller', given: ['Anna'] }], gender: 'female', birthDate: '1985' } as Patient,
  { resourceType: 'Patient', id: 'muller-3', name: [{ family: 'Müller-Lüdenscheidt', given: ['Ernst'] }], birthDate: '1990-01' } as Patient,
  { resourceType: 'Patient', id: 'awkward', identifier: [{ system: 'http://example.org/ids', value: 'x,y|z\\w' }], name: [{ family: '50% off_sale' }] } as Patient,
  risk('ra-0.2', 0.2),
  risk('ra-0.24', 0.24),
  risk('ra-0.249', 0.249),
  risk('ra-0.25', 0.25),
  risk('ra-0.26', 0.26),
  risk('ra-0.5', 0.5),
  risk('ra-1', 1),
  risk('ra-0.05', 0.05),
  risk('ra-two', 0.1, 0.9),
  valueSet('vs-a', 'http://example.org/fhir/ValueSet/a'),
  valueSet('vs-ab', 'http://example.org/fhir/ValueSet/a/b'),
  valueSet('vs-abc', 'http://example.org/fhir/ValueSet/a/b/c'),
  valueSet('vs-other', 'http://other.example.com/fhir/ValueSet/a'),
  observation('code-no-system', { code: { coding: [{ code: 'xyz-1' }] } }),
  observation('code-with-system', { code: { coding: [{ system: 'http://example.org/codes', code: 'xyz-1' }] } }),
  observation('code-other-code', { code: { coding: [{ system: 'http://example.org/codes', code: 'xyz-2' }], text: 'Zebra finch count' } }),
  observation('subject-by-identifier', { subject: { identifier: { system: 'http://example.org/mrn', value: 'MRN-1' } } }),
  observation('subject-both', { subject: { reference: 'Patient/muller-1', identifier: { system: 'http://example.org/mrn', value: 'MRN-2' } } }),
  observation('subject-other-system', { subject: { identifier: { system: 'http://example.org/other', value: 'MRN-1' } } }),
  observation('subject-here-absolute', { subject: { reference: `${BASE}/Patient/muller-2` } }),
  observation('subject-elsewhere', { subject: { reference: 'https://elsewhere.example.com/fhir/Patient/muller-3' } }),
  encounter('open-end', { start: '2020-01-01T00:00:00Z' }),
  encounter('open-start', { end: '2000-06-01' }),
  encounter('closed', { start: '2010-01-01', end: '2010-12-31' }),
  encounter('no-period', undefined),
];

const loaded = [...examples, ...made];
const ofType = <T extends Resource>(type: T['resourceType']) => loaded.filter((r) => r.resourceType === type) as T[];
const patients = ofType<Patient>('Patient');
const observations = ofType<Observation>('Observation');
const risks = ofType<RiskAssessment>('RiskAssessment');
const valueSets = ofType<ValueSet>('ValueSet');
const encounters = ofType<Encounter>('Encounter');
const practitioners = ofType<Practitioner>('Practitioner');
const ids = (type: string, ...names: string[]) => names.map((n) => `${type}/${n}`).sort();
const nameParts = (p: Patient | Practitioner): string[] =>
  (p.name ?? []).flatMap((n) => [n.family, ...(n.given ?? []), ...(n.prefix ?? []), ...(n.suffix ?? []), n.text]).filter((s): s is string => !!s);

describe.each(BACKENDS)('search parameters over the R4 examples on $name', (backend) => {
  let server: TestServer;
  let http: Server;
  const lastUpdated: Record<string, string> = {};

  beforeAll(async () => {
    // Referential integrity off: the fixtures are official examples picked per search parameter, which refer to
    // many examples not picked (Practitioner/example, …); what is tested is search (test/integrity/ tests the check).
    server = await openTestServer(backend, { baseUrl: BASE, referentialIntegrity: false });
    http = server.app.listen(0, '127.0.0.1');
    for (const resource of loaded) {
      const res = await request(http).put(`/fhir/${resource.resourceType}/${resource.id}`).set('content-type', 'application/fhir+json').send(resource);
      if (res.status !== 201) throw new Error(`PUT ${resource.resourceType}/${resource.id}: ${res.status} ${JSON.stringify(res.body).slice(0, 400)}`);
    }
    // Two writes a little apart, for _lastUpdated.
    for (const id of ['first', 'second']) {
      const basic: Basic = { resourceType: 'Basic', id, code: { text: 'a write to time' } };
      const res = await request(http).put(`/fhir/Basic/${id}`).set('content-type', 'application/fhir+json').send(basic);
      expect(res.status).toBe(201);
      lastUpdated[id] = res.body.meta.lastUpdated;
      await new Promise((ok) => setTimeout(ok, 30));
    }
  }, 120_000);
  afterAll(async () => {
    http?.closeAllConnections();
    await new Promise((ok) => (http ? http.close(ok) : ok(undefined)));
    await server?.close();
  });

  const expectIds = async (path: string, expected: string[]) => expect(await matchIds(http, path)).toEqual(sorted(expected));
  const expectMatches = async (path: string, expected: Resource[], { empty = false } = {}) => {
    if (!empty) expect(expected.length).toBeGreaterThan(0);
    expect(await matchIds(http, path)).toEqual(keys(expected));
  };

  describe('string', () => {
    it('Patient-example (Chalmers): any part of any of its three names, by prefix (by reading)', async () => {
      await expectIds(q('Patient', ['name', 'chalmers']), ids('Patient', 'example'));
      await expectIds(q('Patient', ['name', 'jim']), ids('Patient', 'example'));
      await expectIds(q('Patient', ['family', 'windsor']), ids('Patient', 'example'));
      await expectIds(q('Patient', ['given', 'james']), ids('Patient', 'example'));
      await expectIds(q('Patient', ['name', 'solo']), ids('Patient', 'infant-mom', 'infant-twin-1', 'infant-twin-2'));
      await expectIds(q('Patient', ['family', 'organa']), ids('Patient', 'infant-mom'));
      await expectIds(q('Patient', ['name', 'eve']), ids('Patient', 'genetics-example1', 'mom'));
      // HumanName.text counts as a part of the name: 张无忌 is only a text.
      await expectIds(q('Patient', ['name', '张']), ids('Patient', 'ch-example'));
    });

    it('Müller: case and accents fold for the default search and :contains, never for :exact', async () => {
      const family = (p: Patient) => p.name?.map((n) => n.family).filter((f): f is string => !!f) ?? [];
      for (const value of ['muller', 'MÜLLER', 'Mül', 'müller-lüd']) {
        await expectMatches(q('Patient', ['family', value]), patients.filter((p) => family(p).some((f) => startsWithFolded(f, value))));
      }
      await expectIds(q('Patient', ['family', 'muller']), ids('Patient', 'muller-1', 'muller-2', 'muller-3'));
      await expectIds(q('Patient', ['family:exact', 'Müller']), ids('Patient', 'muller-1'));
      await expectIds(q('Patient', ['family:exact', 'Muller']), ids('Patient', 'muller-2'));
      await expectIds(q('Patient', ['family:exact', 'müller']), []);
      await expectIds(q('Patient', ['family:exact', 'Müll']), []);
      await expectIds(q('Patient', ['family:contains', 'LÜDEN']), ids('Patient', 'muller-3'));
      for (const value of ['ller', 'ÜLL', 'er-l']) {
        await expectMatches(q('Patient', ['family:contains', value]), patients.filter((p) => family(p).some((f) => containsFolded(f, value))));
      }
      await expectIds(q('Patient', ['given', 'jurgen']), ids('Patient', 'muller-1'));
    });

    it('Practitioner names, with HumanName.text (by reading)', async () => {
      await expectIds(q('Practitioner', ['name', 'van']), ids('Practitioner', 'f001', 'f006'));
      await expectIds(q('Practitioner', ['name', 'juri']), ids('Practitioner', 'f203'));
      await expectIds(q('Practitioner', ['name:contains', 'van']), ids('Practitioner', 'f001', 'f006', 'f203'));
      await expectIds(q('Practitioner', ['family', 'van den b']), ids('Practitioner', 'f001', 'f006'));
      await expectMatches(q('Practitioner', ['name', 'dr']), practitioners.filter((p) => nameParts(p).some((part) => startsWithFolded(part, 'dr'))));
    });

    it('% and _ are literal characters, not wildcards', async () => {
      await expectIds(q('Patient', ['family', '50%']), ids('Patient', 'awkward'));
      await expectIds(q('Patient', ['family', '%']), []);
      await expectIds(q('Patient', ['family', '_']), []);
      await expectIds(q('Patient', ['family:contains', '%']), ids('Patient', 'awkward'));
      await expectIds(q('Patient', ['family:contains', 'f_s']), ids('Patient', 'awkward'));
      await expectIds(q('Patient', ['family:contains', 'ller_']), []);
    });

    it(':missing on a string', async () => {
      await expectMatches(q('Patient', ['family:missing', 'true']), patients.filter((p) => !p.name?.some((n) => n.family)));
      await expectMatches(q('Patient', ['family:missing', 'false']), patients.filter((p) => p.name?.some((n) => n.family)));
    });
  });

  describe('token', () => {
    it('code alone, system|code, |code (no system) and system| (by reading the made Observations)', async () => {
      await expectIds(q('Observation', ['code', 'xyz-1']), ids('Observation', 'code-no-system', 'code-with-system'));
      await expectIds(q('Observation', ['code', '|xyz-1']), ids('Observation', 'code-no-system'));
      await expectIds(q('Observation', ['code', 'http://example.org/codes|xyz-1']), ids('Observation', 'code-with-system'));
      await expectIds(q('Observation', ['code', 'http://example.org/codes|']), ids('Observation', 'code-with-system', 'code-other-code'));
      await expectIds(q('Observation', ['code', 'http://example.org/other|xyz-1']), []);
    });

    it('Observation examples by code (by reading)', async () => {
      await expectIds(q('Observation', ['code', 'http://loinc.org|8302-2']), ids('Observation', 'body-height', 'body-length'));
      await expectIds(q('Observation', ['code', '8310-5']), ids('Observation', 'body-temperature', 'f202'));
      // Observation-example carries three codings: each finds it.
      for (const code of ['http://loinc.org|29463-7', 'http://loinc.org|3141-9', 'http://snomed.info/sct|27113001']) {
        expect(await matchIds(http, q('Observation', ['code', code]))).toContain('Observation/example');
      }
    });

    it('identifiers: value alone, system|value, system| (by reading)', async () => {
      await expectIds(q('Patient', ['identifier', '12345']), ids('Patient', 'example', 'xcda'));
      await expectIds(q('Patient', ['identifier', 'urn:oid:1.2.36.146.595.217.0.1|12345']), ids('Patient', 'example'));
      await expectIds(q('Patient', ['identifier', 'http://hl7.org/fhir/sid/us-ssn|444222222']), ids('Patient', 'genetics-example1', 'mom'));
      await expectIds(q('Patient', ['identifier', 'urn:oid:1.2.36.146.595.217.0.1|']), ids('Patient', 'example', 'ch-example'));
    });

    it('escaped separators (\\, \\| \\\\) are part of a token value; |value finds an identifier without system', async () => {
      await expectIds(q('Patient', ['identifier', 'http://example.org/ids|x\\,y\\|z\\\\w']), ids('Patient', 'awkward'));
      await expectIds(q('Patient', ['identifier', 'x\\,y\\|z\\\\w']), ids('Patient', 'awkward'));
      await expectIds(q('Patient', ['identifier', 'http://example.org/ids|x']), []);
      // Patient-ihe-pcd's identifier AB60001 has no system.
      await expectIds(q('Patient', ['identifier', '|AB60001']), ids('Patient', 'ihe-pcd'));
      await expectIds(q('Patient', ['identifier', 'AB60001']), ids('Patient', 'ihe-pcd'));
    });

    it(':text on Identifier.type.text and CodeableConcept.text (by reading)', async () => {
      await expectIds(q('Patient', ['identifier:text', 'bsn']), ids('Patient', 'f201'));
      await expectIds(q('Patient', ['identifier:text', 'dog']), ids('Patient', 'animal'));
      await expectIds(q('Observation', ['code:text', 'zebra finch']), ids('Observation', 'code-other-code'));
      // "Blood Group Panel" (bgpanel) starts with "blood group" too.
      await expectIds(q('Observation', ['code:text', 'blood group']), ids('Observation', 'bgpanel', 'bloodgroup', 'rhstatus'));
    });

    it(':of-type matches the identifier type and value together (by reading)', async () => {
      const v2 = 'http://terminology.hl7.org/CodeSystem/v2-0203';
      await expectIds(q('Patient', ['identifier:of-type', `${v2}|MR|12345`]), ids('Patient', 'example', 'xcda'));
      await expectIds(q('Patient', ['identifier:of-type', `${v2}|SS|444222222`]), ids('Patient', 'genetics-example1', 'mom'));
      await expectIds(q('Patient', ['identifier:of-type', `${v2}|SS|12345`]), []);
    });

    it(':not includes resources without the element; :missing (by reading)', async () => {
      // gender is female, other, or absent (ihe-pcd); the made muller-3 and awkward have none either.
      await expectIds(
        q('Patient', ['gender:not', 'male']),
        ids('Patient', 'animal', 'genetics-example1', 'infant-mom', 'infant-twin-1', 'mom', 'pat4', 'proband', 'pat2', 'ihe-pcd', 'muller-2', 'muller-3', 'awkward'),
      );
      await expectMatches(q('Patient', ['gender:not', 'male']), patients.filter((p) => p.gender !== 'male'));
      await expectIds(q('Patient', ['active:missing', 'true']), [...ids('Patient', 'infant-fetal', 'infant-mom', 'infant-twin-1', 'infant-twin-2', 'newborn'), ...ids('Patient', 'muller-1', 'muller-2', 'muller-3', 'awkward')].sort());
      await expectMatches(q('Patient', ['active', 'true']), patients.filter((p) => p.active === true));
      await expectIds(q('Patient', ['active', 'false']), []);
      await expectIds(q('Patient', ['gender', 'other']), ids('Patient', 'pat2'));
    });
  });

  describe('date', () => {
    it('birthdate by precision and prefix on the examples (by reading)', async () => {
      // Patient-example and ch-example are both born 1974-12-25.
      for (const value of ['1974', '1974-12', '1974-12-25', 'eq1974']) await expectIds(q('Patient', ['birthdate', value]), ids('Patient', 'example', 'ch-example'));
      await expectIds(q('Patient', ['birthdate', '1974-11']), []);
      await expectIds(q('Patient', ['birthdate', '1974-12-24']), []);
      await expectIds(q('Patient', ['birthdate', 'lt1974']), ids('Patient', 'f001', 'f201', 'genetics-example1', 'glossy', 'mom', 'proband', 'xcda', 'xds'));
      await expectIds(
        q('Patient', ['birthdate', 'sa1974']),
        ids('Patient', 'animal', 'infant-mom', 'infant-twin-1', 'infant-twin-2', 'newborn', 'pat3', 'pat4', 'muller-1', 'muller-2', 'muller-3'),
      );
      await expectIds(q('Patient', ['birthdate:missing', 'true']), ids('Patient', 'dicom', 'ihe-pcd', 'infant-fetal', 'pat1', 'pat2', 'awkward'));
    });

    it.each(['eq', 'ne', 'gt', 'ge', 'lt', 'le', 'sa', 'eb'] as Exclude<Prefix, 'ap'>[])('birthdate prefix %s at year, month and day precision (oracle)', async (prefix) => {
      for (const value of ['1985', '1990-01', '1980-05-05', '1974-12-25', '1974-12-25T10:00:00Z']) {
        const expected = patients.filter((p) => anyDate(prefix, p.birthDate ? [span(p.birthDate)] : [], value));
        // A minute of 1974-12-25 contains no birth date (eq finds none); every other case finds some.
        await expectMatches(q('Patient', ['birthdate', `${prefix}${value}`]), expected, { empty: prefix === 'eq' && value.includes('T') });
      }
    });

    it('Observation effective: dates and Periods, an open-ended Period included (by reading)', async () => {
      await expectIds(
        q('Observation', ['date', '1999-07-02']),
        ids('Observation', 'bmi', 'bmi-using-related', 'body-height', 'body-length', 'body-temperature', 'head-circumference', 'heart-rate', 'mbp', 'respiratory-rate', 'vitals-panel'),
      );
      // Periods wholly within April 2013; f001's period has no end, so it is not within any month.
      await expectIds(q('Observation', ['date', '2013-04']), ids('Observation', 'f002', 'f003', 'f004', 'f005', 'unsat'));
      await expectIds(q('Observation', ['date', '2013-04-02']), []);
      // f005's period starts and ends at 2013-04-05T10:30:10+01:00: a search for that second, zone and all, finds it.
      await expectIds(q('Observation', ['date', '2013-04-05T10:30:10+01:00']), ids('Observation', 'f005'));
      await expectIds(q('Observation', ['date', '2013-04-05T09:30:10Z']), ids('Observation', 'f005'));
      await expectIds(q('Observation', ['date', '2013-04-05T10:30:10Z']), []);
      const after = await matchIds(http, q('Observation', ['date', 'gt2030']));
      expect(after).toEqual(ids('Observation', 'abdo-tender', 'f001'));
    });

    it.each(['eq', 'ne', 'gt', 'ge', 'lt', 'le', 'sa', 'eb'] as Exclude<Prefix, 'ap'>[])('Encounter?date prefix %s with open and closed periods (oracle)', async (prefix) => {
      for (const value of ['2010', '2010-06', '2000-01-01', '2025']) {
        const expected = encounters.filter((e) => anyDate(prefix, e.period ? [periodSpan(e.period)] : [], value));
        await expectMatches(q('Encounter', ['date', `${prefix}${value}`]), expected, { empty: true });
      }
    });

    it('an open end reaches past any date, an open start before any (by reading)', async () => {
      await expectIds(q('Encounter', ['date', 'gt2100-01-01']), ids('Encounter', 'open-end'));
      await expectIds(q('Encounter', ['date', 'lt1900-01-01']), ids('Encounter', 'open-start'));
      await expectIds(q('Encounter', ['date', 'sa2019']), ids('Encounter', 'open-end'));
      await expectIds(q('Encounter', ['date', 'eb2001']), ids('Encounter', 'open-start'));
      await expectIds(q('Encounter', ['date', '2010']), ids('Encounter', 'closed'));
      await expectIds(q('Encounter', ['date:missing', 'true']), ids('Encounter', 'no-period'));
    });
  });

  describe('number', () => {
    it('RiskAssessment probability in the examples (by reading)', async () => {
      await expectIds(q('RiskAssessment', ['probability', '0.02']), ids('RiskAssessment', 'cardiac'));
      // 0.0004 is [0.00035, 0.00045): genetic (0.000368) and riskexample (0.000368).
      await expectIds(q('RiskAssessment', ['probability', '0.0004']), ids('RiskAssessment', 'genetic', 'riskexample'));
      await expectIds(q('RiskAssessment', ['probability', 'lt0.0002']), ids('RiskAssessment', 'genetic'));
      await expectIds(q('RiskAssessment', ['probability:missing', 'true']), ids('RiskAssessment', 'breastcancer-risk', 'population', 'prognosis'));
    });

    it('precision of the search value decides eq (by reading)', async () => {
      // 0.2 is [0.15, 0.25); 0.20 is [0.195, 0.205); 0.25 is [0.245, 0.255); 1 is [0.5, 1.5).
      await expectIds(q('RiskAssessment', ['probability', '0.2']), ids('RiskAssessment', 'ra-0.2', 'ra-0.24', 'ra-0.249'));
      await expectIds(q('RiskAssessment', ['probability', '0.20']), ids('RiskAssessment', 'ra-0.2'));
      await expectIds(q('RiskAssessment', ['probability', '0.25']), ids('RiskAssessment', 'ra-0.249', 'ra-0.25'));
      await expectIds(q('RiskAssessment', ['probability', '1']), ids('RiskAssessment', 'ra-0.5', 'ra-1', 'ra-two'));
    });

    it.each(['eq', 'ne', 'gt', 'ge', 'lt', 'le', 'sa', 'eb'] as Exclude<Prefix, 'ap'>[])('probability prefix %s (oracle)', async (prefix) => {
      for (const value of ['0.25', '0.05', '0.5', '0.1']) {
        const expected = risks.filter((r) => (r.prediction ?? []).some((p) => p.probabilityDecimal !== undefined && numberMatches(prefix, p.probabilityDecimal, value)));
        await expectMatches(q('RiskAssessment', ['probability', `${prefix}${value}`]), expected);
      }
    });

    it('ap, OR and AND', async () => {
      const ap = await matchIds(http, q('RiskAssessment', ['probability', 'ap0.5']));
      expect(ap).toContain('RiskAssessment/ra-0.5');
      for (const far of ['ra-0.26', 'ra-1', 'ra-0.05', 'cardiac']) expect(ap).not.toContain(`RiskAssessment/${far}`);
      await expectIds(q('RiskAssessment', ['probability', '0.20,0.5']), ids('RiskAssessment', 'ra-0.2', 'ra-0.5'));
      // ra-two (0.1 and 0.9) meets each condition with a different prediction.
      await expectIds(q('RiskAssessment', ['probability', 'gt0.2'], ['probability', 'lt0.26']), ids('RiskAssessment', 'ra-0.24', 'ra-0.249', 'ra-0.25', 'ra-two'));
      // ra-two has 0.1 and 0.9: each ANDed condition may be met by a different prediction.
      await expectIds(q('RiskAssessment', ['probability', 'lt0.15'], ['probability', 'gt0.85']), ids('RiskAssessment', 'ra-two'));
    });
  });

  describe('quantity', () => {
    it('value, value with system and code, and with a unit as written (by reading)', async () => {
      await expectIds(q('Observation', ['value-quantity', `185|${UCUM}|[lb_av]`]), ids('Observation', 'example'));
      await expectIds(q('Observation', ['value-quantity', '185||[lb_av]']), ids('Observation', 'example'));
      await expectIds(q('Observation', ['value-quantity', '185||lbs']), ids('Observation', 'example'));
      await expectIds(q('Observation', ['value-quantity', `185|${UCUM}|kg`]), []);
      // 66.89999999999999 in the file is within 66.9's [66.85, 66.95).
      await expectIds(q('Observation', ['value-quantity', '66.9||[in_i]']), ids('Observation', 'body-height'));
      await expectIds(q('Observation', ['value-quantity', 'lt1']), ids('Observation', '1minute-apgar-score', 'bmd', 'herd1'));
    });

    it('component values, down to 1e-245 and up to 1e18 (Observation-decimal, by reading)', async () => {
      await expectIds(q('Observation', ['component-value-quantity', 'lt0.000001']), ids('Observation', 'decimal'));
      await expectIds(q('Observation', ['component-value-quantity', '1000000000000000000']), ids('Observation', 'decimal'));
      await expectIds(q('Observation', ['component-value-quantity', 'gt1e20']), []);
    });

    it.each(['eq', 'ne', 'gt', 'ge', 'lt', 'le', 'sa', 'eb'] as Exclude<Prefix, 'ap'>[])('value-quantity prefix %s with a UCUM code (oracle)', async (prefix) => {
      for (const value of ['10', '26', '0.2']) {
        const expected = observations.filter(
          (o) => o.valueQuantity?.value !== undefined && o.valueQuantity.system === UCUM && o.valueQuantity.code === '{score}' && numberMatches(prefix, o.valueQuantity.value, value),
        );
        await expectMatches(q('Observation', ['value-quantity', `${prefix}${value}|${UCUM}|{score}`]), expected, { empty: true });
      }
    });
  });

  describe('reference', () => {
    it('Type/id, id, :Type and absolute URL forms find the same (oracle)', async () => {
      const expected = observations.filter((o) => o.subject?.reference === 'Patient/example');
      for (const [name, value] of [
        ['subject', 'Patient/example'],
        ['patient', 'example'],
        ['subject:Patient', 'example'],
        ['subject', `${BASE}/Patient/example`],
      ]) {
        await expectMatches(q('Observation', [name, value]), expected);
      }
      await expectIds(q('Observation', ['subject:Group', 'herd1']), ids('Observation', 'herd1'));
      await expectIds(q('Patient', ['organization', 'Organization/1']), ids('Patient', 'ch-example', 'dicom', 'example', 'pat1', 'pat2', 'pat3', 'pat4'));
      await expectIds(q('Patient', ['organization', '1']), ids('Patient', 'ch-example', 'dicom', 'example', 'pat1', 'pat2', 'pat3', 'pat4'));
    });

    it('a contained reference (#newborn) is not a reference to Patient/newborn', async () => {
      await expectIds(q('Observation', ['subject', 'Patient/newborn']), []);
    });

    it(':missing on a reference: a subject that is a contained resource is still a subject', async () => {
      // The Apgar score examples have subject {reference: "#newborn"}: a reference, to a contained resource. decimal and
      // most made ones have no subject; vp-oyster's has only a display, which is no value to search (either answer
      // is defensible there, so it is left out of the comparison).
      const hasValue = (o: Observation) => !!(o.subject?.reference || o.subject?.identifier);
      const compared = (found: string[]) => found.filter((id) => id !== 'Observation/vp-oyster');
      const considered = observations.filter((o) => o.id !== 'vp-oyster');
      expect(compared(await matchIds(http, q('Observation', ['subject:missing', 'true'])))).toEqual(keys(considered.filter((o) => !hasValue(o))));
      expect(compared(await matchIds(http, q('Observation', ['subject:missing', 'false'])))).toEqual(keys(considered.filter(hasValue)));
    });

    it(':identifier matches Reference.identifier (by reading the made Observations)', async () => {
      await expectIds(q('Observation', ['subject:identifier', 'http://example.org/mrn|MRN-1']), ids('Observation', 'subject-by-identifier'));
      await expectIds(q('Observation', ['subject:identifier', 'http://example.org/mrn|MRN-2']), ids('Observation', 'subject-both'));
      await expectIds(q('Observation', ['subject:identifier', 'MRN-1']), ids('Observation', 'subject-by-identifier', 'subject-other-system'));
      await expectIds(q('Observation', ['subject:identifier', 'http://example.org/mrn|MRN-3']), []);
      await expectIds(q('Observation', ['subject:identifier', 'http://example.org/mrn|']), ids('Observation', 'subject-by-identifier', 'subject-both'));
      await expectIds(q('Observation', ['subject', 'Patient/muller-1']), ids('Observation', 'subject-both'));
    });

    it('a stored absolute reference with this server\'s base is the relative one; with another base it is not', async () => {
      await expectIds(q('Observation', ['subject', 'Patient/muller-2']), ids('Observation', 'subject-here-absolute'));
      await expectIds(q('Observation', ['subject', `${BASE}/Patient/muller-2`]), ids('Observation', 'subject-here-absolute'));
      await expectIds(q('Observation', ['subject', 'https://elsewhere.example.com/fhir/Patient/muller-3']), ids('Observation', 'subject-elsewhere'));
    });

    it('a stored reference to another server is not found by this server\'s Patient of the same id', async () => {
      await expectIds(q('Observation', ['subject', 'Patient/muller-3']), []);
      await expectIds(q('Observation', ['patient', 'muller-3']), []);
    });

    it(':identifier=|value means an identifier without a system, as in any token search', async () => {
      // Every made Reference.identifier has a system, so none is without one.
      await expectIds(q('Observation', ['subject:identifier', '|MRN-1']), []);
    });

    it('a canonical reference parameter matches by URL (CodeSystem supplements, by reading)', async () => {
      await expectIds(q('CodeSystem', ['supplements', 'http://hl7.org/fhir/CodeSystem/example']), ids('CodeSystem', 'example-supplement'));
    });
  });

  describe('uri', () => {
    it('exact, :below and :above (by reading)', async () => {
      await expectIds(q('ValueSet', ['url', 'http://hl7.org/fhir/ValueSet/example-extensional']), ids('ValueSet', 'example-extensional'));
      await expectIds(q('ValueSet', ['url', 'http://example.org/fhir/ValueSet/a']), ids('ValueSet', 'vs-a'));
      await expectIds(q('ValueSet', ['url', 'HTTP://EXAMPLE.ORG/fhir/ValueSet/a']), []);
      await expectIds(
        q('ValueSet', ['url:below', 'http://hl7.org/fhir/ValueSet/example-']),
        ids('ValueSet', 'example-expansion', 'example-extensional', 'example-filter', 'example-hierarchical', 'example-intensional'),
      );
      await expectIds(q('ValueSet', ['url:below', 'http://example.org/fhir/ValueSet/a']), ids('ValueSet', 'vs-a', 'vs-ab', 'vs-abc'));
      await expectIds(q('ValueSet', ['url:below', 'http://example.org/fhir/ValueSet/a/']), ids('ValueSet', 'vs-ab', 'vs-abc'));
      await expectIds(q('ValueSet', ['url:above', 'http://example.org/fhir/ValueSet/a/b']), ids('ValueSet', 'vs-a', 'vs-ab'));
      await expectIds(q('ValueSet', ['url:above', 'http://example.org/fhir/ValueSet/a/b/c/d']), ids('ValueSet', 'vs-a', 'vs-ab', 'vs-abc'));
      await expectIds(q('ValueSet', ['url:above', 'http://hl7.org/fhir/ValueSet/example-extensional/_history/2']), ids('ValueSet', 'example-extensional'));
      await expectIds(q('ValueSet', ['reference', 'http://loinc.org']), ids('ValueSet', 'example-expansion', 'example-extensional', 'example-intensional'));
      await expectIds(q('CodeSystem', ['system', 'http://hl7.org/fhir/examplescenario-actor-type']), ids('CodeSystem', 'examplescenario-actor-type'));
      await expectMatches(q('ValueSet', ['url:missing', 'false']), valueSets.filter((v) => v.url));
    });
  });

  describe('_id and _lastUpdated', () => {
    it('_id: one, several (OR), repeated (AND), :missing is never true', async () => {
      await expectIds(q('Patient', ['_id', 'example']), ids('Patient', 'example'));
      await expectIds(q('Patient', ['_id', 'example,pat1,muller-1,no-such-id']), ids('Patient', 'example', 'pat1', 'muller-1'));
      await expectIds(q('Patient', ['_id', 'example'], ['_id', 'pat1']), []);
      await expectIds(q('Observation', ['_id', 'pat1']), []);
    });

    it('_lastUpdated: a time between two writes separates them', async () => {
      const [a, b] = [Date.parse(lastUpdated.first), Date.parse(lastUpdated.second)];
      expect(b).toBeGreaterThan(a + 2);
      const between = new Date(Math.floor((a + b) / 2)).toISOString();
      await expectIds(q('Basic', ['_lastUpdated', `ge${between}`]), ids('Basic', 'second'));
      await expectIds(q('Basic', ['_lastUpdated', `gt${between}`]), ids('Basic', 'second'));
      await expectIds(q('Basic', ['_lastUpdated', `lt${between}`]), ids('Basic', 'first'));
      await expectIds(q('Basic', ['_lastUpdated', `le${lastUpdated.first}`]), ids('Basic', 'first'));
      await expectIds(q('Basic', ['_lastUpdated', lastUpdated.second]), ids('Basic', 'second'));
      await expectIds(q('Basic', ['_lastUpdated', `ge${lastUpdated.first}`], ['_lastUpdated', `le${lastUpdated.second}`]), ids('Basic', 'first', 'second'));
      await expectIds(q('Basic', ['_lastUpdated', `gt${lastUpdated.second}`]), []);
      // Everything loaded before the first Basic (the examples) is older than it.
      const older = await matchIds(http, q('Patient', ['_lastUpdated', `lt${lastUpdated.first}`]));
      expect(older).toEqual(keys(patients));
    });
  });

  describe('unknown and malformed parameters', () => {
    it('an unknown parameter is ignored and reported in an outcome entry; handling=strict makes it a 400', async () => {
      const bundle = await search(http, q('Patient', ['family', 'muller'], ['no-such-param', 'x']));
      expect(sorted(idsOf(bundle))).toEqual(ids('Patient', 'muller-1', 'muller-2', 'muller-3'));
      const outcomes = (bundle.entry ?? []).filter((e) => e.search?.mode === 'outcome');
      expect(outcomes).toHaveLength(1);
      const outcome = outcomes[0].resource as OperationOutcome;
      expect(outcome.resourceType).toBe('OperationOutcome');
      expect(JSON.stringify(outcome.issue)).toContain('no-such-param');
      expect(bundle.link?.find((l) => l.relation === 'self')?.url).not.toContain('no-such-param');

      const lenient = await search(http, q('Patient', ['family', 'muller'], ['no-such-param', 'x']), { prefer: 'handling=lenient' });
      expect(sorted(idsOf(lenient))).toEqual(ids('Patient', 'muller-1', 'muller-2', 'muller-3'));
      const strictKnown = await search(http, q('Patient', ['family', 'muller']), { prefer: 'return=representation, handling=strict' });
      expect(sorted(idsOf(strictKnown))).toEqual(ids('Patient', 'muller-1', 'muller-2', 'muller-3'));
      expect((strictKnown.entry ?? []).filter((e) => e.search?.mode === 'outcome')).toEqual([]);
      const strict = await request(http).get(q('Patient', ['family', 'muller'], ['no-such-param', 'x'])).set('prefer', 'handling=strict');
      expect(strict.status).toBe(400);
      expect(strict.body.resourceType).toBe('OperationOutcome');
      expect(JSON.stringify(strict.body)).toContain('no-such-param');
    });

    it.each([
      ['Patient', 'birthdate', '19xx'],
      ['Patient', 'birthdate', 'gt1974-13-01'],
      ['Patient', 'birthdate', '1974-02-30'],
      ['RiskAssessment', 'probability', 'abc'],
      ['RiskAssessment', 'probability', 'gt'],
      ['Observation', 'value-quantity', 'abc|http://unitsofmeasure.org|kg'],
      ['Observation', 'subject', 'NoSuchType/1'],
      ['Patient', 'gender:missing', 'maybe'],
      ['Patient', '_count', 'abc'],
      ['Patient', '_count', '-1'],
      ['Patient', '_total', 'sometimes'],
      ['Basic', '_lastUpdated', 'yesterday'],
    ])('%s?%s=%s is a 400 OperationOutcome naming the parameter', async (type, name, value) => {
      const res = await request(http).get(q(type, [name, value]));
      expect(res.status).toBe(400);
      expect(res.body.resourceType).toBe('OperationOutcome');
      const outcome = res.body as OperationOutcome;
      const named = outcome.issue.some((i) => i.expression?.includes(name) || i.diagnostics?.includes(name.split(':')[0]));
      expect(named).toBe(true);
    });

    it.each([
      ['Patient', 'name:foo', 'x'],
      ['Patient', 'birthdate:exact', '1974'],
      ['Patient', 'gender:contains', 'male'],
      ['RiskAssessment', 'probability:text', '0.2'],
      ['Patient', 'name:exact:contains', 'x'],
    ])('an unknown or misapplied modifier (%s?%s) is a 400', async (type, name, value) => {
      const res = await request(http).get(q(type, [name, value]));
      expect(res.status).toBe(400);
      expect(res.body.resourceType).toBe('OperationOutcome');
      expect(JSON.stringify(res.body)).toContain(name.split(':')[0]);
    });

    it('an empty value in a comma list is a 400; POST _search takes only a form body', async () => {
      expect((await request(http).get('/fhir/Patient?family=muller,')).status).toBe(400);
      const json = await request(http).post('/fhir/Patient/_search').set('content-type', 'application/json').send('{"family":"muller"}');
      expect(json.status).toBe(415);
      const form = await request(http).post('/fhir/Patient/_search').set('content-type', 'application/x-www-form-urlencoded').send('family=M%C3%BCller');
      expect(form.status).toBe(200);
      expect(sorted(idsOf(form.body as Bundle))).toEqual(ids('Patient', 'muller-1', 'muller-2', 'muller-3'));
    });

    it('system level without _type searches every type (by reading: the resources with id "example")', async () => {
      await expectIds(q('', ['_id', 'example']), ['CodeSystem/example', 'Observation/example', 'Patient/example', 'Practitioner/example']);
    });

    it('paging links keep non-ASCII values, and POST _search pages by GET links', async () => {
      const walk = async (first: Bundle) => {
        const found = [...idsOf(first)];
        let next = first.link?.find((l) => l.relation === 'next')?.url;
        while (next) {
          const page = await search(http, `/fhir${next.slice(BASE.length)}`);
          found.push(...idsOf(page));
          next = page.link?.find((l) => l.relation === 'next')?.url;
        }
        return found;
      };
      const byName = await walk(await search(http, q('Patient', ['family', 'Müller'], ['_count', '1'])));
      expect(byName).toHaveLength(3);
      expect(sorted(byName)).toEqual(ids('Patient', 'muller-1', 'muller-2', 'muller-3'));
      const posted = await request(http).post('/fhir/Observation/_search').set('content-type', 'application/x-www-form-urlencoded').send('code=http%3A%2F%2Floinc.org%7C&_count=5');
      expect(posted.status).toBe(200);
      const loinc = observations.filter((o) => o.code.coding?.some((c) => c.system === 'http://loinc.org'));
      const all = await walk(posted.body as Bundle);
      expect(new Set(all).size).toBe(all.length);
      expect(sorted(all)).toEqual(keys(loinc));
    });

    it('a search over no types at all: _type with an unknown type is a 400', async () => {
      const res = await request(http).get(q('', ['_type', 'Patient,NoSuchType'], ['name', 'muller']));
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body)).toContain('NoSuchType');
    });
  });
});
