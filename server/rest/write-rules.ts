import type { Resource } from 'fhir/r4';
import type { Caller } from '../access/caller.js';
import { checkDeleteReferrers, checkWriteReferences, referencesToCheck } from '../integrity/write-check.js';
import type { Integrity } from '../integrity/settings.js';
import type { SearchParameterRegistry } from '../search/registry.js';
import type { ResourceStore } from '../store/resource-store.js';
import type { FhirContext, SubscriptionOptions } from './types.js';

export type WriteInteraction = 'create' | 'update' | 'patch' | 'delete';

/** One write a rule is asked about, before it happens. */
export interface WriteChange {
  interaction: WriteInteraction;
  resourceType: string;
  /** Known for update, patch and delete; for a create only when a transaction assigned the id beforehand. */
  id?: string;
  /** What is about to be written; absent on delete. */
  resource?: Resource;
  /** The current version, read under the resource's lock; absent when there is none (a create, an update-as-create). */
  current?: Resource;
  caller: Caller;
}

/** What a rule may use: the write's own transaction, and what it needs to search in it. */
export interface WriteRuleContext {
  store: ResourceStore;
  registry: SearchParameterRegistry;
  baseUrl: string;
  /** Referential integrity as configured; absent: not checked (server/integrity). */
  integrity?: Integrity;
  /** The domain rules of the server (`FhirContext.writeRules`). */
  rules: WriteRules;
  /** What the Subscription checks need of the configuration (`FhirOptions.subscriptions`). */
  subscriptions?: SubscriptionOptions;
  /** FhirOptions.hostingOrganization: the organization that hosts the service, which is no partner. */
  hostingOrganization?: string;
}

/** The rules' context of an interaction's write: its store (a transaction's, if given) and its settings. */
export function rulesContext(context: FhirContext, baseUrl: string, store: ResourceStore = context.store): WriteRuleContext {
  const { options } = context;
  const integrity: Integrity = {
    checkWrites: options.referentialIntegrity,
    checkDeletes: options.referentialIntegrity && !options.deleteReferenced,
    consent: options,
    ...(context.deferredIntegrity ? { deferred: context.deferredIntegrity } : {}),
  };
  return {
    store,
    registry: context.registry,
    baseUrl,
    integrity,
    rules: context.writeRules,
    hostingOrganization: options.hostingOrganization,
    ...(options.subscriptions ? { subscriptions: options.subscriptions } : {}),
  };
}

/**
 * A domain rule on writes of some resource types, run by every REST write interaction (create, update, patch,
 * delete, their conditional forms, and Bundle entries, which go through those) inside the write's transaction.
 */
export interface WriteRule {
  readonly name: string;
  readonly resourceTypes: readonly string[];
  /**
   * Before the write: throw a FhirError to refuse it, or return the resource to write instead (generated
   * narrative). Rules run in order, each seeing what the previous one returned.
   */
  check?(change: WriteChange, context: WriteRuleContext): Promise<Resource | void>;
  /** After the write, in the same transaction: `written` is the version stored (absent on delete). */
  written?(change: WriteChange, written: Resource | undefined, context: WriteRuleContext): Promise<void>;
}

/**
 * The domain rules every write runs, by resource type, in the order given. The REST layer knows none of them: the
 * place that composes the server (server/pipeline/context.ts) hands them in, so `rest/` imports no domain folder.
 */
export class WriteRules {
  private readonly byType = new Map<string, WriteRule[]>();

  constructor(readonly rules: readonly WriteRule[]) {
    for (const rule of rules) for (const type of rule.resourceTypes) this.byType.set(type, [...(this.byType.get(type) ?? []), rule]);
  }

  for(resourceType: string): readonly WriteRule[] {
    return this.byType.get(resourceType) ?? [];
  }
}

/**
 * Runs `write` under the rules of the change's type and under referential integrity (server/integrity): the
 * current version is read under the resource's lock, the rules check (and may replace) the resource, its
 * references are checked, `write` writes it, and the rules' own writes follow, all in one transaction (joining the
 * caller's, as in a transaction Bundle); a delete is checked for referrers after it is written. A write no rule
 * governs and with nothing to check costs nothing: `write` runs as it is, with no transaction and no query added.
 *
 * `writtenOf` tells what `write` stored: a resource, `{}` for a delete, or undefined when it wrote nothing (a
 * version conflict the interaction reports), in which case no rule's after-write runs.
 */
export async function writeUnderRules<T>(
  change: WriteChange & { ifMatch?: string },
  context: WriteRuleContext,
  write: (store: ResourceStore, resource: Resource | undefined) => Promise<T>,
  writtenOf: (result: T) => { resource?: Resource } | undefined,
): Promise<T> {
  const rules = context.rules.for(change.resourceType);
  const { integrity } = context;
  const deleting = change.interaction === 'delete' && integrity?.checkDeletes === true;
  const planned = referencesToCheck(change.resource, change.id, context.baseUrl, integrity);
  if (!rules.length && !deleting && !planned.length) return write(context.store, change.resource);
  return context.store.transaction(async (store) => {
    const inner: WriteRuleContext = { ...context, store };
    const { ifMatch, ...unjudged } = change;
    let seen: WriteChange = unjudged;
    if (rules.length) {
      const current = unjudged.current ?? (await currentVersion(store, unjudged));
      // A stale If-Match fails in the write itself, with its own status; the rules have nothing to judge.
      if (ifMatch !== undefined && ifMatch !== current?.meta?.versionId) return write(store, unjudged.resource);
      seen = { ...unjudged, current };
      for (const rule of rules) {
        const replaced = await rule.check?.(seen, inner);
        if (replaced) seen = { ...seen, resource: replaced };
      }
    }
    // The references of what is written: walked again only when a rule replaced the resource.
    const references = seen.resource === change.resource ? planned : referencesToCheck(seen.resource, seen.id, context.baseUrl, integrity);
    if (integrity) await checkWriteReferences(references, store, seen.caller, integrity);
    const result = await write(store, seen.resource);
    const written = writtenOf(result);
    if (written) for (const rule of rules) await rule.written?.(seen, written.resource, inner);
    if (written && deleting && integrity) await checkDeleteReferrers(change.resourceType, change.id!, store, change.caller, integrity);
    return result;
  });
}

/**
 * The version an update or delete replaces. Writers under rules take the resource's lock first (the same one
 * PATCH takes), so the version the rules judge is still current when the write happens.
 */
async function currentVersion(store: ResourceStore, change: WriteChange): Promise<Resource | undefined> {
  if (change.id === undefined || change.interaction === 'create') return undefined;
  await store.lock(`${change.resourceType}/${change.id}`);
  const found = await store.read(change.resourceType, change.id);
  return found.kind === 'found' ? found.resource : undefined;
}
