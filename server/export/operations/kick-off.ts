import type { Bundle, Group } from 'fhir/r4';
import type { ExportLevel, ExportSpec } from '../../bulk/model.js';
import { kickOffParameters } from '../../bulk/parameters.js';
import { idOfReference } from '../../fhir/reference.js';
import { badRequest, FhirError, type Issue, operationOutcome } from '../../fhir/outcome.js';
import type { FhirContext, FhirRequest, Interaction } from '../../rest/types.js';
import { parseSearch } from '../../search/query/parse.js';
import { exportTypes, ownerOf, requireTypes } from './access.js';
import { bulkExportsOf } from './engine.js';

/**
 * The kick-off of a bulk export (Bulk Data Access 2.0.0) at `level`: `GET|POST [base]/$export`,
 * `[base]/Patient/$export`, `[base]/Group/[id]/$export`. Checks, in this order: a token (401), the parameters and
 * `Prefer` (400, server/bulk/parameters.ts), who may export which types (403, ./access.ts), the Group, read as the
 * caller through the pipeline so that its access and consent apply (403, 404); then the job is started and the
 * answer is 202 with the status URL in `Content-Location`. Without an engine, a request that passed the checks is a 501.
 */
export function kickOff(level: ExportLevel): Interaction {
  return async (request, params, context) => {
    const owner = ownerOf(request.caller);
    const asked = kickOffParameters({
      level,
      method: request.method,
      query: request.query,
      body: request.body,
      prefer: request.headers.prefer,
      now: new Date(),
      checkFilter: (type, query) => parseSearch(query, [type], context.registry, { defaultCount: 1, maxCount: 1, baseUrl: request.baseUrl }).ignored.map((ignored) => ignored.name),
    });
    const types = exportTypes(request.caller, level, asked.types, context.registry);
    // A filter of a type the token cannot search would disclose through the filter: refused like the type itself.
    for (const type of Object.keys(asked.typeFilters ?? {})) if (!types.includes(type)) requireTypes(request.caller, [type], context.registry, '_typeFilter');
    let patients = asked.patients;
    if (level === 'patient' && patients?.length) await requireKnownPatients(patients, request, context);
    if (level === 'group') {
      const members = await groupMembers(params.id!, request, context);
      const outside = patients?.filter((id) => !members.includes(id)) ?? [];
      if (outside.length) throw badRequest(`patient: ${outside.map((id) => `Patient/${id}`).join(', ')} ${outside.length > 1 ? 'are not members' : 'is not a member'} of Group/${params.id}`, ['patient']);
      patients ??= members;
    }
    const exports = bulkExportsOf(context);
    const spec: ExportSpec = {
      level,
      types,
      outputFormat: asked.outputFormat,
      ...(asked.since !== undefined ? { since: asked.since } : {}),
      ...(asked.elements ? { elements: asked.elements } : {}),
      ...(asked.typeFilters ? { typeFilters: asked.typeFilters } : {}),
      ...(patients ? { patients } : {}),
      ...(level === 'group' ? { group: params.id! } : {}),
      ...(asked.includeAssociatedData ? { includeAssociatedData: asked.includeAssociatedData } : {}),
    };
    const kickOffUrl = requestUrl(request);
    const job = await exports.start(owner, spec, kickOffUrl, asked.issues);
    context.auditing?.exported?.({ step: 'kick-off', job: job.id, request: kickOffUrl, types });
    return {
      status: 202,
      headers: { 'Content-Location': `${request.baseUrl}/$export-status/${job.id}` },
      body: operationOutcome([
        { severity: 'information', code: 'informational', diagnostics: `bulk export accepted: poll ${request.baseUrl}/$export-status/${job.id} for its progress and manifest` },
        ...asked.issues.map((issue): Issue => ({ ...issue, code: issue.code as Issue['code'] })),
      ]),
    };
  };
}

/** The kick-off as the manifest's `request` gives it: the full URL; a POST's parameters are in its body, not here. */
function requestUrl(request: FhirRequest): string {
  const pairs = request.method === 'GET' ? Object.entries(request.query).flatMap(([name, values]) => values.map((value): [string, string] => [name, value])) : [];
  const query = new URLSearchParams(pairs).toString();
  return `${request.baseUrl}/${request.path}${query ? `?${query}` : ''}`;
}

/**
 * The Patients of a Group (its active `member` entries that are Patients), the Group read as the caller through
 * the whole pipeline: a Group the caller may not read is refused as a read of it would be, one that does not
 * exist is a 404.
 */
async function groupMembers(id: string, request: FhirRequest, context: FhirContext): Promise<string[]> {
  const response = await context.dispatch({ method: 'GET', path: `Group/${id}`, query: {}, headers: {}, baseUrl: request.baseUrl, caller: request.caller }, context);
  const group = response.body as Group;
  const members = (group.member ?? []).filter((member) => !member.inactive).flatMap((member) => idOfReference(member.entity.reference, 'Patient') ?? []);
  return [...new Set(members)];
}

/**
 * Bulk Data 2.0.0: patients asked for that are not on the server SHOULD be an error. They are searched for as the
 * caller (a patient the caller may not see is unknown to it, as in a search), a hundred at a time. A caller that
 * may not search Patient at all cannot be told which exist: the check is left out, and the export simply holds
 * nothing of a patient that does not exist.
 */
async function requireKnownPatients(ids: string[], request: FhirRequest, context: FhirContext): Promise<void> {
  const found = new Set<string>();
  for (let start = 0; start < ids.length; start += 100) {
    const slice = ids.slice(start, start + 100);
    const search: FhirRequest = { method: 'GET', path: 'Patient', query: { _id: [slice.join(',')], _elements: ['id'], _count: [String(slice.length)] }, headers: {}, baseUrl: request.baseUrl, caller: request.caller };
    let response;
    try {
      response = await context.dispatch(search, context);
    } catch (error) {
      if (error instanceof FhirError && error.status === 403) return;
      throw error;
    }
    for (const entry of (response.body as Bundle).entry ?? []) if (entry.resource?.id) found.add(entry.resource.id);
  }
  const unknown = ids.filter((id) => !found.has(id));
  if (unknown.length) throw badRequest(`patient: ${unknown.map((id) => `Patient/${id}`).join(', ')} ${unknown.length > 1 ? 'are' : 'is'} not known here`, ['patient']);
}
