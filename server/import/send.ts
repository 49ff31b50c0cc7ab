import type { Bundle, OperationOutcome } from 'fhir/r4';
import { UNRESTRICTED } from '../access/caller.js';
import { FhirError } from '../fhir/outcome.js';
import { handleFhirRequest } from '../pipeline/fhir-request.js';
import type { FhirContext } from '../rest/types.js';
import type { SendTransaction } from './importer.js';

const FHIR_JSON = 'application/fhir+json';

/** Transactions sent to a running FHIR server: `POST [base]` with the Bundle. */
export function sendOverHttp(baseUrl: string, headers: Record<string, string> = {}): SendTransaction {
  return async (bundle) => {
    const response = await fetch(baseUrl.replace(/\/+$/, ''), {
      method: 'POST',
      headers: { 'Content-Type': FHIR_JSON, Accept: FHIR_JSON, Prefer: 'return=minimal', ...headers },
      body: JSON.stringify(bundle),
    });
    const text = await response.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (response.ok && (body as Bundle | undefined)?.resourceType === 'Bundle') return { ok: true, response: body as Bundle };
    const outcome: OperationOutcome =
      (body as OperationOutcome | undefined)?.resourceType === 'OperationOutcome'
        ? (body as OperationOutcome)
        : { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'exception', diagnostics: `HTTP ${response.status} ${text.slice(0, 200)}` }] };
    return { ok: false, status: response.status, outcome };
  };
}

/** Transactions run by this process on the configured database, as the server would run them. */
export function sendInProcess(context: FhirContext, baseUrl: string): SendTransaction {
  return async (bundle) => {
    try {
      const response = await handleFhirRequest(
        // The import command is the server's operator loading data: no token, no restriction.
        { method: 'POST', path: '', query: {}, body: bundle, headers: { 'content-type': FHIR_JSON, prefer: 'return=minimal' }, baseUrl, caller: UNRESTRICTED },
        context,
      );
      return { ok: true, response: response.body as Bundle };
    } catch (error) {
      if (error instanceof FhirError) return { ok: false, status: error.status, outcome: error.outcome };
      throw error;
    }
  };
}
