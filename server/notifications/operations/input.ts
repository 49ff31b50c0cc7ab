import type { Parameters } from 'fhir/r4';
import { badRequest } from '../../fhir/outcome.js';
import { OperationInput } from '../../rest/interactions/terminology/input.js';
import type { FhirContext, FhirRequest } from '../../rest/types.js';

/**
 * An operation's parameters, from the URL (GET, or POST without a body) or a Parameters body (POST), read by the
 * REST layer's OperationInput (type and cardinality checks, each 400 naming the parameter). A parameter the
 * operation does not take is refused rather than ignored: a misspelt `eventsSinceNumber` must not silently become
 * "from the start". The URL's own parameters (`_format`, `_pretty`) are the transport's, not the operation's.
 */
export function operationInput(request: FhirRequest, context: FhirContext, operation: string, known: readonly string[]): OperationInput {
  const input = new OperationInput(request, operation, context.schema);
  const names = [
    ...Object.keys(request.query).filter((name) => !name.startsWith('_')),
    ...((request.body as Parameters | undefined)?.parameter ?? []).map((parameter) => parameter.name),
  ];
  const unknown = names.find((name) => !known.includes(name));
  if (unknown !== undefined) {
    const takes = known.length ? `it takes ${known.join(', ')}` : 'it takes none';
    throw badRequest(`${operation}: there is no parameter ${unknown} (${takes})`, [unknown]);
  }
  return input;
}
