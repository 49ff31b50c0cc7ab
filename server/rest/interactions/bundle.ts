import { randomUUID } from 'node:crypto';
import type { Binary, Bundle, BundleEntry, OperationOutcome, Resource } from 'fhir/r4';
import { DEFAULT_MAX_JSON_DEPTH, parseJsonText } from '../../fhir/json-text.js';
import { FhirError } from '../../fhir/outcome.js';
import { decodeUtf8 } from '../../fhir/text-rules.js';
import { JSON_PATCH } from '../../patch/apply-patch.js';
import { isResourceType } from '../../fhir/resource-types.js';
import { entryError, planEntries, processingOrder, type PlannedEntry } from '../bundle/entries.js';
import { rewriteReferences } from '../bundle/references.js';
import { conditionalTarget, criteriaOf, lockKey, matching } from '../conditional.js';
import { versionHeaders, versionUrl } from '../headers.js';
import { WriteBehindStore } from '../../store/write-behind.js';
import { rulesContext } from '../write-rules.js';
import { DeferredChecks } from '../../integrity/deferred.js';
import type { FhirContext, FhirRequest, FhirResponse, Interaction } from '../types.js';

const STATUS_TEXT: Record<number, string> = { 200: 'OK', 201: 'Created', 204: 'No Content', 304: 'Not Modified', 400: 'Bad Request', 404: 'Not Found', 405: 'Method Not Allowed', 409: 'Conflict', 410: 'Gone', 412: 'Precondition Failed', 413: 'Payload Too Large', 422: 'Unprocessable Entity', 500: 'Internal Server Error' };

/** `POST [base]` with a `transaction` (all or nothing) or `batch` (each entry on its own) Bundle. */
export const bundle: Interaction = async (request, _params, context) => {
  const body = request.body as Bundle | undefined;
  if (body?.resourceType !== 'Bundle') throw new FhirError(400, { code: 'invalid', diagnostics: 'POST to the base takes a Bundle of type transaction or batch' });
  if (body.type !== 'transaction' && body.type !== 'batch') {
    throw new FhirError(400, { code: 'invalid', diagnostics: `Bundle.type must be transaction or batch (got ${body.type ?? 'none'})`, expression: ['Bundle.type'] });
  }
  const entries = planEntries(body, request.baseUrl, context.options.maxBundleEntries);
  const responses = body.type === 'transaction' ? await transaction(entries, request, context) : await batch(entries, request, context);
  // `Prefer: return=minimal` on the Bundle: each entry's status, location and etag without the resource.
  if (/return\s*=\s*"?minimal/.test(request.headers.prefer ?? '')) {
    for (const entry of responses) {
      delete entry.resource;
      delete entry.fullUrl;
    }
  }
  const result: Bundle = {
    resourceType: 'Bundle',
    type: body.type === 'transaction' ? 'transaction-response' : 'batch-response',
    ...(responses.length ? { entry: responses } : {}),
  };
  return { status: 200, body: result };
};

/**
 * One database transaction: ids are assigned first, so that every `urn:uuid:`/`urn:oid:` fullUrl and every
 * conditional reference can be rewritten to `Type/id` before anything is written; then the entries run in the
 * specification's order. Any failure rolls back everything and names the entry. Creates are written together
 * (server/store/write-behind.ts), before anything reads and before the transaction ends.
 */
