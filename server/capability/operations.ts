import type { CapabilityStatementRestResourceOperation } from 'fhir/r4';
import { EXPORT_DEFINITIONS } from '../bulk/canonical.js';
import type { Declared } from '../rest/route.js';
import { SUBSCRIPTION_OPERATIONS } from '../subscriptions/backport.js';

/** Canonical base of the OperationDefinitions in conformance/operations/ (each file's `url` is this + `/` + name). */
export const OPERATION_DEFINITION_BASE = 'http://ccp-exchange.org/fhir/OperationDefinition';

/** Every type answers $validate (the official definition). */
const VALIDATE: CapabilityStatementRestResourceOperation = { name: 'validate', definition: 'http://hl7.org/fhir/OperationDefinition/Resource-validate' };

/** Operations the FHIR specification defines (`[type]-[name]`): named by their official OperationDefinitions. */
const OFFICIAL = new Set(['ValueSet-expand', 'ValueSet-validate-code', 'CodeSystem-lookup', 'CodeSystem-validate-code', 'CodeSystem-subsumes']);

/** Operations the Subscriptions Backport IG defines on Subscription: named by the IG's OperationDefinitions. */
const BACKPORT = new Map(SUBSCRIPTION_OPERATIONS.map(({ name, definition }) => [`Subscription-${name}`, definition]));

/** Bulk Data Access's `$export` on Patient and Group: named by the IG's OperationDefinitions. */
const BULK_DATA = new Map([
  ['Patient-export', EXPORT_DEFINITIONS.Patient],
  ['Group-export', EXPORT_DEFINITIONS.Group],
]);

/** The operations the route table serves on the whole server (`[base]/$name`): only Bulk Data's `$export` so far. */
export function systemOperationsOf(declared: Declared[]): CapabilityStatementRestResourceOperation[] {
  return declared.flatMap((d) => (d.level === 'system-operation' && d.name === 'export' ? [{ name: d.name, definition: EXPORT_DEFINITIONS.system }] : []));
}

/** The operations the route table serves on `type`. */
export function operationsOf(type: string, declared: Declared[]): CapabilityStatementRestResourceOperation[] {
  const own = declared.flatMap((d) => {
    if (d.level !== 'operation' || d.type !== type) return [];
    return [{ name: d.name, definition: definitionOf(type, d.name) }];
  });
  return [VALIDATE, ...own];
}

/** The canonical of an operation's definition: FHIR's own, the Backport IG's, or ours (conformance/operations/). */
function definitionOf(type: string, name: string): string {
  if (OFFICIAL.has(`${type}-${name}`)) return `http://hl7.org/fhir/OperationDefinition/${type}-${name}`;
  return BACKPORT.get(`${type}-${name}`) ?? BULK_DATA.get(`${type}-${name}`) ?? `${OPERATION_DEFINITION_BASE}/${name}`;
}
