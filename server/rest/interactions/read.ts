import { FhirError, notFound } from '../../fhir/outcome.js';
import type { ReadResult } from '../../store/resource-store.js';
import { etag, versionHeaders } from '../headers.js';
import { shapeResource } from '../representation.js';
import type { FhirResponse, Interaction } from '../types.js';

/** `GET [base]/[type]/[id]` */
export const read: Interaction = async (request, { type, id }, { store }) =>
  respond(await store.read(type!, id!), `${type}/${id}`, request.query);

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
