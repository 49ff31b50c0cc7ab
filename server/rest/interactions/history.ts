import type { Bundle, BundleEntry } from 'fhir/r4';
import { isInstant, parseDateRange } from '../../fhir/date-range.js';
import { badRequest } from '../../fhir/outcome.js';
import type { HistoryCursor, HistoryEntry, HistoryQuery } from '../../store/resource-store.js';
import { etag } from '../headers.js';
import { linkTo, pageSize } from '../paging.js';
import { inReadingOrder } from '../representation.js';
import type { FhirRequest, Interaction } from '../types.js';

const CURSOR_PARAM = '_cursor';

/**
 * `GET [base]/_history`, `[base]/[type]/_history`, `[base]/[type]/[id]/_history`: versions newest first,
 * deletions included, in a `history` Bundle with self/next/previous links.
 */
export const history: Interaction = async (request, { type, id }, { store, options }) => {
  const query: HistoryQuery = {
    resourceType: type,
    // The whole system's history leaves the audit trail out, as a search of every type does.
    excludeTypes: type ? undefined : ['AuditEvent'],
    id,
    count: pageSize(request.query, options),
    since: parseSince(request.query._since?.[0]),
    at: parseAt(request.query._at?.[0]),
    cursor: parseCursor(request.query[CURSOR_PARAM]?.[0]),
  };
  const page = await store.history(query);

  const link: Bundle['link'] = [{ relation: 'self', url: linkTo(request) }];
  if (page.previous) link.push({ relation: 'previous', url: linkTo(request, { [CURSOR_PARAM]: formatCursor(page.previous) }) });
  if (page.next) link.push({ relation: 'next', url: linkTo(request, { [CURSOR_PARAM]: formatCursor(page.next) }) });

  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'history',
    link,
    // FHIR JSON has no empty arrays: an empty history is a Bundle without entries.
    ...(page.entries.length ? { entry: page.entries.map((entry) => toBundleEntry(request, entry)) } : {}),
  };
  return { status: 200, body: bundle };
};

function toBundleEntry(request: FhirRequest, entry: HistoryEntry): BundleEntry {
  const url = `${entry.resourceType}/${entry.id}`;
  return {
    fullUrl: `${request.baseUrl}/${url}`,
    ...(entry.resource ? { resource: inReadingOrder(entry.resource) } : {}),
    request: { method: entry.method, url: entry.method === 'POST' ? entry.resourceType : url },
    response: {
      status: entry.created ? '201 Created' : '200 OK',
      etag: etag(entry.versionId),
      lastModified: entry.lastUpdated,
    },
  };
}

function parseSince(value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  if (!isInstant(value)) throw badRequest(`_since must be an instant with a time zone, such as 2024-01-31T12:00:00Z (got ${value})`, ['_since']);
  return parseDateRange(value)!.start;
}

function parseAt(value: string | undefined): HistoryQuery['at'] {
  if (value === undefined) return undefined;
  const range = parseDateRange(value);
  if (!range) throw badRequest(`_at must be a date or dateTime, such as 2024-01 or 2024-01-31T12:00:00Z (got ${value})`, ['_at']);
  return range;
}

/** Cursors travel in links as `n.<seq>.<ceiling>` (next) or `p.<seq>.<ceiling>` (previous). */
function formatCursor(cursor: HistoryCursor): string {
  return `${cursor.direction === 'next' ? 'n' : 'p'}.${cursor.seq}.${cursor.ceiling}`;
}

function parseCursor(value: string | undefined): HistoryCursor | undefined {
  if (value === undefined) return undefined;
  const m = /^([np])\.(\d{1,19})\.(\d{1,19})$/.exec(value);
  if (!m) throw badRequest(`${CURSOR_PARAM} is not a cursor this server issued: follow the Bundle's links`, [CURSOR_PARAM]);
  return { direction: m[1] === 'n' ? 'next' : 'previous', seq: m[2], ceiling: m[3] };
}
