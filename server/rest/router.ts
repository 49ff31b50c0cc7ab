import { FhirError, notFound } from '../fhir/outcome.js';
import { isResourceType, isValidId } from '../fhir/resource-types.js';
import { authorize, checkWritten } from './authorize.js';
import { ROUTES, type Route } from './routes.js';
import type { FhirContext, FhirRequest, FhirResponse, RouteParams } from './types.js';

/**
 * Dispatches a FHIR request to its interaction. Callable without any HTTP server (tests do): failures come
 * back as FhirErrors, which the transport turns into OperationOutcome responses.
 */
export async function handleFhirRequest(request: FhirRequest, context: FhirContext): Promise<FhirResponse> {
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
  const route = chosen.route;
  const params = chosen.params!;
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
