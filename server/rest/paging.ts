import { badRequest } from '../fhir/outcome.js';
import type { FhirOptions, FhirRequest } from './types.js';

/** `_count`: the default page size when absent, at most the configured maximum (the server may return fewer). */
export function pageSize(query: Record<string, string[]>, options: FhirOptions): number {
  const raw = query._count?.[0];
  if (raw === undefined) return options.defaultPageSize;
  const count = Number(raw);
  if (!/^\d+$/.test(raw) || count < 1) throw badRequest(`_count must be a whole number of at least 1 (got ${raw})`, ['_count']);
  return Math.min(count, options.maxPageSize);
}

/** The URL of this request with some parameters replaced (undefined removes one): for self and paging links. */
export function linkTo(request: FhirRequest, replace: Record<string, string | undefined> = {}): string {
  const params = new URLSearchParams();
  for (const [name, values] of Object.entries(request.query)) {
    if (name in replace) continue;
    for (const value of values) params.append(name, value);
  }
  for (const [name, value] of Object.entries(replace)) if (value !== undefined) params.append(name, value);
  const search = params.toString();
  return `${request.baseUrl}/${request.path}${search ? `?${search}` : ''}`;
}
