import type { Bundle, BundleEntry, FhirResource, Parameters, ParametersParameter, Resource } from 'fhir/r4';
import type { Caller } from '../access/caller.js';
import { FhirError } from '../fhir/outcome.js';
import { handleFhirRequest } from '../pipeline/fhir-request.js';
import type { FhirContext } from '../rest/types.js';

const FHIR_JSON = 'application/fhir+json';

/** A step of the demo that the server refused: which step, as whom, and the server's own words. */
export class DemoStepError extends Error {
  constructor(step: string, status: number, diagnostics: string) {
    super(`${step}: the server answered ${status}: ${diagnostics}`);
    this.name = 'DemoStepError';
  }
}

/** One of the world's people or clients, sending FHIR requests through the server's dispatcher (no HTTP). */
export interface Actor {
  /** For messages: `coordinator`, `local-admin`, `the server itself`. */
  label: string;
  /** `Type/id`, `Type/id/$op`, or '' for the base (a Bundle); resolves with the answer's body, or throws DemoStepError. */
  send(method: 'GET' | 'POST' | 'PUT', path: string, body?: FhirResource): Promise<Resource | undefined>;
  /** A transaction Bundle of PUTs with the resources' own ids. */
  put(resources: Array<Resource & { id: string }>): Promise<Bundle>;
  /** `POST [base]/[path]` with Parameters made of `parameter`. */
  operation(path: string, parameter: ParametersParameter[]): Promise<Parameters>;
}

/**
 * An actor calling `handleFhirRequest` as `caller`, just as the HTTP layer does for a request bearing that
 * caller's token: the route's access rules, the write rules, consent and the audit trail all apply.
 */
export function actor(context: FhirContext, baseUrl: string, caller: Caller, label: string): Actor {
  const send = async (method: 'GET' | 'POST' | 'PUT', path: string, body?: FhirResource) => {
    try {
      const response = await handleFhirRequest(
        { method, path, query: {}, body, headers: { 'content-type': FHIR_JSON, accept: FHIR_JSON }, baseUrl, caller },
        context,
      );
      return response.body;
    } catch (error) {
      if (!(error instanceof FhirError)) throw error;
      const diagnostics = error.issues.map((issue) => `${issue.diagnostics ?? issue.code}${issue.expression ? ` [${issue.expression.join(', ')}]` : ''}`).join('; ');
      throw new DemoStepError(`${method} ${path || '[base]'} as ${label}`, error.status, diagnostics);
    }
  };
  return {
    label,
    send,
    async put(resources) {
      const entry: BundleEntry[] = resources.map((resource) => ({ resource, request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` } }));
      return (await send('POST', '', { resourceType: 'Bundle', type: 'transaction', entry })) as Bundle;
    },
    async operation(path, parameter) {
      return (await send('POST', path, { resourceType: 'Parameters', parameter })) as Parameters;
    },
  };
}

/** The resource an operation answered under `name` (`task`, `consent`, …). */
export function outputResource<T extends Resource>(output: Parameters, name: string): T {
  const found = output.parameter?.find((parameter) => parameter.name === name)?.resource;
  if (!found) throw new Error(`the operation's answer has no ${name}`);
  return found as T;
}
