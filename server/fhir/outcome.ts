import type { OperationOutcome, OperationOutcomeIssue } from 'fhir/r4';

export type IssueSeverity = OperationOutcomeIssue['severity'];
export type IssueCode = OperationOutcomeIssue['code'];

export interface Issue {
  severity?: IssueSeverity;
  code: IssueCode;
  diagnostics: string;
  /** FHIRPath of the offending element, e.g. `Patient.name[0].given[0]`. */
  expression?: string[];
}

export function operationOutcome(issues: Issue[]): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: issues.map(({ severity, code, diagnostics, expression }) => ({
      severity: severity ?? 'error',
      code,
      diagnostics,
      ...(expression?.length ? { expression } : {}),
    })),
  };
}

export function informational(diagnostics: string): OperationOutcome {
  return operationOutcome([{ severity: 'information', code: 'informational', diagnostics }]);
}

/**
 * A failure of a FHIR interaction, with the status the RESTful API specification gives it.
 * Thrown anywhere below the HTTP layer and turned into an OperationOutcome response in one place.
 */
export class FhirError extends Error {
  readonly status: number;
  readonly issues: Issue[];
  readonly headers: Record<string, string>;

  constructor(status: number, issues: Issue | Issue[], headers: Record<string, string> = {}) {
    const list = Array.isArray(issues) ? issues : [issues];
    super(list.map((i) => i.diagnostics).join('; '));
    this.name = 'FhirError';
    this.status = status;
    this.issues = list;
    this.headers = headers;
  }

  get outcome(): OperationOutcome {
    return operationOutcome(this.issues);
  }
}

export const badRequest = (diagnostics: string, expression?: string[]): FhirError =>
  new FhirError(400, { code: 'invalid', diagnostics, expression });

export const notFound = (diagnostics: string): FhirError => new FhirError(404, { code: 'not-found', diagnostics });
