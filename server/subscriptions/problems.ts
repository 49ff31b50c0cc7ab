import { FhirError, type IssueCode } from '../fhir/outcome.js';

/**
 * One thing wrong with a Subscription, and how FHIR's RESTful API answers it. The Backport IG says only that a
 * server SHALL reject a Subscription it will not honour; the status comes from FHIR (http.html, create and update):
 *
 * - 400, malformed: a value that cannot be read as what it claims to be (a filter that is not `name=value`, an
 *   endpoint that is not a URL, a header that is not `Name: value`, a code outside its required value set, an
 *   extension with the wrong value type), or an element base R4 requires that is missing (criteria, channel, type);
 * - 422, unprocessable: readable, but against the backport profile (a missing payload or content level), not
 *   offered here (a topic, filter, channel, MIME type or content level we do not serve), or against a business or
 *   security rule (status, end, bounds, where notifications may be sent).
 */
export interface Problem {
  status: 400 | 422;
  code: IssueCode;
  /** FHIRPath of the element at fault. */
  expression: string;
  /** What is wrong and why; never echoes a header value or an endpoint's credentials. */
  diagnostics: string;
}

export const malformed = (expression: string, diagnostics: string, code: IssueCode = 'invalid'): Problem => ({
  status: 400,
  code,
  expression,
  diagnostics,
});

export const refused = (expression: string, diagnostics: string, code: IssueCode = 'not-supported'): Problem => ({
  status: 422,
  code,
  expression,
  diagnostics,
});

/** One FhirError naming every problem: 400 when any is malformed (the request must be fixed first), 422 otherwise. */
export function refusal(problems: readonly Problem[]): FhirError {
  const status = problems.some((problem) => problem.status === 400) ? 400 : 422;
  return new FhirError(
    status,
    problems.map(({ code, expression, diagnostics }) => ({ code, diagnostics, expression: [expression] })),
  );
}
