import type { Consent } from 'fhir/r4';
import { FhirError } from '../fhir/outcome.js';
import type { WriteChange, WriteRule } from '../rest/write-rules.js';
import { ACT_CODE, CONSENT_CATEGORY, OVERRIDE_CODE, REGISTRATION_CODE } from './vocabulary.js';

type Kind = 'registration' | 'override';

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
    const kind = kindOf(change.current) ?? kindOf(change.resource);
    if (!kind) return;
    throw new FhirError(403, { code: 'forbidden', diagnostics: refusal(kind, change), expression: ['Consent.category'] });
  },
};

function kindOf(resource: WriteChange['resource']): Kind | undefined {
  const codings = (resource as Consent | undefined)?.category?.flatMap((category) => category.coding ?? []) ?? [];
  if (codings.some((coding) => coding.system === CONSENT_CATEGORY && coding.code === REGISTRATION_CODE)) return 'registration';
  if (codings.some((coding) => coding.system === ACT_CODE && coding.code === OVERRIDE_CODE)) return 'override';
  return undefined;
}

function refusal(kind: Kind, change: WriteChange): string {
  if (kind === 'override') return 'a break-the-glass override is recorded only through the $override operation, and ends when its period does';
  const isRegistration = kindOf(change.current) === 'registration';
  if (!isRegistration) return 'a registration is requested only through the $ccp-register operation';
  if (change.interaction === 'delete') return 'a registration is never deleted: end it with $ccp-disengage, or refuse a request with $reject';
  const next = (change.resource as Consent | undefined)?.status;
  const operation = next === 'active' ? '$approve' : next === 'rejected' ? '$reject' : next === 'inactive' ? '$ccp-disengage' : undefined;
  return operation
    ? `a registration changes only through its operations: use ${operation}`
    : 'a registration changes only through its operations: $approve, $reject or $ccp-disengage';
}
