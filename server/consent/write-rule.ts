import type { Consent, Resource } from 'fhir/r4';
import { FhirError } from '../fhir/outcome.js';
import type { WriteInteraction, WriteRule } from '../rest/write-rules.js';
import { consentKind } from '../conformance/consent-kind.js';

/**
 * Registrations and overrides are made and changed only through their operations, which check who may do what
 * and write the Task, AuditEvent and notice that go with them. A REST write of such a Consent, or one that would
 * turn a Consent into one, is refused and names the operation to use. The server itself (the import command,
 * AUTH_DISABLED) is the exception: it writes them as data.
 */
export const consentWriteRule: WriteRule = {
  name: 'consent-through-operations',
  resourceTypes: ['Consent'],
  async check(change) {
    if (change.caller.kind === 'unrestricted') return;
    const diagnostics = throughOperationsOnly(change.interaction, change.current, change.resource);
    if (diagnostics) throw new FhirError(403, { code: 'forbidden', diagnostics, expression: ['Consent.category'] });
  },
};

/**
 * Why a REST write that turns `current` into `next` (either absent) is refused, naming the operation to use; undefined
 * when neither is a registration or an override.
 */
export function throughOperationsOnly(interaction: WriteInteraction, current: Resource | undefined, next: Resource | undefined): string | undefined {
  const kindOf = (resource: Resource | undefined) => (resource?.resourceType === 'Consent' ? consentKind(resource as Consent) : undefined);
  const was = kindOf(current);
  const kind = was === 'registration' || was === 'override' ? was : kindOf(next);
  if (kind === 'override') return 'a break-the-glass override is recorded only through the $override operation, and ends when its period does';
  if (kind !== 'registration') return undefined;
  if (was !== 'registration') return 'a registration is requested only through the $ccp-register operation';
  if (interaction === 'delete') return 'a registration is never deleted: end it with $ccp-disengage, or refuse a request with $reject';
  const status = (next as Consent | undefined)?.status;
  const operation = status === 'active' ? '$approve' : status === 'rejected' ? '$reject' : status === 'inactive' ? '$ccp-disengage' : undefined;
  return operation
    ? `a registration changes only through its operations: use ${operation}`
    : 'a registration changes only through its operations: $approve, $reject or $ccp-disengage';
}
