import type { Period, Timing } from 'fhir/r4';
import { parseDateRange } from '../../fhir/date-range.js';
import { isRecord, type Converter, type DateValue } from './values.js';

const DATE_PRIMITIVES = new Set(['date', 'dateTime', 'instant']);

/**
 * date parameters: every value is the span it covers at its precision (`2024` is all of 2024; a time without a
 * zone is read as UTC), as ISO instants whose high end is inclusive (the span's last millisecond).
 */
export const toDates: Converter<DateValue> = (value) => {
  if (DATE_PRIMITIVES.has(value.type)) return typeof value.data === 'string' ? fromDate(value.data) : [];
  if (!isRecord(value.data)) return undefined;
  if (value.type === 'Period') return fromPeriod(value.data as Period);
  if (value.type === 'Timing') return fromTiming(value.data as Timing);
  return undefined;
};

function fromDate(text: string): DateValue[] {
  const range = parseDateRange(text);
  return range ? [{ low: range.start.toISOString(), high: range.end.toISOString() }] : [];
}

/** A missing start or end leaves that side open (null); a bound that is no date drops the period. */
function fromPeriod(period: Period): DateValue[] {
  const start = period.start === undefined ? null : parseDateRange(period.start);
  const end = period.end === undefined ? null : parseDateRange(period.end);
  if (start === undefined || end === undefined || (start === null && end === null)) return [];
  return [{ low: start?.start.toISOString() ?? null, high: end?.end.toISOString() ?? null }];
}

/**
 * R4 search: for a Timing only the outer limits matter, so one span from the earliest event (or bounds start) to
 * the latest event (or bounds end). A boundsPeriod without an end leaves the schedule open-ended; a Timing with
 * neither events nor a boundsPeriod (a bare `repeat`, or bounds given as a Duration or Range) says no dates.
 */
function fromTiming(timing: Timing): DateValue[] {
  const spans = [...(timing.event ?? []).flatMap((e) => (typeof e === 'string' ? fromDate(e) : []))];
  const bounds = timing.repeat?.boundsPeriod;
  if (bounds) spans.push(...fromPeriod(bounds));
  if (spans.length === 0) return [];
  const lows = spans.map((s) => s.low);
  const highs = spans.map((s) => s.high);
  return [{ low: lows.includes(null) ? null : minIso(lows as string[]), high: highs.includes(null) ? null : maxIso(highs as string[]) }];
}

// ISO instants from toISOString() share one format, so string order is time order.
function minIso(values: string[]): string {
  return values.reduce((a, b) => (b < a ? b : a));
}

function maxIso(values: string[]): string {
  return values.reduce((a, b) => (b > a ? b : a));
}
