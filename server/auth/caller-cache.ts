import type { Caller } from '../access/caller.js';
import type { AccessChanges } from './auth-changes.js';

/** Enough for every token in use at once on a busy server; past it the oldest entry goes (a lookup brings it back). */
const CAPACITY = 10_000;

interface Entry {
  caller: Caller;
  /** Date.now() at which the token expires (never later: see `store`). */
  until: number;
}

/** Where a lookup started: what `store` needs to tell whether its result may be kept. */
export interface LookupStart {
  generation: number;
  at: number;
}

/**
 * The callers of access tokens, by the token's SHA-256 (never the token), so that a request costs no round trip
 * to find who makes it. An entry is used only while the generation of access changes (auth-changes.ts) is the one
 * it was read at and before its token expires; a lookup's result is stored only if the generation did not move
 * while it ran, so a lookup racing a change cannot put back what the change ended. Unknown, expired or revoked
 * tokens are never cached: they are looked up each time.
 */
export class CallerCache {
  private readonly entries = new Map<string, Entry>();
  private generation: number;

  constructor(
    private readonly changes: AccessChanges,
    private readonly capacity = CAPACITY,
  ) {
    this.generation = changes.generation;
  }

  find(tokenHash: string): Caller | undefined {
    if (!this.changes.live) return undefined;
    this.forgetIfChanged();
    const entry = this.entries.get(tokenHash);
    if (!entry) return undefined;
    if (Date.now() >= entry.until) {
      this.entries.delete(tokenHash);
      return undefined;
    }
    return entry.caller;
  }

  /** Call before the lookup whose result may be stored. */
  start(): LookupStart | undefined {
    return this.changes.live ? { generation: this.changes.generation, at: Date.now() } : undefined;
  }

  /**
   * Keeps `caller` until the token's expiry, `expiresInMs` after the database's clock when it was read: counted
   * from the lookup's start here, which is no later, so that a difference between the clocks cannot extend it.
   */
  store(tokenHash: string, caller: Caller, expiresInMs: number, started: LookupStart | undefined): void {
    if (!started || !this.changes.live || this.changes.generation !== started.generation) return;
    this.forgetIfChanged();
    if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(tokenHash, { caller: deepFreeze(caller), until: started.at + expiresInMs });
  }

  private forgetIfChanged(): void {
    if (this.generation === this.changes.generation) return;
    this.entries.clear();
    this.generation = this.changes.generation;
  }
}

/** One caller serves many requests: none of them may change it for the others. */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}
