import type { CapabilityStatementRestResourceOperation } from 'fhir/r4';
import type { Declared } from '../rest/routes.js';

/** Canonical base of the OperationDefinitions in conformance/operations/ (each file's `url` is this + `/` + name). */
export const OPERATION_DEFINITION_BASE = 'http://ccp-exchange.org/fhir/OperationDefinition';

/** Every type answers $validate (the official definition). */
const VALIDATE: CapabilityStatementRestResourceOperation = { name: 'validate', definition: 'http://hl7.org/fhir/OperationDefinition/Resource-validate' };

/** The operations the route table serves on `type`. */
export function operationsOf(type: string, declared: Declared[]): CapabilityStatementRestResourceOperation[] {
  const own = declared.flatMap((d) => (d.level === 'operation' && d.type === type ? [{ name: d.name, definition: `${OPERATION_DEFINITION_BASE}/${d.name}` }] : []));
  return [VALIDATE, ...own];
}
