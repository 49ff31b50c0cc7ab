// Expected rows are written from the example JSON and the R4 parameter definitions (see each comment), never
// copied from the extractor's output.
import type { MolecularSequence } from 'fhir/r4';
import { extractIndexRows } from '../../server/search/index/extract.js';
import { R4_REGISTRY } from '../../server/search/registry.js';
import type { IndexRows } from '../../server/search/types.js';
import { example, rowsOf, sortedRows } from '../support/search-examples.js';

const extract = (file: string): IndexRows => extractIndexRows(example(file), R4_REGISTRY);

function expectRows(rows: IndexRows, table: keyof IndexRows, param: string, expected: object[]): void {
  expect(sortedRows(rowsOf(rows, table, param))).toEqual(sortedRows(expected));
}

const UCUM = 'http://unitsofmeasure.org';
const LOINC = 'http://loinc.org';
const SCT = 'http://snomed.info/sct';
const day = (d: string) => ({ low: `${d}T00:00:00.000Z`, high: `${d}T23:59:59.999Z` });

describe('index rows of Patient-example (every row)', () => {
  const rows = extract('Patient-example.json');

  it('string: each name part and each address part separately, normalized and as written', () => {
    const s = (exact: string, normalized = exact.toLowerCase()) => ({ normalized, exact });
    const nameParts = [s('Chalmers'), s('Peter'), s('James'), s('Jim'), s('Windsor')];
    expectRows(rows, 'string', 'name', nameParts);
    expectRows(rows, 'string', 'phonetic', nameParts);
    expectRows(rows, 'string', 'family', [s('Chalmers'), s('Windsor')]);
    expectRows(rows, 'string', 'given', [s('Peter'), s('James'), s('Jim')]);
    // Patient.address only: the contact's address is not part of Patient.address.
    expectRows(rows, 'string', 'address', [
      s('534 Erewhon St'),
      s('PleasantVille'),
      s('Rainbow'),
      s('Vic'),
      s('3999'),
      s('534 Erewhon St PeasantVille, Rainbow, Vic  3999', '534 erewhon st peasantville, rainbow, vic 3999'),
    ]);
    expectRows(rows, 'string', 'address-city', [s('PleasantVille')]);
    expectRows(rows, 'string', 'address-state', [s('Vic')]);
    expectRows(rows, 'string', 'address-postalcode', [s('3999')]);
    const params = new Set(rows.string.map((r) => r.param));
    expect([...params].sort()).toEqual(
      ['address', 'address-city', 'address-postalcode', 'address-state', 'family', 'given', 'name', 'phonetic'].sort(),
    );
  });

  it('token: codes, booleans, the identifier with its type for :of-type, telecom values without system', () => {
    const phones = ['(03) 5555 6473', '(03) 3410 5613', '(03) 5555 8834'].map((code) => ({ system: null, code }));
    // _id is answered from the resource row's own id column: it gets no index rows.
    expectRows(rows, 'token', '_id', []);
    expectRows(rows, 'token', 'active', [{ system: null, code: 'true' }]);
    expectRows(rows, 'token', 'gender', [{ system: null, code: 'male' }]);
    expectRows(rows, 'token', 'address-use', [{ system: null, code: 'home' }]);
    // `Patient.deceased.exists() and Patient.deceased != false` on deceasedBoolean false.
    expectRows(rows, 'token', 'deceased', [{ system: null, code: 'false' }]);
    expectRows(rows, 'token', 'identifier', [
      { system: 'urn:oid:1.2.36.146.595.217.0.1', code: '12345', ofType: 'http://terminology.hl7.org/CodeSystem/v2-0203|MR' },
    ]);
    // The first telecom has only `use`: no value, nothing to index.
    expectRows(rows, 'token', 'phone', phones);
    expectRows(rows, 'token', 'telecom', phones);
    expect(rows.token).toHaveLength(1 + 1 + 1 + 1 + 1 + 3 + 3);
  });

  it('date, reference and nothing else', () => {
    expect(rows.date).toEqual([{ param: 'birthdate', ...day('1974-12-25') }]);
    expect(rows.reference).toEqual([{ param: 'organization', targetType: 'Organization', targetId: '1', url: null }]);
    expect([rows.number, rows.quantity, rows.uri, rows.composite]).toEqual([[], [], [], []]);
  });
});

