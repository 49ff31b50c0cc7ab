import { FhirError, notFound } from '../../fhir/outcome.js';
import { isResourceType, isValidId } from '../../fhir/resource-types.js';
import type { Route } from '../../rest/route.js';
import type { FhirRequest, RouteParams } from '../../rest/types.js';
import { AUDIT_EVENT } from '../../store/audit-chain.js';
import { ROUTES } from '../routes.js';
import type { Step } from '../step.js';

/**
 * Resolve the route: the request's path and method against the route table (server/pipeline/routes.ts). A request
 * that matches nothing (404, 405) or whose path is wrong (400) is not answered here: the audit step records the
 * attempt first, then answers with that failure.
 */
export const resolveRoute: Step = (state, next) => {
  try {
    Object.assign(state, resolve(state.request));
  } catch (error) {
    state.unresolved = error;
  }
  return next();
};

/** The route of a request and its parameters, or the 404/405 FhirError it gets. */
export function resolve(request: FhirRequest): { route: Route; params: RouteParams } {
  const segments = request.path.split('/').filter(Boolean).map(decodeSegment);
  const matches = ROUTES.map((route) => ({ route, params: match(route, segments) })).filter((m) => m.params);
  const chosen = matches.find((m) => m.route.method === request.method);
  if (!chosen) {
    if (!matches.length) throw unknownPath(segments);
    const allowed = [...new Set(matches.map((m) => m.route.method))];
    throw new FhirError(
      405,
      { code: 'not-supported', diagnostics: `${request.method} is not supported on ${request.path || 'the base'}; allowed: ${allowed.join(', ')}` },
      { Allow: allowed.join(', ') },
    );
  }
  checkParams(chosen.params!, request.method);
  appendOnly(chosen.params!, request.method);
  return { route: chosen.route, params: chosen.params! };
}

/** The audit trail is append-only: an AuditEvent can be created (it joins the chain), never changed or removed. */
function appendOnly(params: RouteParams, method: string): void {
  if (params.type !== AUDIT_EVENT || !['PUT', 'PATCH', 'DELETE'].includes(method)) return;
  const allowed = params.id !== undefined ? 'GET' : 'GET, POST';
  throw new FhirError(405, { code: 'not-supported', diagnostics: `AuditEvents are append-only: ${method} is not allowed (allowed: ${allowed})` }, { Allow: allowed });
}

function match(route: Route, segments: string[]): RouteParams | undefined {
  if (route.pattern.length !== segments.length) return undefined;
  const params: RouteParams = {};
  for (let i = 0; i < segments.length; i++) {
    const part = route.pattern[i];
    if (part.startsWith(':')) {
      // A literal like `_history` or `metadata` is never a type or an id.
      if (segments[i].startsWith('_') || (part === ':type' && segments[i] === 'metadata')) return undefined;
      params[part.slice(1) as keyof RouteParams] = segments[i];
    } else if (part !== segments[i]) {
      return undefined;
    }
  }
  return params;
}

function checkParams(params: RouteParams, method: string): void {
  if (params.type !== undefined && !isResourceType(params.type)) {
    throw notFound(`${params.type} is not a resource type this server knows (FHIR R4)`);
  }
  if (params.id !== undefined && !isValidId(params.id)) {
    // An id that cannot exist is simply not found when reading; when writing, the request itself is wrong.
    if (method === 'GET' || method === 'DELETE') throw notFound(`${params.type ? `${params.type}/` : ''}${params.id} is not known`);
    throw new FhirError(400, { code: 'invalid', diagnostics: `"${params.id}" is not a valid FHIR id (1-64 of A-Z a-z 0-9 - .)` });
  }
  if (params.member !== undefined && params.member !== '*' && !isResourceType(params.member)) {
    throw notFound(`${params.member} is not a resource type this server knows (FHIR R4)`);
  }
  if (params.file !== undefined && !/^[0-9]{1,9}$/.test(params.file)) {
    throw notFound(`${params.id}/${params.file} is not a bulk export file`);
  }
  if (params.vid !== undefined && !/^[0-9]{1,9}$/.test(params.vid)) {
    throw notFound(`${params.type}/${params.id}/_history/${params.vid} is not known`);
  }
}

function unknownPath(segments: string[]): FhirError {
  const type = segments[0];
  if (type && !type.startsWith('_') && !isResourceType(type) && type !== 'metadata') {
    return notFound(`${type} is not a resource type this server knows (FHIR R4)`);
  }
  return notFound(`No FHIR interaction is served at /${segments.join('/')}`);
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new FhirError(400, { code: 'invalid', diagnostics: 'The URL path is not valid percent-encoding' });
  }
}
