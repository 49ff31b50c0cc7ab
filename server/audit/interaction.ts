import type { ExportStep } from '../bulk/disclosure.js';
import type { FhirRequest } from '../rest/types.js';

/** AuditEvent.action: create, read, update, delete, execute. */
export type AuditAction = 'C' | 'R' | 'U' | 'D' | 'E';

/** What the audit trail records of a request: its restful-interaction code and action, and whether it writes. */
export interface AuditedInteraction {
  /** A code of http://hl7.org/fhir/restful-interaction; absent when the request matched no interaction. */
  subtype?: string;
  action: AuditAction;
  /**
   * `transaction`: the interaction and its AuditEvent commit in one database transaction (a batch's entries each in
   * a savepoint of it). `none`: a read, recorded in its own statement before it is answered.
   */
  writes: 'transaction' | 'none';
  /** A bulk export request: recorded in IHE BALP's export shape (server/audit/export-events.ts). */
  export?: ExportStep;
}

/**
 * Operations that only read (or only check): their events are stored like a read's. The Subscriptions operations
 * among them write nothing (a binding token is signed, not stored), and `$events` must not run inside a write's
 * transaction: its access check reads through the database's own handle, which on PGlite would wait for that
 * transaction to end.
 */
const READING_OPERATIONS = new Set(['$validate', '$verify', '$sample', '$expand', '$lookup', '$validate-code', '$subsumes', '$status', '$events', '$get-ws-binding-token']);

const BY_METHOD: Record<string, AuditAction> = { GET: 'R', POST: 'C', PUT: 'U', PATCH: 'U', DELETE: 'D' };

/**
 * The interaction of a request, from the route pattern it matched (`:type`, `:id`, literals) and its method.
 * `pattern` is undefined when no route matched (an unknown path or method): the attempt is recorded all the same.
 */
export function auditedInteraction(method: string, pattern: readonly string[] | undefined, request: FhirRequest): AuditedInteraction {
  if (!pattern) return { action: BY_METHOD[method] ?? 'E', writes: 'none' };
  const step = exportStep(method, pattern);
  // The jobs' engine writes through its own database handle: never inside the request's transaction (on PGlite it
  // would wait for that transaction to end), so a kick-off and a cancel are recorded like reads.
  if (step) return { subtype: 'operation', action: step === 'cancel' ? 'D' : step === 'kick-off' ? 'E' : 'R', writes: 'none', export: step };
  const last = pattern[pattern.length - 1];
  if (last?.startsWith('$')) {
    return { subtype: 'operation', action: 'E', writes: READING_OPERATIONS.has(last) ? 'none' : 'transaction' };
  }
  if (last === '_search') return { subtype: pattern.length === 1 ? 'search-system' : 'search-type', action: 'E', writes: 'none' };
  if (last === '_history') {
    const subtype = pattern.length === 1 ? 'history-system' : pattern.length === 2 ? 'history-type' : 'history-instance';
    return { subtype, action: 'R', writes: 'none' };
  }
  if (pattern.length === 0) {
    if (method === 'GET') return { subtype: 'search-system', action: 'E', writes: 'none' };
    const batch = (request.body as { type?: unknown } | undefined)?.type === 'batch';
    return { subtype: batch ? 'batch' : 'transaction', action: 'E', writes: 'transaction' };
  }
  if (pattern.length === 4) return { subtype: 'vread', action: 'R', writes: 'none' };
  if (pattern.length === 3) return { subtype: 'search-type', action: 'E', writes: 'none' };
  const instance = pattern.length === 2;
  switch (method) {
    case 'GET':
      return instance ? { subtype: 'read', action: 'R', writes: 'none' } : { subtype: 'search-type', action: 'E', writes: 'none' };
    case 'POST':
      return { subtype: 'create', action: 'C', writes: 'transaction' };
    case 'PUT':
      return { subtype: 'update', action: 'U', writes: 'transaction' };
    case 'PATCH':
      return { subtype: 'patch', action: 'U', writes: 'transaction' };
    case 'DELETE':
      return { subtype: 'delete', action: 'D', writes: 'transaction' };
    default:
      return { action: 'E', writes: 'none' };
  }
}

/** Which request of a bulk export the route is, if it is one (server/pipeline/routes.ts). */
function exportStep(method: string, pattern: readonly string[]): ExportStep | undefined {
  if (pattern[0] === '$export-file') return 'download';
  if (pattern[0] === '$export-status') return method === 'DELETE' ? 'cancel' : 'status';
  return pattern[pattern.length - 1] === '$export' ? 'kick-off' : undefined;
}
