import { audited } from '../audit/audited.js';
import { auditedInteraction } from '../audit/interaction.js';
import { FhirError, notFound } from '../fhir/outcome.js';
import { AUDIT_EVENT } from '../store/audit-chain.js';
import { isResourceType, isValidId } from '../fhir/resource-types.js';
import { authorize, checkWritten } from './authorize.js';
import { ROUTES, type Route } from './routes.js';
import type { FhirContext, FhirRequest, FhirResponse, RouteParams } from './types.js';

/**
 * Dispatches a FHIR request to its interaction, and records it in the audit trail (server/audit): every request
 * but the public ones (the CapabilityStatement) gets exactly one AuditEvent, failures included. A Bundle's entries
 * come back through here while the Bundle's own request is being recorded (`context.auditing`): they add what they
 * touched to its event instead of getting their own. Callable without any HTTP server (tests do): failures come
 * back as FhirErrors, which the transport turns into OperationOutcome responses.
 */
export async function handleFhirRequest(request: FhirRequest, context: FhirContext): Promise<FhirResponse> {
  if (context.auditing) {
    const touched = context.auditing;
    const { route, params } = resolve(request);
    const response = await dispatch(route, params, request, context);
    touched.add(response, auditedInteraction(request.method, route.pattern, request).subtype, request.path);
    return response;
  }
  let resolved: { route: Route; params: RouteParams };
  try {
    resolved = resolve(request);
  } catch (error) {
    return audited({ request, interaction: auditedInteraction(request.method, undefined, request), run: () => Promise.reject(error) }, context);
  }
  const { route, params } = resolved;
  if (route.access === 'public') return route.interaction(request, params, context);
  const interaction = auditedInteraction(request.method, route.pattern, request);
  return audited({ request, interaction, params, run: (inner) => dispatch(route, params, request, inner) }, context);
}

/** The route of a request and its parameters, or the 404/405 FhirError it gets. */
function resolve(request: FhirRequest): { route: Route; params: RouteParams } {
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

/** The interaction, after the route's access rule. */
async function dispatch(route: Route, params: RouteParams, request: FhirRequest, context: FhirContext): Promise<FhirResponse> {
  const checkAfterWrite = await authorize(route, params, request, context);
  if (!checkAfterWrite.length) return route.interaction(request, params, context);
  // A write under a restricted grant: written and checked in one transaction, so a refused write leaves nothing.
  return context.store.transaction(async (store) => {
    const inner = { ...context, store };
    const response = await route.interaction(request, params, inner);
    await checkWritten(params.type!, response, checkAfterWrite, request, inner);
    return response;
  });
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
    if (method === 'GET' || method === 'DELETE') throw notFound(`${params.type}/${params.id} is not known`);
    throw new FhirError(400, { code: 'invalid', diagnostics: `"${params.id}" is not a valid FHIR id (1-64 of A-Z a-z 0-9 - .)` });
  }
  if (params.member !== undefined && params.member !== '*' && !isResourceType(params.member)) {
    throw notFound(`${params.member} is not a resource type this server knows (FHIR R4)`);
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
