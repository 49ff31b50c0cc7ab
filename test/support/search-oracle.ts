import type { Server } from 'node:http';
import type { Bundle, Period, Resource } from 'fhir/r4';
import request from 'supertest';

/**
 * The search suites' oracle: FHIR R4 search semantics written down from the specification, in plain JS over the
 * JSON the tests wrote, sharing no code with the server. Each suite states its expectations with these, never
 * with anything the server returned.
 */

/** The base URL the test servers are configured with (so links and absolute references are predictable). */
export const BASE = 'https://fhir.example.org/fhir';

// ---------------------------------------------------------------------------------------------------------------
// strings: case- and accent-insensitive; the default matches a prefix, :contains anywhere, :exact all of it as is.

export function fold(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase();
}

export function startsWithFolded(value: string | undefined, query: string): boolean {
  return value !== undefined && fold(value).startsWith(fold(query));
}

export function containsFolded(value: string | undefined, query: string): boolean {
  return value !== undefined && fold(value).includes(fold(query));
}

// ---------------------------------------------------------------------------------------------------------------
// dates: every value is the span of time its precision covers, [lo, hi) in epoch milliseconds. A value with a time
// but no zone is read as UTC (the server's documented choice, which the specification leaves to servers).

export interface Span {
  lo: number;
  hi: number;
}

const FHIR_DATE = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

export function span(value: string): Span {
  const m = FHIR_DATE.exec(value);
  if (!m) throw new Error(`oracle: not a FHIR date: ${value}`);
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const year = +y;
  if (mo === undefined) return { lo: Date.UTC(year, 0, 1), hi: Date.UTC(year + 1, 0, 1) };
  if (d === undefined) return { lo: Date.UTC(year, +mo - 1, 1), hi: Date.UTC(year, +mo, 1) };
  if (h === undefined) return { lo: Date.UTC(year, +mo - 1, +d), hi: Date.UTC(year, +mo - 1, +d + 1) };
  let offsetMinutes = 0;
  if (zone && zone !== 'Z') offsetMinutes = (zone[0] === '-' ? -1 : 1) * (+zone.slice(1, 3) * 60 + +zone.slice(4, 6));
  const lo = Date.UTC(year, +mo - 1, +d, +h, +mi, s === undefined ? 0 : +s, frac === undefined ? 0 : +frac.slice(0, 3).padEnd(3, '0')) - offsetMinutes * 60_000;
  const width = frac !== undefined ? 1 : s !== undefined ? 1000 : 60_000;
  return { lo, hi: lo + width };
}

/** A Period covers start to end; a missing bound is open (R4 search: a Period without end is ongoing). */
export function periodSpan(period: Period): Span {
  return {
    lo: period.start ? span(period.start).lo : -Infinity,
    hi: period.end ? span(period.end).hi : Infinity,
  };
}

export type Prefix = 'eq' | 'ne' | 'gt' | 'lt' | 'ge' | 'le' | 'sa' | 'eb' | 'ap';

/**
 * R4 search, prefixes on ranges (search.html#prefix), for a target range and a search range:
 * eq: the search range fully contains the target; ne: it does not; gt: the range above the search value overlaps
 * the target; lt: the range below it does; ge/le: gt/lt or eq; sa: the target lies wholly after the search range;
 * eb: wholly before. (ap is the server's judgement: tests bound it from both sides instead.)
 */
export function dateMatches(prefix: Exclude<Prefix, 'ap'>, target: Span, search: Span): boolean {
  const eq = search.lo <= target.lo && target.hi <= search.hi;
  switch (prefix) {
    case 'eq':
      return eq;
    case 'ne':
      return !eq;
    case 'gt':
      return target.hi > search.hi;
    case 'lt':
      return target.lo < search.lo;
    case 'ge':
      return target.hi > search.hi || eq;
    case 'le':
      return target.lo < search.lo || eq;
    case 'sa':
      return target.lo >= search.hi;
    case 'eb':
      return target.hi <= search.lo;
  }
}

/** A resource matches a date search when any of its values does. */
export function anyDate(prefix: Exclude<Prefix, 'ap'>, targets: Span[], searchValue: string): boolean {
  const search = span(searchValue);
  return targets.some((t) => dateMatches(prefix, t, search));
}

// ---------------------------------------------------------------------------------------------------------------
// numbers: eq and ne use the precision of the search value (`100` is [99.5, 100.5), `0.25` is [0.245, 0.255)); the
// other prefixes compare with the value exactly (R4 search, number). Computed on integers scaled past the search
// value's last digit, so no binary rounding decides a test.

export function numberMatches(prefix: Exclude<Prefix, 'ap'>, target: number, searchText: string): boolean {
  const decimals = searchText.includes('.') ? searchText.split('.')[1].length : 0;
  const scale = 10 ** (decimals + 1);
  const t = Math.round(target * scale);
  const v = Math.round(Number(searchText) * scale);
  const inPrecision = t >= v - 5 && t < v + 5;
  switch (prefix) {
    case 'eq':
      return inPrecision;
    case 'ne':
      return !inPrecision;
    case 'gt':
    case 'sa':
      return t > v;
    case 'lt':
    case 'eb':
      return t < v;
    case 'ge':
      return t >= v;
    case 'le':
      return t <= v;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// HTTP helpers

export function idsOf(bundle: Bundle): string[] {
  return (bundle.entry ?? []).filter((e) => e.search?.mode === 'match').map((e) => `${e.resource!.resourceType}/${e.resource!.id}`);
}

export function keys(resources: Resource[]): string[] {
  return resources.map((r) => `${r.resourceType}/${r.id}`).sort();
}

export function sorted(values: string[]): string[] {
  return [...values].sort();
}

export function link(bundle: Bundle, relation: string): string | undefined {
  return bundle.link?.find((l) => l.relation === relation)?.url;
}

/** A link's URL relative to the test server (links carry the configured base). */
export function pathOf(url: string): string {
  if (!url.startsWith(`${BASE}`)) throw new Error(`link outside the base: ${url}`);
  return `/fhir${url.slice(BASE.length)}`;
}

/** GET a search and expect a searchset Bundle. */
export async function search(server: Server, path: string, headers: Record<string, string> = {}): Promise<Bundle> {
  let req = request(server).get(path);
  for (const [name, value] of Object.entries(headers)) req = req.set(name, value);
  const res = await req;
  if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${JSON.stringify(res.body).slice(0, 600)}`);
  const bundle = res.body as Bundle;
  if (bundle.resourceType !== 'Bundle' || bundle.type !== 'searchset') throw new Error(`GET ${path}: not a searchset`);
  return bundle;
}

/** Every match of a search, following `next` links to the end; also the pages, for paging checks. */
export async function searchAll(server: Server, path: string): Promise<{ ids: string[]; pages: Bundle[] }> {
  const pages: Bundle[] = [];
  let next: string | undefined = path;
  while (next) {
    const bundle = await search(server, next);
    pages.push(bundle);
    if (pages.length > 2000) throw new Error('more than 2000 pages: the next links loop');
    const url = link(bundle, 'next');
    next = url ? pathOf(url) : undefined;
  }
  return { ids: pages.flatMap(idsOf), pages };
}

/** The ids of all matches (every page, 1000 a page unless the path says), sorted, to compare as a set with an oracle's. */
export async function matchIds(server: Server, path: string): Promise<string[]> {
  const withCount = /[?&]_count=/.test(path) ? path : `${path}${path.includes('?') ? '&' : '?'}_count=1000`;
  const { ids } = await searchAll(server, withCount);
  return sorted(ids);
}