describe('index rows of other official examples', () => {
  it('Patient-f201: a repeated identifier is one row; type.text is the :text; all name parts are strings', () => {
    const rows = extract('Patient-f201.json');
    expectRows(rows, 'token', 'identifier', [
      { system: 'urn:oid:2.16.840.1.113883.2.4.6.3', code: '123456789', text: 'bsn' },
    ]);
    expectRows(rows, 'string', 'name', [
      { normalized: 'roel', exact: 'Roel' },
      { normalized: 'bor', exact: 'Bor' },
      { normalized: 'roelof olaf', exact: 'Roelof Olaf' },
      { normalized: 'drs.', exact: 'Drs.' },
      { normalized: 'pdeng.', exact: 'PDEng.' },
    ]);
    expectRows(rows, 'token', 'language', [{ system: 'urn:ietf:bcp:47', code: 'nl-NL', text: 'dutch' }]);
    expectRows(rows, 'string', 'address-country', [{ normalized: 'nld', exact: 'NLD' }]);
  });

  it('Patient-pat3: deceasedDateTime makes deceased true and gives death-date, converted to UTC', () => {
    const rows = extract('Patient-pat3.json');
    expectRows(rows, 'token', 'deceased', [{ system: null, code: 'true' }]);
    // 2015-02-14T13:42:00+10:00, precise to the second.
    expectRows(rows, 'date', 'death-date', [{ low: '2015-02-14T03:42:00.000Z', high: '2015-02-14T03:42:00.999Z' }]);
  });

  it('Patient-glossy: _lastUpdated is answered from the resource row, not from index rows', () => {
    const rows = extract('Patient-glossy.json');
    expectRows(rows, 'date', '_lastUpdated', []);
    expectRows(rows, 'reference', 'general-practitioner', [{ targetType: 'Practitioner', targetId: 'example', url: null }]);
  });

  it('Observation-example: a Quantity with its precision range, code/value pairs, a CodeableConcept per coding', () => {
    const rows = extract('Observation-example.json');
    const weight = { value: '185', low: '184.5', high: '185.5', system: UCUM, code: '[lb_av]', unit: 'lbs' };
    const codes = [
      { system: LOINC, code: '29463-7', text: 'body weight' },
      { system: LOINC, code: '3141-9', text: 'body weight measured' },
      { system: SCT, code: '27113001', text: 'body weight' },
      { system: 'http://acme.org/devices/clinical-codes', code: 'body-weight', text: 'body weight' },
    ];
    expectRows(rows, 'quantity', 'value-quantity', [weight]);
    expectRows(rows, 'quantity', 'combo-value-quantity', [weight]);
    expectRows(rows, 'quantity', 'component-value-quantity', []);
    expectRows(rows, 'token', 'code', codes);
    expectRows(rows, 'token', 'category', [
      { system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs', text: 'vital signs' },
    ]);
    const pairs = codes.map((c) => ({ components: [{ type: 'token', ...c }, { type: 'quantity', ...weight }] }));
    expectRows(rows, 'composite', 'code-value-quantity', pairs);
    expectRows(rows, 'composite', 'combo-code-value-quantity', pairs);
    expectRows(rows, 'composite', 'code-value-concept', []);
    expectRows(rows, 'date', 'date', [day('2016-03-28')]);
    expectRows(rows, 'reference', 'patient', [{ targetType: 'Patient', targetId: 'example', url: null }]);
    expectRows(rows, 'reference', 'encounter', [{ targetType: 'Encounter', targetId: 'example', url: null }]);
  });

  it('Observation-blood-pressure: composites pair a component code only with the same component value', () => {
    const rows = extract('Observation-blood-pressure.json');
    const mmHg = (value: number) => ({
      type: 'quantity',
      value: String(value),
      low: `${value - 1}.5`,
      high: `${value}.5`,
      system: UCUM,
      code: 'mm[Hg]',
      unit: 'mmHg',
    });
    const systolic = [
      { type: 'token', system: LOINC, code: '8480-6', text: 'systolic blood pressure' },
      { type: 'token', system: SCT, code: '271649006', text: 'systolic blood pressure' },
      { type: 'token', system: 'http://acme.org/devices/clinical-codes', code: 'bp-s', text: 'systolic blood pressure' },
    ];
    const diastolic = { type: 'token', system: LOINC, code: '8462-4', text: 'diastolic blood pressure' };
    const expected = [
      ...systolic.map((code) => ({ components: [code, mmHg(107)] })),
      { components: [diastolic, mmHg(60)] },
    ];
    expectRows(rows, 'composite', 'component-code-value-quantity', expected);
    // The Observation itself has no value, so the combo adds nothing to the components' pairs.
    expectRows(rows, 'composite', 'combo-code-value-quantity', expected);
    expectRows(rows, 'composite', 'code-value-quantity', []);
    const { type: _q1, ...q107 } = mmHg(107);
    const { type: _q2, ...q60 } = mmHg(60);
    expectRows(rows, 'quantity', 'component-value-quantity', [q107, q60]);
    expectRows(rows, 'token', 'code', [
      { system: LOINC, code: '85354-9', text: 'blood pressure panel with all children optional' },
      { system: null, code: null, text: 'blood pressure systolic & diastolic' },
    ]);
    // basedOn names its request only by identifier.
    expectRows(rows, 'reference', 'based-on', [
      { targetType: null, targetId: null, url: null, identifierSystem: 'https://acme.org/identifiers', identifierValue: '1234' },
    ]);
    expectRows(rows, 'uri', '_profile', [{ value: 'http://hl7.org/fhir/StructureDefinition/vitalsigns' }]);
    expectRows(rows, 'token', 'identifier', [
      { system: 'urn:ietf:rfc:3986', code: 'urn:uuid:187e0c12-8dd2-67e2-99b2-bf273c878281' },
    ]);
  });

  it('CarePlan-example: open-ended Period, contained references as written, display-only references skipped, text-only concept', () => {
    const rows = extract('CarePlan-example.json');
    expectRows(rows, 'date', 'date', [{ low: null, high: '2017-06-01T23:59:59.999Z' }]);
    // scheduledTiming has only a repeat rule: no dates.
    expectRows(rows, 'date', 'activity-date', []);
    // addresses → "#p1" (contained): indexed as written, so `condition:missing` is false; no type or id.
    expectRows(rows, 'reference', 'condition', [{ targetType: null, targetId: null, url: '#p1' }]);
    // basedOn, replaces, partOf carry only a display.
    for (const param of ['based-on', 'replaces', 'part-of']) expectRows(rows, 'reference', param, []);
    const patient = { targetType: 'Patient', targetId: 'example', url: null };
    expectRows(rows, 'reference', 'patient', [patient]);
    expectRows(rows, 'reference', 'subject', [patient]);
    expectRows(rows, 'reference', 'performer', [patient]);
    expectRows(rows, 'reference', 'encounter', [{ targetType: 'Encounter', targetId: 'home', url: null }]);
    expectRows(rows, 'reference', 'care-team', [{ targetType: 'CareTeam', targetId: 'example', url: null }]);
    expectRows(rows, 'reference', 'goal', [{ targetType: 'Goal', targetId: 'example', url: null }]);
    expectRows(rows, 'uri', 'instantiates-uri', [{ value: 'http://example.org/protocol-for-obesity' }]);
    expectRows(rows, 'token', 'identifier', [{ system: null, code: '12345' }]);
    expectRows(rows, 'token', 'category', [{ system: null, code: null, text: 'weight management plan' }]);
    expectRows(rows, 'token', 'activity-code', [
      { system: LOINC, code: '3141-9', text: 'weight measured' },
      { system: SCT, code: '27113001', text: 'body weight' },
    ]);
    expectRows(rows, 'token', 'status', [{ system: null, code: 'active' }]);
    expectRows(rows, 'token', 'intent', [{ system: null, code: 'plan' }]);
  });

  it('CarePlan-preg: a Timing with a boundsPeriod covers the bounds', () => {
    const rows = extract('CarePlan-preg.json');
    expectRows(rows, 'date', 'activity-date', [
      { low: '2013-02-14T00:00:00.000Z', high: '2013-02-28T23:59:59.999Z' },
      { low: '2013-03-01T00:00:00.000Z', high: '2013-03-14T23:59:59.999Z' },
      { low: '2013-09-01T00:00:00.000Z', high: '2013-09-14T23:59:59.999Z' },
    ]);
  });

  it('AuditEvent-example-rest: resolve() is Patient keeps only references that name a Patient; _history gives the version', () => {
    const rows = extract('AuditEvent-example-rest.json');
    const versioned = { targetType: 'Patient', targetId: 'example', targetVersion: '1', url: null };
    // agent.who are identifier-only references without a type: they cannot be known to be Patients.
    expectRows(rows, 'reference', 'patient', [versioned]);
    expectRows(rows, 'reference', 'entity', [versioned]);
    expectRows(rows, 'reference', 'agent', [
      { targetType: null, targetId: null, url: null, identifierSystem: null, identifierValue: '95' },
      {
        targetType: null,
        targetId: null,
        url: null,
        identifierSystem: 'urn:oid:2.16.840.1.113883.4.2',
        identifierValue: '2.16.840.1.113883.4.2',
      },
    ]);
    expectRows(rows, 'date', 'date', [{ low: '2013-06-20T23:42:24.000Z', high: '2013-06-20T23:42:24.999Z' }]);
    expectRows(rows, 'token', 'altid', [
      { system: null, code: '601847123' },
      { system: null, code: '6580' },
    ]);
    expectRows(rows, 'token', 'subtype', [{ system: 'http://hl7.org/fhir/restful-interaction', code: 'vread', text: 'vread' }]);
  });

  it('OrganizationAffiliation-orgrole1: absolute references keep only the URL (their tail names another server\'s resource)', () => {
    const rows = extract('OrganizationAffiliation-orgrole1.json');
    const vhdir = 'http://hl7.org/fhir/ig/vhdir';
    expectRows(rows, 'reference', 'primary-organization', [{ targetType: null, targetId: null, url: `${vhdir}/Organization/foundingfathers` }]);
    expectRows(rows, 'reference', 'network', [{ targetType: null, targetId: null, url: `${vhdir}/Network/patriotppo` }]);
    expectRows(rows, 'reference', 'service', [
      { targetType: null, targetId: null, url: `${vhdir}/HealthcareService/independencerehab1` },
      { targetType: null, targetId: null, url: `${vhdir}/HealthcareService/independencerehab2` },
    ]);
    expectRows(rows, 'date', 'date', [{ low: '2018-02-09T00:00:00.000Z', high: '2022-02-01T23:59:59.999Z' }]);
    expectRows(rows, 'token', 'role', [
      { system: 'http://hl7.org/fhir/organization-role', code: 'provider', text: 'provider' },
      { system: null, code: null, text: 'provider of rehabilitation services' },
    ]);
    expectRows(rows, 'token', 'phone', [{ system: null, code: '202-109-8765' }]);
    expectRows(rows, 'token', 'email', []);
  });

  it('Invoice-example: Money is a quantity in ISO 4217; an identifier-only reference', () => {
    const rows = extract('Invoice-example.json');
    const iso = 'urn:iso:std:iso:4217';
    expectRows(rows, 'quantity', 'totalgross', [{ value: '48', low: '47.5', high: '48.5', system: iso, code: 'EUR', unit: null }]);
    expectRows(rows, 'quantity', 'totalnet', [{ value: '40', low: '39.5', high: '40.5', system: iso, code: 'EUR', unit: null }]);
    expectRows(rows, 'reference', 'issuer', [
      {
        targetType: null,
        targetId: null,
        url: null,
        identifierSystem: 'http://myhospital/NamingSystem/departments',
        identifierValue: 'CARD_INTERMEDIATE_CARE',
      },
    ]);
    // 2017-01-25T08:00:00+01:00
    expectRows(rows, 'date', 'date', [{ low: '2017-01-25T07:00:00.000Z', high: '2017-01-25T07:00:00.999Z' }]);
  });

  it('Condition-f202: Age quantities from onset/abatement, _security as a token', () => {
    const rows = extract('Condition-f202.json');
    const years = (value: number) => ({
      value: String(value),
      low: `${value - 1}.5`,
      high: `${value}.5`,
      system: UCUM,
      code: 'a',
      unit: 'years',
    });
    expectRows(rows, 'quantity', 'onset-age', [years(52)]);
    expectRows(rows, 'quantity', 'abatement-age', [years(54)]);
    expectRows(rows, 'date', 'onset-date', []);
    expectRows(rows, 'token', '_security', [
      { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'TBOO', text: 'taboo' },
    ]);
    expectRows(rows, 'reference', 'evidence-detail', [{ targetType: 'DiagnosticReport', targetId: 'f201', url: null }]);
  });

  it('RiskAssessment-cardiac: a decimal number with its precision range', () => {
    const rows = extract('RiskAssessment-cardiac.json');
    expect(rows.number).toEqual([{ param: 'probability', value: '0.02', low: '0.015', high: '0.025' }]);
    expectRows(rows, 'date', 'date', [{ low: '2014-07-19T16:04:00.000Z', high: '2014-07-19T16:04:00.999Z' }]);
    expectRows(rows, 'reference', 'performer', []);
  });

  it('ActivityDefinition zika exposure: a half-open Range, its composite with the context type, canonicals as URLs', () => {
    const rows = extract('ActivityDefinition-administer-zika-virus-exposure-assessment.json');
    // useContext: code {usage-context-type|age}, valueRange {low: {value: 12, unit: "a"}}
    const age = { system: 'http://terminology.hl7.org/CodeSystem/usage-context-type', code: 'age' };
    const atLeast12 = { value: '12', low: '11.5', high: 'Infinity', system: null, code: null, unit: 'a' };
    expectRows(rows, 'token', 'context-type', [age]);
    expectRows(rows, 'quantity', 'context-quantity', [atLeast12]);
    expectRows(rows, 'composite', 'context-type-quantity', [
      { components: [{ type: 'token', ...age }, { type: 'quantity', ...atLeast12 }] },
    ]);
    expectRows(rows, 'composite', 'context-type-value', []);
    expectRows(rows, 'reference', 'depends-on', [
      { targetType: null, targetId: null, url: 'Questionnaire/zika-virus-exposure-assessment' },
      { targetType: null, targetId: null, url: 'Library/zika-virus-intervention-logic' },
    ]);
    // The derived-from artifact has a url but no `resource`.
    expectRows(rows, 'reference', 'derived-from', []);
    expectRows(rows, 'uri', 'url', [
      { value: 'http://example.org/ActivityDefinition/administer-zika-virus-exposure-assessment' },
    ]);
  });

  it('MolecularSequence-coord-0-base: integers as numbers; composites read %resource', () => {
    const rows = extract('MolecularSequence-coord-0-base.json');
    const n = (value: number) => ({ value: String(value), low: String(value - 0.5), high: String(value + 0.5) });
    expectRows(rows, 'number', 'variant-start', [n(2), n(4), n(6)]);
    expectRows(rows, 'number', 'variant-end', [n(2), n(5), n(7)]);
    expectRows(rows, 'number', 'window-start', [{ value: '0', low: '-0.5', high: '0.5' }]);
    // No example has both a chromosome and variants: give this one a chromosome.
    const sequence = example('MolecularSequence-coord-0-base.json') as MolecularSequence;
    const chromosome = { system: 'http://terminology.hl7.org/CodeSystem/chromosome-human', code: '1' };
    sequence.referenceSeq = { ...sequence.referenceSeq, chromosome: { coding: [chromosome] } };
    const withChromosome = extractIndexRows(sequence, R4_REGISTRY);
    const number = (value: number) => ({ type: 'number', ...n(value) });
    const token = { type: 'token', ...chromosome };
    expectRows(withChromosome, 'composite', 'chromosome-variant-coordinate', [
      { components: [token, number(2), number(2)] },
      { components: [token, number(4), number(5)] },
      { components: [token, number(6), number(7)] },
    ]);
    expectRows(withChromosome, 'composite', 'chromosome-window-coordinate', [
      { components: [token, { type: 'number', value: '0', low: '-0.5', high: '0.5' }, number(8)] },
    ]);
  });

  it('a urn:uuid reference is kept as its URL; the subject with it cannot be known to be a Patient', () => {
    const observation = example('Observation-example.json');
    const urn = 'urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a';
    Object.assign(observation, { subject: { reference: urn } });
    const rows = extractIndexRows(observation, R4_REGISTRY);
    expectRows(rows, 'reference', 'subject', [{ targetType: null, targetId: null, url: urn }]);
    expectRows(rows, 'reference', 'patient', []);
  });
});
