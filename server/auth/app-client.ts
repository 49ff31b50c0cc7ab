import { checkRegistration } from './admin/client-registration.js';
import type { AuthServer } from './auth-server.js';
import { isLoopback } from './loopback.js';

/** The server's own web app (app/, served at /app/): a SMART public client, PKCE required as of every client. */
export const APP_CLIENT_ID = 'ccp-app';

/**
 * The most the app may be granted: sign-in and who the user is, both launches, a refresh while the user stays
 * signed in (never `offline_access`: a browser keeps no long-lived token), and FHIR by the user's role. What a user
 * gets is still cut to their role (server/access/decide.ts).
 */
export const APP_SCOPE = 'openid fhirUser launch launch/patient online_access user/*.cruds patient/*.rs';

/** The loopback names one machine answers to: a person may type any of them, and redirect URIs compare exactly. */
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

/**
 * The app's redirect URIs for the server's public root (BASE_URL without /fhir, path and all, else where it
 * listens; no trailing slash): the app's
 * own page on its own origin. On the loopback interface, under each of its names, so that the app opened at
 * http://localhost:8080/app/ or http://127.0.0.1:8080/app/ can sign in either way.
 */
export function appRedirectUris(root: string): string[] {
  const url = new URL(`${root}/app/`);
  if (!isLoopback(url)) return [url.href];
  return LOOPBACK_NAMES.map((name) => {
    const named = new URL(url.href);
    named.hostname = name;
    return named.href;
  });
}

/** Where an EHR opens the app (SMART's launch URL): `?iss=…&launch=…` are added by the EHR. */
export function appLaunchUrl(root: string): string {
  return new URL(`${root}/app/launch`).href;
}

/**
 * The app's address, on the root the first start prints everywhere else (the address the server listens on: on
 * loopback `127.0.0.1`, which `localhost` may not resolve to first). Its client is registered for `localhost` too.
 */
export function appUrl(root: string): string {
  return new URL(`${root}/app/`).href;
}

export type AppClientResult = { outcome: 'created' | 'updated' | 'unchanged' } | { outcome: 'refused'; problems: string[] };

/**
 * Registers the app at every start, so a new database and an existing one both have it: created when missing,
 * and given this root's redirect URIs when it lacks them (added: an administrator's own additions stay). Anything
 * else an administrator changed (scope, name, deactivation) is left as it is, as is a client of CLIENTS_FILE by
 * that id. The registration passes the admin API's checks: a root that is plain http off the loopback interface is
 * refused (the app's code would travel unencrypted), with the reason.
 */
export async function ensureAppClient(auth: AuthServer, root: string): Promise<AppClientResult> {
  const redirectUris = appRedirectUris(root);
  const existing = await auth.clients.find(APP_CLIENT_ID);
  if (existing) {
    if (existing.source === 'config') return { outcome: 'unchanged' };
    const missing = redirectUris.filter((uri) => !existing.redirectUris.includes(uri));
    if (!missing.length) return { outcome: 'unchanged' };
    const checked = checkRegistration({ client_id: APP_CLIENT_ID, client_name: existing.name, kind: 'public', token_endpoint_auth_method: 'none', redirect_uris: missing, scope: APP_SCOPE }, 'api');
    if (!checked.client) return { outcome: 'refused', problems: checked.problems };
    await auth.clients.save({ ...existing, redirectUris: [...existing.redirectUris, ...missing] });
    return { outcome: 'updated' };
  }
  const checked = checkRegistration(
    { client_id: APP_CLIENT_ID, client_name: 'CCP Exchange app', kind: 'public', token_endpoint_auth_method: 'none', redirect_uris: redirectUris, scope: APP_SCOPE },
    'api',
  );
  if (!checked.client) return { outcome: 'refused', problems: checked.problems };
  await auth.clients.save(checked.client);
  return { outcome: 'created' };
}
