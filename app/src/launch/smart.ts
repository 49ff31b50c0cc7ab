import 'fhirclient/build/fhir-client.pure.min.js';
import type Client from 'fhirclient/lib/Client';
import type { fhirclient } from 'fhirclient/lib/types';
import { CALLBACK_PROBLEMS, type Problem } from './errors.js';
import { APP_PATH, fhirBaseOf } from './start.js';

/**
 * The app's side of SMART App Launch, through fhirclient: a public client with PKCE required (the server
 * offers S256; a server that did not would be refused before any redirect). The state, tokens and PKCE
 * verifier live in this tab's sessionStorage, so a reload keeps the session and another tab starts its own.
 */
export const CLIENT_ID = 'ccp-app';
export const EHR_SCOPE = 'launch openid fhirUser online_access user/*.cruds';
export const STANDALONE_SCOPE = 'openid fhirUser launch/patient online_access user/*.cruds';

/** fhirclient's own key for "the state of this tab's session" in sessionStorage. */
const SMART_KEY = 'SMART_KEY';

const FHIR = (window as unknown as { FHIR: { oauth2: fhirclient.SMART } }).FHIR;

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

export async function startEhrLaunch(launch: string): Promise<void> {
  await FHIR.oauth2.authorize({ ...common(), launch, scope: EHR_SCOPE });
}

export async function startStandalone(): Promise<void> {
  await FHIR.oauth2.authorize({ ...common(), scope: STANDALONE_SCOPE });
}

interface StoredState {
  tokenResponse?: { access_token?: string };
  serverUrl?: string;
}

/** fhirclient keeps every value as JSON, the state key under SMART_KEY included. */
function read<T>(key: string | null | undefined): T | undefined {
  if (!key) return undefined;
  try {
    return JSON.parse(sessionStorage.getItem(key) ?? 'null') ?? undefined;
  } catch {
    return undefined;
  }
}

function stored(key: string | undefined): StoredState | undefined {
  return read<StoredState>(key);
}

/** Whether this tab holds a signed-in session fhirclient can restore. */
export function hasSession(): boolean {
  return Boolean(stored(read<string>(SMART_KEY))?.tokenResponse?.access_token);
}

/**
 * The redirect back from the authorization server. fhirclient would quietly accept a `state` whose exchange is
 * already done (as if reloaded), so that case is told apart first: an answer is used once.
 */
export async function completeSignIn(state: string): Promise<Client | Problem> {
  const pending = stored(state);
  if (!pending) return CALLBACK_PROBLEMS.unknownState;
  if (pending.tokenResponse?.access_token) {
    history.replaceState(null, '', APP_PATH);
    return CALLBACK_PROBLEMS.reusedState;
  }
  return FHIR.oauth2.ready();
}

export function restoreSession(): Promise<Client> {
  return FHIR.oauth2.ready();
}

/** Forgets the tab's sign-in state (after an error, so a reload does not repeat it). */
export function forgetSession(): void {
  const key = read<string>(SMART_KEY);
  if (typeof key === 'string') sessionStorage.removeItem(key);
  sessionStorage.removeItem(SMART_KEY);
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
