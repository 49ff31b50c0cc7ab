import type { Resource } from 'fhir/r4';
import { informational } from '../fhir/outcome.js';
import type { FhirResponse } from './types.js';

/**
 * Applies `Prefer: return=minimal | representation | OperationOutcome` to the response of a write.
 * The default is the representation, which is what most clients expect.
 */
export function withReturnPreference(
  prefer: string | undefined,
  status: number,
  resource: Resource,
  headers: Record<string, string>,
  message: string,
): FhirResponse {
  const wanted = /(?:^|[;,\s])return\s*=\s*"?([A-Za-z]+)"?/.exec(prefer ?? '')?.[1];
  if (wanted === 'minimal') return { status, headers };
  if (wanted === 'OperationOutcome') return { status, headers, body: informational(message) };
  return { status, headers, body: resource };
}
