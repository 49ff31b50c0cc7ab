import type { Subscription } from 'fhir/r4';
import type { ResourceStore } from '../store/resource-store.js';

/** Writes racing with a client's own update are retried this many times before the next hint tries again. */
const ATTEMPTS = 3;

/**
 * The Subscription resource says what the engine knows (`status`, and `error` while in error): the engine moves a
 * subscription to `active` when its handshake is delivered or its websocket bound, to `error` when it gives up, to
 * `off` when it ends, and each move becomes a new version of the resource, so a read, a search by status and the
 * history tell the truth. The engine's record is the authority; this follows it, after the fact, and is safe to
 * call any number of times and from any process (a version is written only when something differs, under If-Match).
 */
export async function syncSubscriptionResource(store: ResourceStore, id: string): Promise<void> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const state = await store.subscriptionState(id);
    const found = await store.read('Subscription', id);
    if (!state || found.kind !== 'found') return;
    const current = found.resource as Subscription;
    const error = state.status === 'error' ? state.error : undefined;
    if (current.status === state.status && current.error === error) return;
    const { error: _stale, ...kept } = current;
    const next: Subscription & { id: string } = { ...kept, id, status: state.status, ...(error !== undefined ? { error } : {}) };
    const written = await store.update(next, { ifMatch: current.meta?.versionId, allowCreate: false });
    if (written.kind !== 'version-conflict') return;
  }
}
