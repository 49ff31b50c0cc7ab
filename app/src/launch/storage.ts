/**
 * Where the tab's sign-in state lives. Normally that is `sessionStorage`: a reload keeps the session, another
 * tab starts its own. In an EHR's iframe on another site, a browser that blocks third-party storage (Chromium's
 * incognito windows and automation contexts; Safari always) throws on any use of `sessionStorage` ("Access is
 * denied for this document"). The state is then kept in memory for the life of the frame's document: a reload of
 * the frame forgets it and needs a new launch, which is what an EHR does when it shows the app again anyway.
 *
 * Pure apart from the `sessionStorage` it is handed: the choice is unit-tested with stores that throw.
 */

/** The part of the Web Storage API the app uses. */
export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export interface TabStorage {
  store: KeyValueStore;
  /** Whether the state outlives a reload of the page (sessionStorage), or only the document (memory). */
  kept: 'session' | 'memory';
}

/** A store in this document's memory only. */
export function memoryStore(): KeyValueStore {
  const values = new Map<string, string>();
  return {
    getItem: (key) => values.get(key) ?? null,
    setItem: (key, value) => void values.set(key, String(value)),
    removeItem: (key) => void values.delete(key),
  };
}

const PROBE = 'ccp-storage-probe';

/**
 * `sessionStorage` when this document may use it, else memory. Reading the property can throw (storage denied);
 * so can writing (denied, or a quota of zero in some private modes): both are tried once, here.
 */
export function chooseTabStorage(sessionStorage: () => KeyValueStore): TabStorage {
  try {
    const store = sessionStorage();
    store.setItem(PROBE, '1');
    store.removeItem(PROBE);
    return { store, kept: 'session' };
  } catch {
    return { store: memoryStore(), kept: 'memory' };
  }
}

/**
 * fhirclient's storage interface (its BrowserStorage, over any store): values are kept as JSON, and a missing or
 * empty value reads as `null`, as fhirclient's own does.
 */
export class JsonStorage {
  constructor(private readonly store: KeyValueStore) {}

  async get(key: string): Promise<unknown> {
    return this.read(key);
  }

  async set(key: string, value: unknown): Promise<unknown> {
    this.store.setItem(key, JSON.stringify(value));
    return value;
  }

  async unset(key: string): Promise<boolean> {
    const present = this.store.getItem(key) !== null;
    this.store.removeItem(key);
    return present;
  }

  /** The same value, read at once (the app decides what to show before any promise settles). */
  read<T = unknown>(key: string | null | undefined): T | null {
    if (!key) return null;
    const text = this.store.getItem(key);
    if (!text) return null;
    try {
      return JSON.parse(text) as T;
    } catch {
      return null;
    }
  }

  remove(key: string): void {
    this.store.removeItem(key);
  }
}
