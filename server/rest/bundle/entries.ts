import type { Bundle, BundleEntry, Resource } from 'fhir/r4';
import { FhirError } from '../../fhir/outcome.js';
import { parseQueryText } from '../../fhir/query-text.js';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type EntryMethod = (typeof METHODS)[number];

/** One entry of a transaction or batch, checked and read into what the interactions need. */
export interface PlannedEntry {
  index: number;
  method: EntryMethod;
  /** `Patient`, `Patient/123`, `Patient?identifier=…` (relative to the base; an absolute URL on this base is made relative). */
  url: string;
  path: string;
  query: Record<string, string[]>;
  fullUrl?: string;
  resource?: Resource;
  ifNoneExist?: string;
  ifMatch?: string;
  ifNoneMatch?: string;
}

export function entryError(index: number, status: number, diagnostics: string, expression?: string): FhirError {
  return new FhirError(status, { code: status === 412 ? 'conflict' : 'invalid', diagnostics: `Bundle.entry[${index}]: ${diagnostics}`, expression: [expression ?? `Bundle.entry[${index}]`] });
}

/** Reads and checks the entries of a `transaction` or `batch` Bundle; structural problems are 400s naming the entry. */
export function planEntries(bundle: Bundle, baseUrl: string, maxEntries: number): PlannedEntry[] {
  const entries = bundle.entry ?? [];
  if (entries.length > maxEntries) {
    throw new FhirError(413, { code: 'too-long', diagnostics: `The Bundle has ${entries.length} entries; this server takes at most ${maxEntries}` });
  }
  const seen = new Set<string>();
  return entries.map((entry: BundleEntry, index) => {
    const request = entry.request;
    if (!request?.method || !request.url) throw entryError(index, 400, 'request.method and request.url are required', `Bundle.entry[${index}].request`);
    const method = request.method as EntryMethod;
    if (!METHODS.includes(method)) throw entryError(index, 400, `unknown method ${request.method}`);
    if (entry.fullUrl) {
      if (seen.has(entry.fullUrl)) throw entryError(index, 400, `fullUrl ${entry.fullUrl} appears more than once`, `Bundle.entry[${index}].fullUrl`);
      seen.add(entry.fullUrl);
    }
    if ((method === 'POST' || method === 'PUT' || method === 'PATCH') && !entry.resource) throw entryError(index, 400, `${method} needs a resource`);
    const url = request.url.startsWith(`${baseUrl}/`) ? request.url.slice(baseUrl.length + 1) : request.url.replace(/^\/+/, '');
    const [path, search = ''] = url.split('?');
    const query = parseQueryText(search, `Bundle.entry[${index}].request.url`);
    return {
      index,
      method,
      url,
      path,
      query,
      fullUrl: entry.fullUrl,
      resource: entry.resource,
      ifNoneExist: request.ifNoneExist,
      ifMatch: request.ifMatch,
      ifNoneMatch: request.ifNoneMatch,
    };
  });
}

/** The spec's processing order for a transaction: DELETE, POST, PUT/PATCH, GET/HEAD. */
export function processingOrder(entries: PlannedEntry[]): PlannedEntry[] {
  const rank: Record<EntryMethod, number> = { DELETE: 0, POST: 1, PUT: 2, PATCH: 2, GET: 3, HEAD: 3 };
  return [...entries].sort((a, b) => rank[a.method] - rank[b.method] || a.index - b.index);
}
