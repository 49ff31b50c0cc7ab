import type { Database } from './database.js';

/**
 * Told, inside the writing transaction, that a current resource of `resourceType` was replaced or deleted (creations
 * are not reported: nothing can have depended on a resource before it existed). Whoever keeps state derived from
 * resources in memory registers one per database (server/auth/auth-changes.ts: the callers of tokens).
 */
export type WriteObserver = (tx: Database, resourceType: string) => Promise<void>;

const observers = new WeakMap<Database, WriteObserver[]>();

export function observeWrites(db: Database, observer: WriteObserver): void {
  const list = observers.get(db.root);
  if (list) list.push(observer);
  else observers.set(db.root, [observer]);
}

/** Called by the store for each update and delete, in its transaction. */
export async function reportWrite(tx: Database, resourceType: string): Promise<void> {
  const list = observers.get(tx.root);
  if (list) for (const observer of list) await observer(tx, resourceType);
}
