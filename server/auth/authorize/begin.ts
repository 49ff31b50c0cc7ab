import type { AuthServer } from '../auth-server.js';
import { findSession } from '../sessions.js';
import type { AuthorizationParameters } from './authorization-request.js';
import { parseAuthorizationRequest } from './parse-authorization-request.js';
import { type PendingAuthorization, type Progress, savePending } from './pending.js';

/**
 * `GET /auth/authorize`: checks the request and keeps it. A browser already signed in (its session cookie) is not
 * asked to sign in again, unless the app asked for `prompt=login`.
 */
export async function beginAuthorization(
  auth: AuthServer,
  params: AuthorizationParameters,
  fhirBase: string,
  sessionId: string | undefined,
): Promise<{ id: string; pending: PendingAuthorization }> {
  const request = await parseAuthorizationRequest(auth, params, fhirBase);
  const session = request.prompt === 'login' ? undefined : await findSession(auth.db, sessionId);
  const progress: Progress = session ? { userId: session.userId, sessionHash: session.idHash, authTime: session.authTime.toISOString() } : {};
  return savePending(auth.db, request, progress);
}
