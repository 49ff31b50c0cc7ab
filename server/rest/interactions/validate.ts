import type { Parameters, Resource } from 'fhir/r4';
import { badRequest, FhirError, type Issue, operationOutcome } from '../../fhir/outcome.js';
import { validateResource } from '../../validation/validate-resource.js';
import type { FhirRequest, Interaction } from '../types.js';

const MODES = ['create', 'update', 'delete'] as const;
type Mode = (typeof MODES)[number];

/**
 * `POST [base]/[type]/$validate` and `POST [base]/[type]/[id]/$validate` (R4 Resource-validate): the checks a
 * create or update would make, without writing; `mode=delete` checks that the resource exists. The answer is
 * always 200 with an OperationOutcome: its issues are the result.
 */
export const validate: Interaction = async (request, { type, id }, { schema, store }) => {
  const { resource, mode, profile } = inputOf(request);
  const issues: Issue[] = [];

  if (mode === 'delete') {
    if (!id) throw badRequest('mode=delete validates an instance: POST [type]/[id]/$validate');
    if ((await store.read(type!, id)).kind !== 'found') issues.push({ code: 'not-found', diagnostics: `${type}/${id} does not exist` });
  } else {
    if (resource === undefined) throw badRequest('$validate needs the resource: as the body, or as the Parameters "resource"');
    try {
      validateResource(schema, resource, type!);
    } catch (error) {
      if (!(error instanceof FhirError)) throw error;
      issues.push(...error.issues);
    }
    const bodyId = (resource as { id?: unknown }).id;
    if (mode === 'update' && bodyId === undefined) issues.push({ code: 'required', diagnostics: 'An update needs the resource id', expression: [`${type}.id`] });
    if (mode === 'update' && id !== undefined && bodyId !== undefined && bodyId !== id) {
      issues.push({ code: 'invalid', diagnostics: `The resource's id (${String(bodyId)}) is not ${id}`, expression: [`${type}.id`] });
    }
  }
  if (profile && profile !== `http://hl7.org/fhir/StructureDefinition/${type}`) {
    issues.push({ severity: 'warning', code: 'not-supported', diagnostics: `Profile ${profile} was not checked: only the base R4 rules are validated today` });
  }
  if (!issues.length) issues.push({ severity: 'information', code: 'informational', diagnostics: `Valid for ${mode}` });
  return { status: 200, body: operationOutcome(issues) };
};

/** The resource, mode and profile: from a Parameters body, else the body itself with mode/profile in the URL. */
function inputOf(request: FhirRequest): { resource?: unknown; mode: Mode; profile?: string } {
  const body = request.body as Resource | undefined;
  let resource: unknown = body;
  let mode = request.query.mode?.[0];
  let profile = request.query.profile?.[0];
  if (body?.resourceType === 'Parameters') {
    const parameters = (body as Parameters).parameter ?? [];
    resource = parameters.find((p) => p.name === 'resource')?.resource;
    mode = parameters.find((p) => p.name === 'mode')?.valueCode ?? mode;
    profile = parameters.find((p) => p.name === 'profile')?.valueUri ?? profile;
  }
  if (mode !== undefined && !MODES.includes(mode as Mode)) throw badRequest(`mode must be create, update or delete (got ${mode})`, ['mode']);
  return { resource, mode: (mode ?? 'create') as Mode, profile };
}
