import type { Permission } from '../access/scopes.js';
import type { Interaction } from './types.js';

/** The CapabilityStatement code of an interaction, at the level it is declared. */
export type Declared =
  | { level: 'type'; code: 'read' | 'vread' | 'update' | 'patch' | 'delete' | 'history-instance' | 'history-type' | 'create' | 'search-type' }
  | { level: 'system'; code: 'history-system' | 'search-system' | 'transaction' | 'batch' }
  /** A custom operation on instances of `type`, defined in conformance/operations/[name].json. */
  | { level: 'operation'; type: string; name: string }
  /** An operation on the whole server (`[base]/$name`), such as Bulk Data's `$export`. */
  | { level: 'system-operation'; name: string };

/**
 * What a route needs from the caller (server/access), checked by the pipeline before the interaction runs:
 * `public` nothing; SMART permissions on the route's type (all of them, or `anyOf`); `interaction` when the interaction
 * decides (searches, whose types and rows depend on the query; Bundles, whose entries are checked one by one).
 */
export type RouteAccess = 'public' | 'interaction' | Permission[] | { anyOf: Permission[] };

/** One row of the route table (server/pipeline/routes.ts). */
export interface Route {
  method: string;
  /** Path segments below the base; `:type`, `:id` and `:vid` are parameters. */
  pattern: string[];
  interaction: Interaction;
  access: RouteAccess;
  declared?: Declared | Declared[];
}
