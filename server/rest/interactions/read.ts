import type { Resource } from 'fhir/r4';
import { FhirError, notFound } from '../../fhir/outcome.js';
import type { ReadResult } from '../../store/resource-store.js';
import { etag, versionHeaders } from '../headers.js';
import { shapeResource } from '../representation.js';
import type { FhirResponse, Interaction } from '../types.js';

/**
 * `GET [base]/[type]/[id]`. Conditional read: `If-None-Match` naming the current version, or `If-Modified-Since`
 * not earlier than its lastUpdated, is answered 304 Not Modified without a body.
 */
export const read: Interaction = async (request, { type, id }, { store, reached }) => {
  // Under a restricted grant the consent gate already found the row with the grant's and consent's conditions.
  const found = reached && reached.type === type && reached.id === id ? reached.resource : undefined;
  const result: ReadResult = found ? { kind: 'found', resource: found } : await store.read(type!, id!);
  if (result.kind === 'found' && notModified(result.resource, request.headers)) {
    return { status: 304, headers: versionHeaders(result.resource) };
  }
  return respond(result, `${type}/${id}`, request.query);
};

function notModified(resource: Resource, headers: Record<string, string | undefined>): boolean {
  const noneMatch = headers['if-none-match'];
  if (noneMatch !== undefined) {
    // Any of a list of tags, weak or strong, or `*` (RFC 9110 §13.1.2; a weak comparison is allowed for GET).
    const tags = noneMatch.split(',').map((t) => t.trim().replace(/^W\//, '').replace(/"/g, ''));
    return tags.includes('*') || tags.includes(resource.meta?.versionId ?? '');
  }
  const since = headers['if-modified-since'];
  if (since === undefined || !resource.meta?.lastUpdated) return false;
  const time = Date.parse(since);
  // HTTP dates have whole seconds: compare at that precision.
  return !Number.isNaN(time) && Math.floor(Date.parse(resource.meta.lastUpdated) / 1000) * 1000 <= time;
}

/** `GET [base]/[type]/[id]/_history/[vid]` */
export const vread: Interaction = async (request, { type, id, vid }, { store }) =>
  respond(await store.vread(type!, id!, vid!), `${type}/${id}/_history/${vid}`, request.query);

function respond(result: ReadResult, what: string, query: Record<string, string[]>): FhirResponse {
  switch (result.kind) {
    case 'missing':
      throw notFound(`${what} is not known`);
    case 'deleted':
      throw new FhirError(
        410,
        { code: 'deleted', diagnostics: `${what} has been deleted` },
        { ETag: etag(result.versionId), 'Last-Modified': new Date(result.lastUpdated).toUTCString() },
      );
    case 'found':
      return { status: 200, body: shapeResource(result.resource, query), headers: versionHeaders(result.resource) };
  }
}
