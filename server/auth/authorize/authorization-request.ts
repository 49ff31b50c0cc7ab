import type { Client } from '../clients.js';
import type { LaunchContext } from '../tokens.js';

/** A checked `GET /auth/authorize` request (RFC 6749 §4.1.1, RFC 7636, SMART App Launch 2 §2.0.5). */
export interface AuthorizationRequest {
  clientId: string;
  /** Exactly one of the client's registered redirect URIs. */
  redirectUri: string;
  state: string;
  /** The scopes the user is asked to approve: those requested that the client is registered for. */
  scope: string[];
  /** PKCE, S256 only: base64url(SHA-256(code_verifier)). */
  codeChallenge: string;
  nonce?: string;
  /** What the EHR had open, when the app was launched from one (the `launch` parameter). */
  launchContext?: LaunchContext;
  /** OpenID Connect `prompt`: `none` (no page may be shown), `login` (sign in again), `consent` (ask again). */
  prompt?: 'none' | 'login' | 'consent';
}

/** The raw query of the authorization request, one value per name. */
export type AuthorizationParameters = Record<string, string | undefined>;

/** What the checks have established so far; each check adds to it or throws. */
export interface AuthorizationDraft {
  params: AuthorizationParameters;
  client?: Client;
  request: Partial<AuthorizationRequest>;
}
