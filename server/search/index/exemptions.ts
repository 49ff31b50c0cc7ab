/**
 * Resource types whose references record what happened rather than what is: the server's audit trail (every read
 * and delete is an AuditEvent naming what it touched) and Provenance (a version's origin, usually naming that
 * version). Their references never hold back a delete: the record must outlive what it is about. AuditEvents are
 * not checked on write either (they name deleted resources by design, and the server writes most of them);
 * Provenance is, since clients write it and its targets exist when it is written.
 */
export const RECORD_TYPES: ReadonlySet<string> = new Set(['AuditEvent', 'Provenance']);

/** Writes whose references are not checked. */
export const UNCHECKED_WRITES: ReadonlySet<string> = new Set(['AuditEvent']);
