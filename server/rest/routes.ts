import { capabilityStatement } from '../capability/capability-statement.js';
import { bundle } from './interactions/bundle.js';
import { conditionalDelete, conditionalPatch, conditionalUpdate } from './interactions/conditional-write.js';
import { create } from './interactions/create.js';
import { deleteResource } from './interactions/delete.js';
import { history } from './interactions/history.js';
import { patch } from './interactions/patch.js';
import { read, vread } from './interactions/read.js';
import { search } from './interactions/search.js';
import { update } from './interactions/update.js';
import { validate } from './interactions/validate.js';
import type { FhirContext, FhirResponse, Interaction } from './types.js';

/** The CapabilityStatement code of an interaction, at the level it is declared. */
export type Declared =
  | { level: 'type'; code: 'read' | 'vread' | 'update' | 'patch' | 'delete' | 'history-instance' | 'history-type' | 'create' | 'search-type' }
  | { level: 'system'; code: 'history-system' | 'search-system' | 'transaction' | 'batch' };

export interface Route {
  method: string;
  /** Path segments below the base; `:type`, `:id` and `:vid` are parameters. */
  pattern: string[];
  interaction: Interaction;
  declared?: Declared | Declared[];
}

/**
 * Every FHIR interaction the server answers. The router dispatches from this table and the
 * CapabilityStatement is generated from it, so the two cannot disagree.
 */
export const ROUTES: Route[] = [
  { method: 'GET', pattern: ['metadata'], interaction: async (request, _params, context) => metadata(request.baseUrl, context) },
  { method: 'GET', pattern: [], interaction: search, declared: { level: 'system', code: 'search-system' } },
  { method: 'POST', pattern: ['_search'], interaction: search },
  {
    method: 'POST',
    pattern: [],
    interaction: bundle,
    declared: [
      { level: 'system', code: 'transaction' },
      { level: 'system', code: 'batch' },
    ],
  },
  { method: 'GET', pattern: ['_history'], interaction: history, declared: { level: 'system', code: 'history-system' } },
  { method: 'GET', pattern: [':type'], interaction: search, declared: { level: 'type', code: 'search-type' } },
  { method: 'POST', pattern: [':type', '_search'], interaction: search },
  { method: 'GET', pattern: [':type', '_history'], interaction: history, declared: { level: 'type', code: 'history-type' } },
  { method: 'POST', pattern: [':type'], interaction: create, declared: { level: 'type', code: 'create' } },
  { method: 'PUT', pattern: [':type'], interaction: conditionalUpdate },
  { method: 'POST', pattern: [':type', '$validate'], interaction: validate },
  { method: 'POST', pattern: [':type', ':id', '$validate'], interaction: validate },
  { method: 'DELETE', pattern: [':type'], interaction: conditionalDelete },
  { method: 'PATCH', pattern: [':type'], interaction: conditionalPatch },
  { method: 'GET', pattern: [':type', ':id'], interaction: read, declared: { level: 'type', code: 'read' } },
  { method: 'PUT', pattern: [':type', ':id'], interaction: update, declared: { level: 'type', code: 'update' } },
  { method: 'PATCH', pattern: [':type', ':id'], interaction: patch, declared: { level: 'type', code: 'patch' } },
  { method: 'DELETE', pattern: [':type', ':id'], interaction: deleteResource, declared: { level: 'type', code: 'delete' } },
  {
    method: 'GET',
    pattern: [':type', ':id', '_history'],
    interaction: history,
    declared: { level: 'type', code: 'history-instance' },
  },
  { method: 'GET', pattern: [':type', ':id', ':member'], interaction: search },
  { method: 'GET', pattern: [':type', ':id', '_history', ':vid'], interaction: vread, declared: { level: 'type', code: 'vread' } },
];

/** `GET [base]/metadata`: the CapabilityStatement, generated from the table above. */
function metadata(baseUrl: string, { options, registry }: FhirContext): FhirResponse {
  const declared = ROUTES.flatMap((route) => (route.declared ? [route.declared].flat() : []));
  return { status: 200, body: capabilityStatement({ declared, allowUpdateCreate: options.allowUpdateCreate, allowMultipleDelete: options.allowMultipleDelete, baseUrl, registry }) };
}