async function transaction(entries: PlannedEntry[], request: FhirRequest, context: FhirContext): Promise<BundleEntry[]> {
  return context.store.transaction(async (inner) => {
    const tx = new WriteBehindStore(inner);
    // References are resolved, and deletes judged, once every entry is written (server/integrity/deferred.ts).
    const deferred = new DeferredChecks(request.caller);
    const txContext: FhirContext = { ...context, store: tx, deferredIntegrity: deferred };
    const identities = new Map<string, string>();
    const existing = new Map<number, Resource>();
    const assigned = new Map<number, string>();

    // Every lock up front and in one order: two transactions with the same conditions cannot wait on each other.
    const keys = new Set(entries.flatMap((entry) => conditionalLockKeys(entry)));
    for (const key of [...keys].sort()) await tx.lock(key);

    for (const entry of entries) {
      const type = entry.path.split('/')[0];
      if (entry.method === 'POST') {
        if (entry.ifNoneExist) {
          const criteria = criteriaOf(entry.ifNoneExist);
          const found = await matching(tx, context.registry, type, criteria, request.baseUrl, 2).catch(rethrowFor(entry));
          if (found.length > 1) throw entryError(entry.index, 412, `ifNoneExist matches several ${type} resources`);
          if (found.length === 1) existing.set(entry.index, found[0]);
        }
        const id = existing.get(entry.index)?.id ?? randomUUID();
        assigned.set(entry.index, id);
        if (entry.fullUrl) identities.set(entry.fullUrl, `${type}/${id}`);
      } else if (entry.method === 'PUT' && entry.path === type && Object.keys(entry.query).length) {
        const criteria = criteriaOf(entry.query);
        const id = await conditionalTarget(tx, context.registry, type, criteria, entry.resource?.id, request.baseUrl).catch(rethrowFor(entry));
        entry.query = {};
        if (id !== undefined) {
          entry.path = `${type}/${id}`;
          entry.resource = { ...entry.resource!, id };
        } else {
          // No match and no id: a create with a server id, whatever the update-as-create setting.
          entry.method = 'POST';
          assigned.set(entry.index, randomUUID());
        }
        if (entry.fullUrl) identities.set(entry.fullUrl, `${type}/${id ?? assigned.get(entry.index)}`);
      } else if (entry.fullUrl && (entry.method === 'PUT' || entry.method === 'PATCH')) {
        identities.set(entry.fullUrl, entry.path);
      }
    }

    // References: to entries of this Bundle by fullUrl, or conditional (`Type?criteria`) to exactly one match.
    for (const entry of entries) {
      if (!entry.resource) continue;
      const pending: { reference: string; resolved?: string }[] = [];
      rewriteReferences(entry.resource, (reference) => {
        const local = identities.get(reference);
        if (local) return local;
        if (/^urn:(uuid|oid):/.test(reference)) throw entryError(entry.index, 400, `reference ${reference} names no entry of this Bundle`);
        if (/^[A-Z][A-Za-z]+\?/.test(reference)) pending.push({ reference });
        return undefined;
      });
      for (const item of pending) {
        const [type, search] = item.reference.split('?');
        if (!isResourceType(type)) throw entryError(entry.index, 400, `conditional reference ${item.reference}: unknown type`);
        const found = await matching(tx, context.registry, type, criteriaOf(search), request.baseUrl, 2).catch(rethrowFor(entry));
        if (found.length !== 1) {
          throw entryError(entry.index, found.length ? 412 : 404, `conditional reference ${item.reference} matches ${found.length} resources, not exactly one`);
        }
        item.resolved = `${type}/${found[0].id}`;
      }
      if (pending.length) rewriteReferences(entry.resource, (reference) => pending.find((p) => p.reference === reference)?.resolved);
    }

    const responses = new Map<number, BundleEntry>();
    for (const entry of processingOrder(entries)) {
      const known = existing.get(entry.index);
      if (known) {
        const headers = versionHeaders(known, versionUrl(request.baseUrl, known));
        responses.set(entry.index, responseEntry({ status: 200, body: known, headers }, request.baseUrl));
        continue;
      }
      const entryRequest = requestOf(entry, request, depthOf(context), assigned.get(entry.index));
      deferred.enter(entry.index, `${entry.method} ${entry.url}`);
      let response: FhirResponse;
      try {
        response = await context.dispatch(entryRequest, txContext);
      } catch (error) {
        throw rethrowFor(entry)(error);
      }
      responses.set(entry.index, responseEntry(response, request.baseUrl));
    }
    await tx.flush();
    await deferred.verify(inner, rulesContext(context, request.baseUrl).integrity!);
    return entries.map((entry) => responses.get(entry.index)!);
  });
}

/**
 * The criteria lock a conditional entry takes (see conditional.ts): create, update, delete or patch. Delete
 * and patch take it again when they run; advisory locks are re-entrant within one transaction.
 */
function conditionalLockKeys(entry: PlannedEntry): string[] {
  const type = entry.path.split('/')[0];
  try {
    if (entry.method === 'POST' && entry.ifNoneExist) return [lockKey(type, criteriaOf(entry.ifNoneExist))];
    if (entry.method !== 'POST' && entry.method !== 'GET' && entry.path === type && Object.keys(entry.query).length) {
      return [lockKey(type, criteriaOf(entry.query))];
    }
    return [];
  } catch (error) {
    throw rethrowFor(entry)(error);
  }
}

/**
 * Each entry on its own, in order: a failure is that entry's response, the others go on. Each entry runs in a
 * savepoint, so a failed one leaves nothing of itself while the batch (and its audit record) commits as one.
 */
