import type { CapabilityStatementRestResourceOperation } from 'fhir/r4';
import type { Declared } from '../rest/route.js';

/** Canonical base of the OperationDefinitions in conformance/operations/ (each file's `url` is this + `/` + name). */
export const OPERATION_DEFINITION_BASE = 'http://ccp-exchange.org/fhir/OperationDefinition';

/** Every type answers $validate (the official definition). */
const VALIDATE: CapabilityStatementRestResourceOperation = { name: 'validate', definition: 'http://hl7.org/fhir/OperationDefinition/Resource-validate' };

/** Operations the FHIR specification defines (`[type]-[name]`): named by their official OperationDefinitions. */
const OFFICIAL = new Set(['ValueSet-expand', 'ValueSet-validate-code', 'CodeSystem-lookup', 'CodeSystem-validate-code', 'CodeSystem-subsumes']);

/** The operations the route table serves on `type`. */
export function operationsOf(type: string, declared: Declared[]): CapabilityStatementRestResourceOperation[] {
  const own = declared.flatMap((d) => {
    if (d.level !== 'operation' || d.type !== type) return [];
    const official = OFFICIAL.has(`${type}-${d.name}`);
    return [{ name: d.name, definition: official ? `http://hl7.org/fhir/OperationDefinition/${type}-${d.name}` : `${OPERATION_DEFINITION_BASE}/${d.name}` }];
  });
  return [VALIDATE, ...own];
}
