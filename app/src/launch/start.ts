/**
 * What to do when the app's page loads, from its URL and whether this tab holds a session. Pure: the caller
 * does the redirects (launch/smart.ts) and shows the screens.
 */
export type Start =
  /** `/app/launch?iss=…&launch=…` from an EHR whose `iss` is this server. */
  | { kind: 'ehr-launch'; iss: string; launch: string }
  /** A launch the app refuses before any redirect (an unknown server, a launch without its parameters). */
  | { kind: 'refused'; reason: 'unknown-iss' | 'missing-launch' | 'missing-iss'; iss?: string }
  /** The authorization server sent the browser back with an error (RFC 6749 §4.1.2.1). */
  | { kind: 'authorization-error'; error: string; description?: string }
  /** Back from the authorization server with a code, to exchange. */
  | { kind: 'callback'; code: string; state: string }
  /** A `code` without `state` or the other way round: not a response we could have asked for. */
  | { kind: 'broken-callback' }
  /** A session in this tab: carry on (a reload, a link inside the app). */
  | { kind: 'session' }
  /** The answer of a sign-in the app showed in a frame of its own: it belongs to the parent page (launch/smart.ts). */
  | { kind: 'hand-back' }
  /** The page after sign-out: offer to sign in again rather than doing so at once. */
  | { kind: 'signed-out' }
  /** No session: a standalone launch against this server. */
  | { kind: 'standalone' };

export const APP_PATH = '/app/';

/** This server's FHIR base, the only `iss` the app accepts. */
export function fhirBaseOf(origin: string): string {
  return `${origin}/fhir`;
}

/**
 * `inSignInFrame`: this page is the sign-in frame the app opened (its parent is the app, on this origin). An answer
 * of the authorization server there, whatever it says, goes to the parent, which holds the state to check it with.
 */
export function decideStart(url: URL, hasSession: boolean, inSignInFrame = false): Start {
  const params = url.searchParams;
  const path = url.pathname.replace(/\/+$/, '');
  if (path === '/app/launch') {
    const iss = params.get('iss');
    const launch = params.get('launch');
    if (!iss) return { kind: 'refused', reason: 'missing-iss' };
    // Compared as written (a trailing slash aside), never by prefix: `https://this.example/fhir.evil.example`
    // and `https://this.example/fhir/../other` are other servers.
    if (iss.replace(/\/$/, '') !== fhirBaseOf(url.origin)) return { kind: 'refused', reason: 'unknown-iss', iss };
    if (!launch) return { kind: 'refused', reason: 'missing-launch' };
    return { kind: 'ehr-launch', iss: fhirBaseOf(url.origin), launch };
  }
  if (inSignInFrame && (params.has('code') || params.has('state') || params.has('error'))) return { kind: 'hand-back' };
  const error = params.get('error');
  if (error) return { kind: 'authorization-error', error, description: params.get('error_description') ?? undefined };
  const code = params.get('code');
  const state = params.get('state');
  if (code && state) return { kind: 'callback', code, state };
  if (code || state) return { kind: 'broken-callback' };
  if (hasSession) return { kind: 'session' };
  if (path === '/app/signed-out') return { kind: 'signed-out' };
  return { kind: 'standalone' };
}
