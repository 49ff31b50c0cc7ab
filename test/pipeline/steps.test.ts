import { rejection } from '../support/thrown.js';
import { jest } from '@jest/globals';
import type { Caller } from '../../server/access/caller.js';
import { ANONYMOUS, UNRESTRICTED } from '../../server/access/caller.js';
import { roleRights } from '../../server/access/roles.js';
import { parseResourceScope, type ResourceScope } from '../../server/access/scopes.js';
import { FhirError } from '../../server/fhir/outcome.js';
import { compose, initialState, type RequestState, type Step } from '../../server/pipeline/step.js';
import { audit } from '../../server/pipeline/steps/audit.js';
import { authorize } from '../../server/pipeline/steps/authorize.js';
import { consentGate } from '../../server/pipeline/steps/consent-gate.js';
import { resolveRoute } from '../../server/pipeline/steps/resolve-route.js';
import { runInteraction } from '../../server/pipeline/steps/run-interaction.js';
import type { Route } from '../../server/rest/route.js';
import type { FhirContext, FhirRequest, FhirResponse } from '../../server/rest/types.js';

/*
 * Each step of the FHIR request pipeline (server/pipeline/fhir-request.ts) alone, without a server or a database:
 * the steps that need one (the audit record, the consent gate's row checks) are covered end to end by
 * test/audit/*, test/consent/* and test/auth/authorization-negatives.test.ts.
 */

const OK: FhirResponse = { status: 200 };
const next = jest.fn(async () => OK);
/** A context no step here may touch: any use of it throws. */
const UNTOUCHABLE = new Proxy({} as FhirContext, {
  get: (_target, name) => {
    if (name === 'options') return { hostingOrganization: 'host' };
    if (name === 'auditing' || name === 'then') return undefined;
    throw new Error(`the step used context.${String(name)}`);
  },
});

function request(method: string, path: string, caller: Caller = UNRESTRICTED, headers: Record<string, string> = {}): FhirRequest {
  return { method, path, query: {}, headers, baseUrl: 'http://test/fhir', caller };
}

function stateOf(method: string, path: string, caller?: Caller, headers?: Record<string, string>): RequestState {
  return initialState(request(method, path, caller, headers), UNTOUCHABLE);
}

async function resolved(method: string, path: string, caller?: Caller, headers?: Record<string, string>): Promise<RequestState> {
  const state = stateOf(method, path, caller, headers);
  await resolveRoute(state, next);
  return state;
}

function user(scopes: string[], roles: string[] = ['coordinator'], extra: Partial<Caller> = {}): Caller {
  return { kind: 'user', userId: 'u', scopes: scopes.map((text) => parseResourceScope(text) as ResourceScope), role: roleRights(roles), ...extra };
}


beforeEach(() => next.mockClear());

describe('compose', () => {
  it('runs the steps in order, each handing over to the next, the last one answering', async () => {
    const seen: string[] = [];
    const step = (name: string): Step => async (_state, after) => {
      seen.push(`${name} in`);
      const response = await after();
      seen.push(`${name} out`);
      return response;
    };
    const last: Step = async () => {
      seen.push('last');
      return OK;
    };
    await expect(compose([step('a'), step('b'), last])(stateOf('GET', 'metadata'))).resolves.toBe(OK);
    expect(seen).toEqual(['a in', 'b in', 'last', 'b out', 'a out']);
  });
});

describe('resolve the route', () => {
  it('finds the route and its parameters', async () => {
    const state = await resolved('GET', 'Patient/123/_history/2');
    expect(state.route?.pattern).toEqual([':type', ':id', '_history', ':vid']);
    expect(state.params).toEqual({ type: 'Patient', id: '123', vid: '2' });
    expect(next).toHaveBeenCalledTimes(1);
  });

  it('keeps a failure for the audit step instead of answering: unknown type 404, wrong method 405, bad id 400', async () => {
    const unknown = await resolved('GET', 'Patients/1');
    expect((unknown.unresolved as FhirError).status).toBe(404);
    expect(unknown.route).toBeUndefined();
    const wrongMethod = await resolved('PUT', 'metadata');
    expect((wrongMethod.unresolved as FhirError).status).toBe(405);
    expect((wrongMethod.unresolved as FhirError).headers?.Allow).toBe('GET');
    expect(((await resolved('PUT', 'Patient/a_b')).unresolved as FhirError).status).toBe(400);
    expect(next).toHaveBeenCalledTimes(3);
  });

  it('keeps the audit trail append-only', async () => {
    const state = await resolved('DELETE', 'AuditEvent/1');
    expect((state.unresolved as FhirError).status).toBe(405);
    expect((state.unresolved as FhirError).headers?.Allow).toBe('GET');
  });
});

