import type { Caller } from '../../access/caller.js';
import { unauthenticated } from '../../access/decide.js';
import { rowAccess } from '../../access/search-access.js';
import { exportableTypes } from '../../bulk/parameters.js';
import type { ExportLevel, ExportOwner } from '../../bulk/model.js';
import { FhirError } from '../../fhir/outcome.js';
import type { SearchParameterRegistry } from '../../search/registry.js';

/**
 * Who may export what (docs/BULK.md, "Who may"): an export is a search of every type it holds, so the caller needs
 * the search permission on each, as a search would (server/access/search-access.ts: a backend client's `system/`
 * scopes, v1 `.read` or v2 `.rs`; a user's `user/` scopes within their role). Without a token: 401.
 *
 * - `_type` given: every type must be covered, or the kick-off is a 403 naming the type; a job is never narrowed
 *   to what the token happens to cover.
 * - no `_type`: the job holds the types the caller may search among those the level exports (all but AuditEvent;
 *   at patient and group level, the Patient compartment's); none at all is a 403.
 *
 * The rows of each type (a scope's query, a partner held by consent) are the engine's to restrict, in its SQL.
 */
export function exportTypes(caller: Caller, level: ExportLevel, asked: string[] | undefined, registry: SearchParameterRegistry): string[] {
  if (caller.kind === 'anonymous') throw unauthenticated();
  if (!asked) return rowAccess(caller, exportableTypes(level), 's', registry, false).types;
  for (const type of asked) requireTypes(caller, [type], registry, '_type');
  return asked;
}

/**
 * Status, cancel and download: the token of the request must still cover every type it would see (the job's, or
 * the file's), or it is a 403: a job's owner whose new token is narrower sees no more than that token allows.
 */
export function requireTypes(caller: Caller, types: readonly string[], registry: SearchParameterRegistry, expression?: string): void {
  if (caller.kind === 'anonymous') throw unauthenticated();
  try {
    rowAccess(caller, types, 's', registry, true);
  } catch (error) {
    if (!(error instanceof FhirError) || !expression) throw error;
    throw new FhirError(error.status, error.issues.map((issue) => ({ ...issue, expression: [expression] })), error.headers);
  }
}

/**
 * The owner of a job the caller starts, and the one a later request must match (the engine compares the client
 * and the user): the token's resource scopes as written, so the engine decides the export as this token would.
 */
export function ownerOf(caller: Caller): ExportOwner {
  if (caller.kind === 'anonymous') throw unauthenticated();
  const owner: ExportOwner = { kind: caller.kind, scopes: caller.scopes.map((scope) => scope.text) };
  if (caller.clientId !== undefined) owner.clientId = caller.clientId;
  if (caller.userId !== undefined) owner.userId = caller.userId;
  return owner;
}
