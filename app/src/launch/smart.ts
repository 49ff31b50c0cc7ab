import BrowserAdapter from 'fhirclient/lib/adapters/BrowserAdapter';
import type Client from 'fhirclient/lib/Client';
import type { fhirclient } from 'fhirclient/lib/types';
import { CALLBACK_PROBLEMS, type Problem } from './errors.js';
import { APP_PATH, fhirBaseOf } from './start.js';
import { chooseTabStorage, JsonStorage } from './storage.js';

/**
 * The app's side of SMART App Launch, through fhirclient: a public client with PKCE required (the server
 * offers S256; a server that did not would be refused before any redirect). The state, tokens and PKCE
 * verifier live in this tab's sessionStorage, so a reload keeps the session and another tab starts its own; in a
 * frame that may not use sessionStorage (an EHR on another site), in memory for the frame's life (storage.ts).
 */
export const CLIENT_ID = 'ccp-app';
export const EHR_SCOPE = 'launch openid fhirUser online_access user/*.cruds';
export const STANDALONE_SCOPE = 'openid fhirUser launch/patient online_access user/*.cruds';

/** fhirclient's own key for "the state of this tab's session" in sessionStorage. */
const SMART_KEY = 'SMART_KEY';

/** How this document keeps the state: `session` (sessionStorage) or `memory` (storage denied to this frame). */
export const TAB = chooseTabStorage(() => window.sessionStorage);
const storage = new JsonStorage(TAB.store);

/** fhirclient's browser adapter, with the storage chosen above instead of its own (which is sessionStorage, always). */
class TabAdapter extends BrowserAdapter {
  override getStorage() {
    return storage;
  }
}

const FHIR: fhirclient.SMART = new TabAdapter({
  // A public client names itself when it refreshes (RFC 6749 §6, §3.2.1): the server refuses a refresh without it.
  refreshTokenWithClientId: true,
}).getSmartApi();

function common(): fhirclient.AuthorizeParams {
  return {
    clientId: CLIENT_ID,
    redirectUri: `${location.origin}${APP_PATH}`,
    iss: fhirBaseOf(location.origin),
    pkceMode: 'required',
    // In an EHR's iframe the sign-in completes in the frame itself, not in the EHR's window.
    completeInTarget: true,
  };
}

/**
 * Whether the sign-in pages must open in a frame of the app's own. A document that keeps its state in memory loses
 * it when it navigates, and the sign-in is a navigation (to the server's pages and back). So when this frame may
 * not use sessionStorage (an EHR on another site, third-party storage blocked), the app stays on its page and shows
 * the sign-in in a child frame, which hands the answer back (`handBackSignIn`). A top-level page that may not use
 * storage (a browser with all site data blocked) has no parent to do this for it: it redirects as usual.
 */
export function signInFramed(): boolean {
  return TAB.kept === 'memory' && window.parent !== window;
}

/** Redirects to the authorization server, or, when the sign-in is framed, answers the address to open in the frame. */
async function authorize(params: fhirclient.AuthorizeParams): Promise<string | undefined> {
  if (!signInFramed()) {
    await FHIR.authorize(params);
    return undefined;
  }
  const url = await FHIR.authorize({ ...params, noRedirect: true });
  if (typeof url !== 'string') throw new Error('no authorization address');
  return url;
}

export function startEhrLaunch(launch: string): Promise<string | undefined> {
  return authorize({ ...common(), launch, scope: EHR_SCOPE });
}

export function startStandalone(): Promise<string | undefined> {
  return authorize({ ...common(), scope: STANDALONE_SCOPE });
}

/** What the framed sign-in sends its parent: the address the authorization server sent it back to. */
export const SIGN_IN_ANSWER = 'ccp-sign-in-answer';

/**
 * In the sign-in frame the app opened (same origin as its parent): the redirect back belongs to the parent, which
 * holds the state and the PKCE verifier. Only a parent of this origin is told.
 */
export function isSignInFrame(): boolean {
  try {
    return window.parent !== window && window.parent.location.origin === location.origin;
  } catch {
    return false;
  }
}

export function handBackSignIn(): void {
  window.parent.postMessage({ type: SIGN_IN_ANSWER, url: location.href }, location.origin);
}

interface StoredState {
  tokenResponse?: { access_token?: string };
  serverUrl?: string;
}

/** fhirclient keeps every value as JSON, the state key under SMART_KEY included. */
function stored(key: string | null | undefined): StoredState | undefined {
  return storage.read<StoredState>(key) ?? undefined;
}

/** Whether this tab holds a signed-in session fhirclient can restore. */
export function hasSession(): boolean {
  return Boolean(stored(storage.read<string>(SMART_KEY))?.tokenResponse?.access_token);
}

/**
 * The redirect back from the authorization server. fhirclient would quietly accept a `state` whose exchange is
 * already done (as if reloaded), so that case is told apart first: an answer is used once.
 */
export async function completeSignIn(answer: { state: string; code: string }, framed = false): Promise<Client | Problem> {
  const pending = stored(answer.state);
  if (!pending) return CALLBACK_PROBLEMS.unknownState;
  if (pending.tokenResponse?.access_token) {
    history.replaceState(null, '', APP_PATH);
    return CALLBACK_PROBLEMS.reusedState;
  }
  if (!framed) return FHIR.ready();
  // The answer came from the sign-in frame: this page's address has no code. fhirclient puts back the address it
  // saw first (/app/launch?…), so the app's own (/app/) is set once it is done.
  const client = await FHIR.ready({ stateKey: answer.state, code: answer.code });
  history.replaceState(null, '', APP_PATH);
  return client;
}

export function restoreSession(): Promise<Client> {
  return FHIR.ready();
}

/** Forgets the tab's sign-in state (after an error, so a reload does not repeat it). */
export function forgetSession(): void {
  const key = storage.read<string>(SMART_KEY);
  if (typeof key === 'string') storage.remove(key);
  storage.remove(SMART_KEY);
}

/**
 * Sign-out: the tokens are revoked at the server's revocation endpoint when its smart-configuration lists one
 * (the refresh token first: it ends the whole grant), the server's sign-in session is ended (on a shared desktop
 * the next person must not be signed in by it), and the tab forgets everything. Each step is tried even when
 * an earlier one fails; the answer says whether the server confirmed them all.
 */
export async function signOut(client: Client): Promise<{ revoked: boolean }> {
  const tokens = client.state.tokenResponse ?? {};
  let revoked = true;
  try {
    const configuration = await fetch(`${client.state.serverUrl}/.well-known/smart-configuration`, { headers: { Accept: 'application/json' } });
    const endpoint = configuration.ok ? ((await configuration.json()) as { revocation_endpoint?: string }).revocation_endpoint : undefined;
    if (endpoint && new URL(endpoint).origin === location.origin) {
      for (const token of [tokens.refresh_token, tokens.access_token]) {
        if (!token) continue;
        const answer = await fetch(endpoint, {
          method: 'POST',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ token, client_id: CLIENT_ID }),
        });
        revoked &&= answer.ok;
      }
    }
  } catch {
    revoked = false;
  }
  try {
    const answer = await fetch('/auth/sign-out', { method: 'POST', credentials: 'same-origin' });
    revoked &&= answer.ok;
  } catch {
    revoked = false;
  }
  forgetSession();
  return { revoked };
}

export type { Client };