describe('audit', () => {
  it('does not record public routes (the CapabilityStatement)', async () => {
    await expect(audit(await resolved('GET', 'metadata'), next)).resolves.toBe(OK);
  });

  it('inside a Bundle, adds what an entry touched to the Bundle\'s record, and throws an unresolved entry\'s failure', async () => {
    const added: unknown[][] = [];
    const auditing = { add: (...args: unknown[]) => added.push(args) };
    const entry = await resolved('GET', 'Patient/1');
    entry.context = { ...({} as FhirContext), auditing } as unknown as FhirContext;
    await expect(audit(entry, next)).resolves.toBe(OK);
    expect(added).toEqual([[OK, 'read', 'Patient/1']]);
    const unknown = await resolved('GET', 'Nothing/1');
    unknown.context = entry.context;
    expect((await rejection(audit(unknown, next))).status).toBe(404);
    expect(added).toHaveLength(1);
  });
});

describe('authorize (scopes ∩ role)', () => {
  it('lets the unrestricted through with nothing restricted', async () => {
    const state = await resolved('GET', 'Patient/1');
    await authorize(state, next);
    expect(state.restricted).toEqual([]);
    expect(next).toHaveBeenCalledTimes(2);
  });

  it('asks no token of public routes, and leaves searches and Bundles to their interaction', async () => {
    await authorize(await resolved('GET', 'metadata', ANONYMOUS), next);
    await authorize(await resolved('GET', 'Patient', ANONYMOUS), next);
    await authorize(await resolved('POST', '', ANONYMOUS), next);
    expect(next).toHaveBeenCalledTimes(6);
  });

  it('refuses a request without a token (401) and one the role does not allow (403)', async () => {
    expect((await rejection(authorize(await resolved('GET', 'Patient/1', ANONYMOUS), next))).status).toBe(401);
    const viewer = user(['user/*.*'], ['viewer']);
    expect((await rejection(authorize(await resolved('DELETE', 'CarePlan/1', viewer), next))).status).toBe(403);
  });

  it('leaves a restricted grant\'s by-id read and plain create to the consent gate', async () => {
    const scoped = user(['patient/*.*'], ['administrator'], { patient: 'p1' });
    const read = await resolved('GET', 'Observation/1', scoped);
    await authorize(read, next);
    expect(read.restricted.map((r) => r.permission)).toEqual(['r']);
    const create = await resolved('POST', 'Observation', scoped);
    await authorize(create, next);
    expect(create.restricted.map((r) => r.permission)).toEqual(['c']);
  });

  it('refuses under a restricted grant what would reach every row at once: conditional writes, type history', async () => {
    const scoped = user(['patient/*.*'], ['administrator'], { patient: 'p1' });
    expect((await rejection(authorize(await resolved('PUT', 'Observation', scoped), next))).status).toBe(403);
    expect((await rejection(authorize(await resolved('GET', 'Observation/_history', scoped), next))).status).toBe(403);
    expect((await rejection(authorize(await resolved('POST', 'Observation', scoped, { 'if-none-exist': 'code=x' }), next))).status).toBe(403);
  });
});

describe('consent gate', () => {
  it('with nothing restricted, checks no row (touches no store)', async () => {
    const state = await resolved('GET', 'Patient/1');
    await consentGate(state, next);
    expect(state.checkAfterWrite).toEqual([]);
    expect(next).toHaveBeenCalledTimes(2);
  });

  it('a restricted create is checked after the write, in its transaction', async () => {
    const state = await resolved('POST', 'Observation');
    state.restricted.push({ permission: 'c', grant: 'all' });
    await consentGate(state, next);
    expect(state.checkAfterWrite).toEqual(['c']);
  });
});

describe('run the interaction', () => {
  it('calls the route\'s interaction with the request, its parameters and the context', async () => {
    const state = await resolved('GET', 'Patient/1');
    const interaction = jest.fn(async () => ({ status: 299 }));
    state.route = { ...(state.route as Route), interaction };
    await expect(runInteraction(state, next)).resolves.toEqual({ status: 299 });
    const [given, params, context] = interaction.mock.calls[0] as unknown as [FhirRequest, unknown, FhirContext];
    expect(given).toBe(state.request);
    expect(params).toEqual({ type: 'Patient', id: '1' });
    expect(context).toBe(state.context);
  });
});