async function batch(entries: PlannedEntry[], request: FhirRequest, context: FhirContext): Promise<BundleEntry[]> {
  const responses: BundleEntry[] = [];
  for (const entry of entries) {
    try {
      const response = await context.store.savepoint((store) => context.dispatch(requestOf(entry, request, depthOf(context)), { ...context, store }));
      responses.push(responseEntry(response, request.baseUrl));
    } catch (error) {
      if (!(error instanceof FhirError)) throw error;
      responses.push({ response: { status: statusLine(error.status), outcome: error.outcome } });
    }
  }
  return responses;
}

function depthOf(context: FhirContext): number {
  return context.options.maxJsonDepth ?? DEFAULT_MAX_JSON_DEPTH;
}

function requestOf(entry: PlannedEntry, request: FhirRequest, maxDepth: number, assignedId?: string): FhirRequest {
  const headers: Record<string, string | undefined> = { prefer: 'return=representation' };
  if (entry.ifMatch) headers['if-match'] = entry.ifMatch;
  if (entry.ifNoneMatch) headers['if-none-match'] = entry.ifNoneMatch;
  if (entry.ifNoneExist && entry.method === 'POST' && !assignedId) headers['if-none-exist'] = entry.ifNoneExist;
  let body: unknown = entry.resource;
  if (entry.method === 'PATCH') {
    const patch = patchBody(entry, maxDepth);
    body = patch.body;
    headers['content-type'] = patch.contentType;
  }
  return {
    method: entry.method === 'HEAD' ? 'GET' : entry.method,
    path: entry.path,
    query: entry.query,
    body,
    headers,
    baseUrl: request.baseUrl,
    assignedId,
    caller: request.caller,
  };
}

/**
 * A PATCH entry carries a FHIRPath Patch as a Parameters resource, or a JSON Patch as a Binary holding the
 * patch document (contentType application/json-patch+json, base64 data).
 */
function patchBody(entry: PlannedEntry, maxDepth: number): { body: unknown; contentType: string } {
  const resource = entry.resource;
  if (resource?.resourceType === 'Parameters') return { body: resource, contentType: 'application/fhir+json' };
  const binary = resource?.resourceType === 'Binary' ? (resource as Binary) : undefined;
  if (binary?.contentType.split(';')[0].trim() === JSON_PATCH && binary.data) {
    const where = `Bundle.entry[${entry.index}].resource.data`;
    try {
      // The same checks as a PATCH body of its own: strict UTF-8, depth, numbers, FHIR text.
      const text = decodeUtf8(Buffer.from(binary.data, 'base64'), where);
      return { body: parseJsonText(text, maxDepth, where), contentType: JSON_PATCH };
    } catch (error) {
      const why = error instanceof FhirError ? error.issues.map((issue) => issue.diagnostics).join('; ') : '';
      throw entryError(entry.index, 400, `the Binary's data is not an acceptable base64-encoded JSON Patch document: ${why}`, where);
    }
  }
  throw entryError(entry.index, 400, `PATCH takes a Parameters resource (FHIRPath Patch) or a Binary of ${JSON_PATCH}`, `Bundle.entry[${entry.index}].resource`);
}

function responseEntry(response: FhirResponse, baseUrl: string): BundleEntry {
  const body = response.body as Resource | undefined;
  const location = response.headers?.Location;
  const entry: BundleEntry = {
    response: {
      status: statusLine(response.status),
      ...(location ? { location: location.startsWith(`${baseUrl}/`) ? location.slice(baseUrl.length + 1) : location } : {}),
      ...(response.headers?.ETag ? { etag: response.headers.ETag } : {}),
      ...(body?.meta?.lastUpdated ? { lastModified: body.meta.lastUpdated } : {}),
    },
  };
  if (body?.resourceType === 'OperationOutcome') entry.response!.outcome = body as OperationOutcome;
  else if (body) {
    entry.resource = body;
    if (body.id && body.resourceType !== 'Bundle') entry.fullUrl = `${baseUrl}/${body.resourceType}/${body.id}`;
  }
  return entry;
}

function statusLine(status: number): string {
  return `${status} ${STATUS_TEXT[status] ?? ''}`.trim();
}

/** A failure inside a transaction names the entry it came from. */
function rethrowFor(entry: PlannedEntry): (error: unknown) => never {
  return (error: unknown) => {
    if (error instanceof FhirError) {
      throw new FhirError(error.status, error.issues.map((issue) => ({ ...issue, diagnostics: `Bundle.entry[${entry.index}] (${entry.method} ${entry.url}): ${issue.diagnostics}` })));
    }
    throw error;
  };
}
