import type { Resource } from 'fhir/r4';
import type { FhirContext } from '../../rest/types.js';

/**
 * Tells the audit trail what the operation wrote: its answer is a Parameters resource, in which the audit trail
 * would otherwise find no resource and no patient to name in the request's AuditEvent.
 */
export function reportWritten(context: FhirContext, resources: Resource[]): void {
  for (const resource of resources) context.auditing?.add({ status: 200, body: resource }, undefined, '');
}
