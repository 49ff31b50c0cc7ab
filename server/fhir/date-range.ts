/** The span of time a FHIR date, dateTime or instant covers at its precision: `2024` is all of 2024. */
export interface DateRange {
  start: Date;
  /** Inclusive: the last millisecond of the span. */
  end: Date;
}

const DATE_TIME =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

/**
 * Parses a FHIR date/dateTime/instant. A value with a time of day but no zone is read as UTC (the
 * specification leaves the zone to the server). Returns undefined for anything else.
 */
export function parseDateRange(value: string): DateRange | undefined {
  const m = DATE_TIME.exec(value.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  if (h !== undefined && mi === undefined) return undefined;
  const year = Number(y);
  const month = mo ? Number(mo) - 1 : 0;
  const day = d ? Number(d) : 1;
  if (month > 11 || day < 1 || day > daysIn(year, month)) return undefined;

  if (h === undefined) {
    const start = utc(year, month, day);
    const end = d ? utc(year, month, day + 1) : mo ? utc(year, month + 1, 1) : utc(year + 1, 0, 1);
    return { start, end: new Date(end.getTime() - 1) };
  }
  const hour = Number(h);
  const minute = Number(mi);
  const second = s ? Number(s) : 0;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const offset = zone && zone !== 'Z' ? zoneMinutes(zone) : 0;
  const millis = frac ? Number(frac.slice(0, 3).padEnd(3, '0')) : 0;
  const start = utc(year, month, day, hour, minute - offset, second, millis);
  // The precision given decides the span: minutes → a minute, seconds → a second, fractions → a millisecond.
  const span = frac ? 1 : s ? 1000 : 60_000;
  return { start, end: new Date(start.getTime() + span - 1) };
}

/** An instant requires a time zone and at least seconds (`_since` takes an instant). */
export function isInstant(value: string): boolean {
  return /T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(value) && parseDateRange(value) !== undefined;
}

/** Date.UTC reads years 0–99 as 1900–1999; FHIR's years 0001–0099 are years like any other. */
function utc(year: number, month: number, day: number, hour = 0, minute = 0, second = 0, millis = 0): Date {
  const date = new Date(0);
  date.setUTCFullYear(year, month, day);
  date.setUTCHours(hour, minute, second, millis);
  return date;
}

function daysIn(year: number, month: number): number {
  return utc(year, month + 1, 0).getUTCDate();
}

function zoneMinutes(zone: string): number {
  const sign = zone.startsWith('-') ? -1 : 1;
  const [hours, minutes] = zone.slice(1).split(':').map(Number);
  return sign * (hours * 60 + minutes);
}
