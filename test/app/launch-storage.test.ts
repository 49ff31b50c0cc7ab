import { chooseTabStorage, JsonStorage, type KeyValueStore, memoryStore } from '../../app/src/launch/storage.js';

/** A Web Storage stand-in with the same three methods, over a Map (as sessionStorage is, for one tab). */
function mapStore(): KeyValueStore & { values: Map<string, string> } {
  const values = new Map<string, string>();
  return { values, getItem: (key) => values.get(key) ?? null, setItem: (key, value) => void values.set(key, value), removeItem: (key) => void values.delete(key) };
}

const denied = () => new DOMException('Failed to read the \'sessionStorage\' property from \'Window\': Access is denied for this document.', 'SecurityError');

describe('chooseTabStorage: sessionStorage where the document may use it, memory where it may not', () => {
  test('a usable sessionStorage is used, and the probe leaves nothing behind', () => {
    const session = mapStore();
    const chosen = chooseTabStorage(() => session);
    expect(chosen.kept).toBe('session');
    expect(chosen.store).toBe(session);
    expect([...session.values.keys()]).toEqual([]);
  });

  test('reading the property throws (a cross-site frame with third-party storage blocked): memory', () => {
    const chosen = chooseTabStorage(() => {
      throw denied();
    });
    expect(chosen.kept).toBe('memory');
    chosen.store.setItem('SMART_KEY', '"abc"');
    expect(chosen.store.getItem('SMART_KEY')).toBe('"abc"');
  });

  test('the property reads but writing throws (a storage quota of zero): memory, not a store that fails later', () => {
    const session = mapStore();
    session.setItem = () => {
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    };
    expect(chooseTabStorage(() => session).kept).toBe('memory');
  });

  test('memory stores are the document’s own: two are independent, a removed key reads as null', () => {
    const one = memoryStore();
    const two = memoryStore();
    one.setItem('k', 'v');
    expect(two.getItem('k')).toBeNull();
    one.removeItem('k');
    expect(one.getItem('k')).toBeNull();
  });
});

describe('JsonStorage: fhirclient’s storage interface over either store', () => {
  test('set then get gives the value back through JSON; set answers the value it was given', async () => {
    const store = mapStore();
    const storage = new JsonStorage(store);
    const state = { serverUrl: 'https://ccp.example.org/fhir', tokenResponse: { access_token: 't', expires_in: 3600 } };
    await expect(storage.set('abc', state)).resolves.toBe(state);
    expect(store.values.get('abc')).toBe(JSON.stringify(state));
    await expect(storage.get('abc')).resolves.toEqual(state);
    expect(storage.read('abc')).toEqual(state);
    // fhirclient keeps the key of the tab's state as a JSON string under SMART_KEY.
    await storage.set('SMART_KEY', 'abc');
    expect(store.values.get('SMART_KEY')).toBe('"abc"');
    expect(storage.read<string>('SMART_KEY')).toBe('abc');
  });

  test('a missing key, an empty value or text that is not JSON reads as null (as fhirclient’s BrowserStorage)', async () => {
    const store = mapStore();
    const storage = new JsonStorage(store);
    await expect(storage.get('missing')).resolves.toBeNull();
    store.setItem('empty', '');
    await expect(storage.get('empty')).resolves.toBeNull();
    store.setItem('broken', '{"serverUrl":');
    expect(storage.read('broken')).toBeNull();
    expect(storage.read(undefined)).toBeNull();
    expect(storage.read(null)).toBeNull();
  });

  test('unset says whether the key was there, and removes it', async () => {
    const storage = new JsonStorage(memoryStore());
    await storage.set('k', { a: 1 });
    await expect(storage.unset('k')).resolves.toBe(true);
    await expect(storage.unset('k')).resolves.toBe(false);
    await expect(storage.get('k')).resolves.toBeNull();
  });
});
