// Transaction Bundles of synthetic CCP patients: generateBundles() for use in process, countByType() for checks.
//
// Ids. `put` (the default) writes every resource but the AuditEvents with `PUT Type/gen-…`: the same seed gives the
// same ids, so a benchmark can name `Patient/gen-p-42` without looking it up, a dataset can be continued by index,
// and a Bundle refers to the shared Practitioners and Organizations without knowing another Bundle's answer.
// `uuid` POSTs each resource with a `urn:uuid:` fullUrl (the server picks the ids): a create skips the lookup of
// a current version that an update-as-create makes. In alternating runs of 400 patients on this (shared, busy)
// machine the two loaded at the same rate within the noise (260–660 resources/s either way), so the default is
// the one with known ids.
//
// AuditEvents are append-only (no PUT): always POSTed. Writing one locks the audit chain's head row until the
// transaction commits, so concurrent Bundles take turns from their first AuditEvent on. In `uuid` mode they are
// the last entries of their Bundle; in `put` mode a transaction would run its POSTs before its PUTs (the
// specification's order), so they come in a Bundle of their own right after the patients' Bundle.
import { createHash } from 'node:crypto';
import { patientResources } from './patient.mjs';
import { DEFAULT_LAYOUT, sharedResources } from './shared.mjs';

export { MRN_SYSTEM, mrnOf, patientId } from './patient.mjs';
export { HOST, layoutOf, partnerIds } from './shared.mjs';

export const DEFAULT_SEED = 7;
/** About 20 resources a patient, 12 of data and 8 AuditEvents: Bundles of about 500 entries. */
export const PATIENTS_PER_BUNDLE = { put: 40, uuid: 25 };

/**
 * Midnight UTC today: every date is relative to it, so the registrations are current (for at least a month) when
 * the data is loaded. Which partners and directives a patient has does not depend on it, only the dates do.
 */
export function todayUtc() {
  const now = new Date();
  return Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
}

/**
 * Transaction Bundles for patients `offset` … `offset + patients - 1`, `perBundle` patients each (a patient's
 * data is never split across Bundles). With `shared` (default: when offset is 0) a first Bundle writes the shared
 * Organizations, Practitioners and PractitionerRoles. `layout` (shared.mjs `layoutOf`) names the organizations
 * and staff (default: the benchmarks'); `audit: false` leaves out the made-up AuditEvents.
 */
export function* generateBundles({
  patients,
  seed = DEFAULT_SEED,
  offset = 0,
  ids = 'put',
  perBundle = PATIENTS_PER_BUNDLE[ids],
  anchor = todayUtc(),
  shared = offset === 0,
  layout = DEFAULT_LAYOUT,
  audit: withAudit = true,
}) {
  if (ids !== 'put' && ids !== 'uuid') throw new Error(`ids must be put or uuid, not ${ids}`);
  // The shared resources are PUT in both modes: every later Bundle, in this run or a later one, names them by id.
  if (shared) yield transaction(sharedResources(layout).map(putEntry));
  for (let start = offset; start < offset + patients; start += perBundle) {
    const end = Math.min(start + perBundle, offset + patients);
    const resources = [];
    const audit = [];
    for (let index = start; index < end; index++) {
      const made = patientResources(index, { seed, anchor, layout, audit: withAudit });
      resources.push(...made.resources);
      audit.push(...made.audit);
    }
    const auditEntries = audit.map((event) => ({ request: { method: 'POST', url: 'AuditEvent' }, resource: event }));
    if (ids === 'put') {
      yield transaction(resources.map(putEntry));
      if (auditEntries.length) yield transaction(auditEntries);
    } else {
      const entries = uuidEntries(resources, seed);
      pointAtEntries(auditEntries, resources, seed);
      yield transaction([...entries, ...auditEntries]);
    }
  }
}

/** Resources per type in a Bundle (what it writes when accepted). */
export function countByType(bundle, into = {}) {
  for (const entry of bundle.entry ?? []) into[entry.resource.resourceType] = (into[entry.resource.resourceType] ?? 0) + 1;
  return into;
}

function transaction(entry) {
  return { resourceType: 'Bundle', type: 'transaction', entry };
}

function putEntry(resource) {
  return { request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` }, resource };
}

function uuidOf(seed, reference) {
  const hex = createHash('sha1').update(`${seed}|${reference}`).digest('hex');
  return `urn:uuid:${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${((parseInt(hex[16], 16) & 3) | 8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function uuidEntries(resources, seed) {
  const entries = resources.map(({ id, ...resource }) => ({ fullUrl: uuidOf(seed, `${resource.resourceType}/${id}`), request: { method: 'POST', url: resource.resourceType }, resource }));
  pointAtEntries(entries, resources, seed);
  return entries;
}

/** References to resources of this Bundle become their fullUrls (a versioned one loses its version: the server picks it). */
function pointAtEntries(entries, resources, seed) {
  const local = new Set(resources.map((resource) => `${resource.resourceType}/${resource.id}`));
  const visit = (value) => {
    if (Array.isArray(value)) return value.forEach(visit);
    if (typeof value !== 'object' || value === null) return;
    for (const [key, inner] of Object.entries(value)) {
      if (key === 'reference' && typeof inner === 'string') {
        const target = inner.replace(/\/_history\/[^/]+$/, '');
        if (local.has(target)) value.reference = uuidOf(seed, target);
      } else visit(inner);
    }
  };
  for (const entry of entries) visit(entry.resource);
}
