import type { Parameters, Resource } from 'fhir/r4';
import { badRequest, FhirError, type Issue, operationOutcome } from '../../fhir/outcome.js';
import { isError, issuesAgainst, profilesToCheck } from '../../validation/profiles.js';
import { mergeIssues } from '../../validation/merge-issues.js';
import { resourceOf, structureIssues } from '../../validation/validate-resource.js';
import type { FhirContext, FhirRequest, Interaction } from '../types.js';

const MODES = ['create', 'update', 'delete'] as const;
type Mode = (typeof MODES)[number];

/**
 * `POST [base]/[type]/$validate` and `POST [base]/[type]/[id]/$validate` (R4 Resource-validate): the resource
 * against FHIR R4 and its profiles, without writing; `mode=delete` checks that the resource exists. The answer is
 * always 200 with an OperationOutcome: its issues are the result.
 */
export const validate: Interaction = async (request, { type, id }, context) => {
  const { resource, mode, profile } = inputOf(request);
  const issues: Issue[] = [];

  if (mode === 'delete') {
    if (!id) throw badRequest('mode=delete validates an instance: POST [type]/[id]/$validate');
    if ((await context.store.read(type!, id)).kind !== 'found') issues.push({ code: 'not-found', diagnostics: `${type}/${id} does not exist` });
  } else {
    if (resource === undefined) throw badRequest('$validate needs the resource: as the body, or as the Parameters "resource"');
    issues.push(...contentIssues(context, resource, type!, profile));
    const bodyId = resource !== null && typeof resource === 'object' ? (resource as { id?: unknown }).id : undefined;
    if (mode === 'update' && bodyId === undefined) issues.push({ code: 'required', diagnostics: 'An update needs the resource id', expression: [`${type}.id`] });
    if (mode === 'update' && id !== undefined && bodyId !== undefined && bodyId !== id) {
      issues.push({ code: 'invalid', diagnostics: `The resource's id (${String(bodyId)}) is not ${id}`, expression: [`${type}.id`] });
    }
  }
  if (!issues.some(isError)) issues.push({ severity: 'information', code: 'informational', diagnostics: `Valid for ${mode}${profile ? ` against ${profile}` : ''}` });
  return { status: 200, body: operationOutcome(issues) };
};

/**
 * Everything at once, as a write checks it, so a client fixes everything in one round: FHIR's JSON rules and
 * the R4 schema, the base definition (or `profile` when asked) and every profile the resource claims or
 * configuration requires of it, one issue per problem. The base definition's invariants are reported here even
 * where a write does not check them (docs/CONFORMANCE.md: writes check no core invariant but dom-2/4/5).
 */
function contentIssues({ schema, profiles }: FhirContext, resource: unknown, type: string, profile: string | undefined): Issue[] {
  let checked: Resource;
  try {
    checked = resourceOf(resource, type);
  } catch (error) {
    if (!(error instanceof FhirError)) throw error;
    return error.issues;
  }
  const structural = structureIssues(schema, checked, type);
  if (!profiles) return structural;
  const { known, unknown } = profilesToCheck(profiles, checked);
  const issues = mergeIssues(structural, issuesAgainst(profiles, checked, [profile, ...known.filter((url) => url !== profile)]));
  for (const url of unknown) {
    issues.push({ severity: 'warning', code: 'not-supported', diagnostics: `The resource claims the profile ${url}, which this server does not hold: not checked`, expression: [`${type}.meta.profile`] });
  }
  return issues;
}

/** The resource, mode and profile: from a Parameters body, else the body itself with mode/profile in the URL. */
function inputOf(request: FhirRequest): { resource?: unknown; mode: Mode; profile?: string } {
  const body = request.body as Resource | undefined;
  let resource: unknown = body;
  let mode = request.query.mode?.[0];
  let profile = request.query.profile?.[0];
  if (body?.resourceType === 'Parameters') {
    const given: unknown = (body as Parameters).parameter ?? [];
    if (!Array.isArray(given) || !given.every((p) => p !== null && typeof p === 'object')) {
      throw badRequest('Parameters.parameter must be an array of parameters', ['Parameters.parameter']);
    }
    const parameters = given as NonNullable<Parameters['parameter']>;
    resource = parameters.find((p) => p.name === 'resource')?.resource ?? undefined;
    mode = parameters.find((p) => p.name === 'mode')?.valueCode ?? mode;
    profile = parameters.find((p) => p.name === 'profile')?.valueUri ?? profile;
  }
  if (mode !== undefined && !MODES.includes(mode as Mode)) throw badRequest(`mode must be create, update or delete (got ${mode})`, ['mode']);
  return { resource, mode: (mode ?? 'create') as Mode, profile };
}
