import { toDates } from '../../server/search/index/date.js';
import { decimalRange } from '../../server/search/index/decimal.js';
import { normalizeText } from '../../server/search/index/normalize.js';
import { toQuantities } from '../../server/search/index/quantity.js';
import { parseLiteral, toReferences } from '../../server/search/index/reference.js';
import { toStrings } from '../../server/search/index/string.js';
import { toTokens } from '../../server/search/index/token.js';
import type { FhirValue } from '../../server/search/index/values.js';

const value = (type: string, data: unknown): FhirValue => ({ type, data, node: data });

describe('string normalization', () => {
  it('ignores case and accents and collapses whitespace (R4 search, string)', () => {
    expect(normalizeText('Bénédicte')).toBe('benedicte');
    expect(normalizeText('du Marché')).toBe('du marche');
    expect(normalizeText('  ÅNGSTRÖM\t Zoë \n')).toBe('angstrom zoe');
    expect(normalizeText('Vic  3999')).toBe('vic 3999');
  });
});

describe('number precision (R4 search, number)', () => {
  it('a value covers half a unit of its last significant digit either side', () => {
    expect(decimalRange('100')).toEqual({ value: '100', low: '99.5', high: '100.5' });
    expect(decimalRange('100.00')).toEqual({ value: '100.00', low: '99.995', high: '100.005' });
    expect(decimalRange('0.02')).toEqual({ value: '0.02', low: '0.015', high: '0.025' });
    expect(decimalRange('-1.5')).toEqual({ value: '-1.5', low: '-1.55', high: '-1.45' });
    expect(decimalRange('0')).toEqual({ value: '0', low: '-0.5', high: '0.5' });
  });

  it('an exponent sets the precision: 1e2 has one significant figure', () => {
    expect(decimalRange('1e2')).toEqual({ value: '100', low: '50', high: '150' });
    expect(decimalRange('1.5e-7')).toEqual({ value: '0.00000015', low: '0.000000145', high: '0.000000155' });
  });

  it('rejects what is not a decimal', () => {
    for (const bad of ['', 'abc', '1.', '.5', '1e', 'NaN']) expect(decimalRange(bad)).toBeUndefined();
  });
});

describe('date values', () => {
  it('a Timing spans from its first event to the end of its last', () => {
    const timing = { event: ['2024-03-05T10:00:00Z', '2024-03-01', '2024-03-10T08:30Z'] };
    expect(toDates(value('Timing', timing))).toEqual([
      { low: '2024-03-01T00:00:00.000Z', high: '2024-03-10T08:30:59.999Z' },
    ]);
  });

  it('a Timing bounded by an open-ended period is open-ended; one with only a repeat rule has no dates', () => {
    const bounded = { repeat: { boundsPeriod: { start: '2024-01' }, frequency: 1, period: 1, periodUnit: 'd' } };
    expect(toDates(value('Timing', bounded))).toEqual([{ low: '2024-01-01T00:00:00.000Z', high: null }]);
    expect(toDates(value('Timing', { repeat: { frequency: 2, period: 1, periodUnit: 'd' } }))).toEqual([]);
  });

  it('a Period without start is open below; a date without zone is read as UTC', () => {
    expect(toDates(value('Period', { end: '2017-06-01' }))).toEqual([{ low: null, high: '2017-06-01T23:59:59.999Z' }]);
    expect(toDates(value('dateTime', '2015-02-07T13:28:17'))).toEqual([
      { low: '2015-02-07T13:28:17.000Z', high: '2015-02-07T13:28:17.999Z' },
    ]);
  });

  it('a date parameter cannot index a string (CarePlan.activity.detail.scheduledString)', () => {
    expect(toDates(value('string', 'every morning'))).toBeUndefined();
    expect(toDates(value('dateTime', 'not a date'))).toEqual([]);
  });
});

describe('reference literals', () => {
  it('reads relative, versioned and absolute references; keeps URNs and unknown types as URLs', () => {
    expect(parseLiteral('Patient/123')).toEqual({ targetType: 'Patient', targetId: '123', url: null });
    expect(parseLiteral('Patient/123/_history/2')).toEqual({
      targetType: 'Patient',
      targetId: '123',
      targetVersion: '2',
      url: null,
    });
    expect(parseLiteral('https://other.example/fhir/Observation/o1')).toEqual({
      targetType: 'Observation',
      targetId: 'o1',
      url: 'https://other.example/fhir/Observation/o1',
    });
    const urn = 'urn:uuid:04121321-4af5-424c-a0e1-ed3aab1c349d';
    expect(parseLiteral(urn)).toEqual({ targetType: null, targetId: null, url: urn });
    expect(parseLiteral('#p1')).toBeUndefined();
  });

  it('a Reference with only a display says nothing searchable; one with an identifier is indexed by it', () => {
    expect(toReferences(value('Reference', { display: 'Dr Adam Careful' }))).toEqual([]);
    expect(toReferences(value('Reference', { type: 'Patient', identifier: { system: 'urn:s', value: 'v' } }))).toEqual([
      { targetType: null, targetId: null, url: null, identifierSystem: 'urn:s', identifierValue: 'v' },
    ]);
  });
});

describe('token, string and quantity conversions the examples do not reach', () => {
  it('a ContactPoint is its value without a system; a Coding without code still carries its display', () => {
    expect(toTokens(value('ContactPoint', { system: 'email', value: 'a@b.example', use: 'work' }))).toEqual([
      { system: null, code: 'a@b.example' },
    ]);
    expect(toTokens(value('Coding', { system: 'http://s', display: 'Héllo' }))).toEqual([
      { system: 'http://s', code: null, text: 'hello' },
    ]);
  });

  it('an Identifier with several type codings gives one value per coding for :of-type', () => {
    const identifier = {
      type: { coding: [{ system: 'http://t', code: 'MR' }, { system: 'http://u', code: 'PI', display: 'Patient internal' }] },
      system: 'urn:s',
      value: '7',
    };
    expect(toTokens(value('Identifier', identifier))).toEqual([
      { system: 'urn:s', code: '7', ofType: 'http://t|MR' },
      { system: 'urn:s', code: '7', text: 'patient internal', ofType: 'http://u|PI' },
    ]);
  });

  it('a name given only as an extension (given: [null]) has no string for that part', () => {
    expect(toStrings(value('HumanName', { given: [null, 'Ann'], _given: [{ extension: [] }, null] }))).toEqual([
      { normalized: 'ann', exact: 'Ann' },
    ]);
  });

  it('a closed Range covers from its low to its high at their precision', () => {
    const range = { low: { value: 1.5, unit: 'mg', system: 'http://unitsofmeasure.org', code: 'mg' }, high: { value: 3, unit: 'mg' } };
    expect(toQuantities(value('Range', range))).toEqual([
      { value: '1.5', low: '1.45', high: '3.5', system: 'http://unitsofmeasure.org', code: 'mg', unit: 'mg' },
    ]);
  });
});
