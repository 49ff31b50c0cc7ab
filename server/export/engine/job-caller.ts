import { type Caller, UNRESTRICTED } from '../../access/caller.js';
import { consentGateFor, type ConsentSettings } from '../../access/consent-gate.js';
import { currentCaller } from '../../access/current-caller.js';
import { rowAccess } from '../../access/search-access.js';
import type { ExportOwner, ExportSpec } from '../../bulk/model.js';
import { R4_COMPARTMENTS } from '../../fhir/r4/compartments.generated.js';
import { parseSearch } from '../../search/query/parse.js';
import type { SearchParameterRegistry } from '../../search/registry.js';
import type { ExportChunk } from '../../search/sql/export.js';
import type { Database } from '../../store/database.js';

/**
 * The caller a job runs as: rebuilt from its owner at each step as a token's caller is (server/access/current-caller.ts),
 * so a client or user switched off, or moved to another organization, stops or narrows their export at once.
 * Undefined when the client or user is no longer active.
 */
export async function jobCaller(db: Database, owner: ExportOwner): Promise<Caller | undefined> {
  if (owner.kind === 'unrestricted') return UNRESTRICTED;
  if (owner.clientId === undefined) return undefined;
  return currentCaller(db, { clientId: owner.clientId, userId: owner.userId, scopes: owner.scopes });
}

/** The conditions a type's rows are exported under: those a search of it by the caller gets, and the job's own. */
export type TypeConditions = Pick<ExportChunk, 'anyOf' | 'access' | 'consent' | 'compartment'>;

/**
 * What a search of `type` by `caller` would be held to (`rowAccess` for searching, `s`, with the type named: a type
 * the caller may no longer search is a 403, which fails the job; `consentGateFor`), plus the job's `_typeFilter`
 * queries, parsed as a search's (OR of the queries), and at patient and group level the Patient compartment of the
 * job's patients (of every patient when the job names none).
 */
export function typeConditions(caller: Caller, spec: ExportSpec, type: string, registry: SearchParameterRegistry, settings: ConsentSettings): TypeConditions {
  const { access } = rowAccess(caller, [type], 's', registry, true);
  const consent = consentGateFor(caller, 's', settings);
  const queries = spec.typeFilters?.[type];
  const anyOf = queries?.map((query) => parseSearch(query, [type], registry, { defaultCount: 1, maxCount: 1 }).filters);
  const conditions: TypeConditions = { anyOf, access, consent };
  if (spec.level !== 'system') {
    const params = R4_COMPARTMENTS.Patient[type] ?? [];
    conditions.compartment = { type: 'Patient', id: spec.patients, params: { [type]: params } };
  }
  return conditions;
}
