import { type ConsentSettings, consentGateFor } from '../access/consent-gate.js';
import type { Caller } from '../access/caller.js';
import type { ConsentGate } from '../search/query/model.js';
import type { DeferredChecks } from './deferred.js';

/** Referential integrity as configured (REFERENTIAL_INTEGRITY, DELETE_REFERENCED), and how it runs for one write. */
export interface Integrity {
  /** Local references of every write must name a current resource of a type the element allows. */
  checkWrites: boolean;
  /** A delete of a resource that current resources refer to is refused. */
  checkDeletes: boolean;
  consent: ConsentSettings;
  /** Inside a transaction Bundle: the checks wait for the whole Bundle (server/integrity/deferred.ts). */
  deferred?: DeferredChecks;
}

/**
 * The consent gate a reference is resolved through: the caller must be able to read the target. A partner held
 * by consent thus learns nothing from a write about a resource it cannot see: it reads as missing.
 */
export function visibilityOf(caller: Caller, integrity: Integrity): ConsentGate | undefined {
  return consentGateFor(caller, 'r', integrity.consent);
}
