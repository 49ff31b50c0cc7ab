import type { Permission } from '../access/scopes.js';
import type { Grant } from '../access/decide.js';
import type { Route } from '../rest/route.js';
import type { FhirContext, FhirRequest, FhirResponse, RouteParams } from '../rest/types.js';

/** What the steps of one FHIR request learn about it, each adding its part for the ones after it. */
export interface RequestState {
  request: FhirRequest;
  /** The interactions' context; the audit step replaces it with its own (a write's transaction, what was touched). */
  context: FhirContext;
  /** Set by the route step: the route the request matched and the parameters it took from the path. */
  route?: Route;
  params?: RouteParams;
  /** Set by the route step instead, when nothing matches (404, 405) or the path is wrong (400): recorded, then thrown. */
  unresolved?: unknown;
  /** Set by the authorization step: the permissions whose grant reaches only some rows, and with which grant. */
  restricted: Array<{ permission: Permission; grant: Grant }>;
  /** Set by the consent gate: what the written resource must satisfy, checked in the write's transaction. */
  checkAfterWrite: Permission[];
}

/**
 * One step of the pipeline, one rule: it reads and adds to the state, and either answers (throwing a FhirError is
 * an answer too) or hands over to the steps after it (`next`), possibly around them (the audit record).
 */
export type Step = (state: RequestState, next: () => Promise<FhirResponse>) => Promise<FhirResponse>;

/** The steps as one function, in the order given (each one's `next` is the rest of the list). */
export function compose(steps: readonly Step[]): (state: RequestState) => Promise<FhirResponse> {
  return (state) => {
    const run = (index: number): Promise<FhirResponse> => {
      const step = steps[index];
      if (!step) throw new Error('the last step of a pipeline must answer');
      return step(state, () => run(index + 1));
    };
    return run(0);
  };
}

/** The state a request starts with. */
export function initialState(request: FhirRequest, context: FhirContext): RequestState {
  return { request, context, restricted: [], checkAfterWrite: [] };
}
