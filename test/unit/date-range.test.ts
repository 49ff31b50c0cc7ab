import { isInstant, parseDateRange } from '../../server/fhir/date-range.js';

const range = (value: string) => {
  const r = parseDateRange(value);
  return r && [r.start.toISOString(), r.end.toISOString()];
};

describe('FHIR date precision as a span of time', () => {
  it('a year, a month and a day cover all of it (leap years included)', () => {
    expect(range('2024')).toEqual(['2024-01-01T00:00:00.000Z', '2024-12-31T23:59:59.999Z']);
    expect(range('2024-02')).toEqual(['2024-02-01T00:00:00.000Z', '2024-02-29T23:59:59.999Z']);
    expect(range('2023-02-28')).toEqual(['2023-02-28T00:00:00.000Z', '2023-02-28T23:59:59.999Z']);
  });

  it('times with zones are converted to UTC; seconds and fractions narrow the span', () => {
    expect(range('2024-03-10T10:30:00+02:00')).toEqual(['2024-03-10T08:30:00.000Z', '2024-03-10T08:30:00.999Z']);
    expect(range('2024-03-10T10:30Z')).toEqual(['2024-03-10T10:30:00.000Z', '2024-03-10T10:30:59.999Z']);
    expect(range('2024-03-10T10:30:00.25Z')).toEqual(['2024-03-10T10:30:00.250Z', '2024-03-10T10:30:00.250Z']);
  });

  it('years before 100 are those years, not 19xx (and year 4 is a leap year)', () => {
    expect(range('0050')).toEqual(['0050-01-01T00:00:00.000Z', '0050-12-31T23:59:59.999Z']);
    expect(range('0004-02')).toEqual(['0004-02-01T00:00:00.000Z', '0004-02-29T23:59:59.999Z']);
    expect(range('0099-12-31T23:00Z')).toEqual(['0099-12-31T23:00:00.000Z', '0099-12-31T23:00:59.999Z']);
  });

  it('rejects impossible dates and other text', () => {
    for (const bad of ['2023-02-29', '2024-13', '2024-01-01T25:00:00Z', 'today', '2024-1-1', '']) {
      expect(parseDateRange(bad)).toBeUndefined();
    }
  });

  it('an instant needs seconds and a zone', () => {
    expect(isInstant('2024-01-01T00:00:00Z')).toBe(true);
    expect(isInstant('2024-01-01T00:00:00.123+05:30')).toBe(true);
    expect(isInstant('2024-01-01T00:00:00')).toBe(false);
    expect(isInstant('2024-01-01')).toBe(false);
  });
});
