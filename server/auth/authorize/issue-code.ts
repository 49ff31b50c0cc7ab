import { randomUUID } from 'node:crypto';
import type { Database } from '../../store/database.js';
import { randomSecret, secretHash } from '../secrets.js';
import type { LaunchContext } from '../tokens.js';
import { withParameters } from './parse-authorization-request.js';
import type { PendingAuthorization } from './pending.js';

/** A code is exchanged at once by a working client; a minute is plenty (RFC 6749 §4.1.2 advises at most ten). */
export const CODE_SECONDS = 60;

/** The launch context the token response will carry: the EHR's, or the patient the user chose. */
function contextOf(pending: PendingAuthorization): LaunchContext {
  const { launchContext } = pending.request;
  if (launchContext) return { ...launchContext, need_patient_banner: launchContext.need_patient_banner ?? false };
  if (pending.progress.patient) return { patient: pending.progress.patient, need_patient_banner: true };
  return {};
}

/** The authorization code for a completed request, stored as its hash; returns where to send the browser. */
export async function issueCode(db: Database, pending: PendingAuthorization): Promise<string> {
  const code = randomSecret();
  const { request, progress } = pending;
  await db.query('DELETE FROM auth_code WHERE expires_at < now() - interval \'1 day\'');
  await db.query(
    `INSERT INTO auth_code (code_hash, client_id, user_id, session_hash, redirect_uri, code_challenge, scope, context, nonce, auth_time, expires_at, grant_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, now() + make_interval(secs => $11), $12)`,
    [
      secretHash(code),
      request.clientId,
      progress.userId,
      progress.sessionHash ?? null,
      request.redirectUri,
      request.codeChallenge,
      request.scope.join(' '),
      contextOf(pending),
      request.nonce ?? null,
      progress.authTime,
      CODE_SECONDS,
      randomUUID(),
    ],
  );
  return withParameters(request.redirectUri, { code, state: request.state });
}
