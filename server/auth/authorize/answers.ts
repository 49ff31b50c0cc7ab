import type { Database } from '../../store/database.js';
import { OAuthError } from '../oauth-error.js';
import { startSession } from '../sessions.js';
import { recordAcceptance } from '../terms.js';
import { RedirectableError } from './parse-authorization-request.js';
import { dropPending, type PendingAuthorization, saveProgress } from './pending.js';

/**
 * What the user answers on each page, recorded on the pending request. Each answer moves it on; a refusal ends it
 * with `access_denied` for the client.
 */

/** The user proved who they are: a new browser session (its id goes in the session cookie). */
export async function signedIn(db: Database, pending: PendingAuthorization, userId: string): Promise<string> {
  const { id, session } = await startSession(db, userId);
  pending.progress = { ...pending.progress, userId, sessionHash: session.idHash, authTime: session.authTime.toISOString(), federation: undefined };
  await saveProgress(db, pending);
  return id;
}

export async function answerTerms(db: Database, pending: PendingAuthorization, version: number, accepted: boolean): Promise<void> {
  if (!accepted) await deny(db, pending, 'the user did not accept the Terms of Use');
  await recordAcceptance(db, pending.progress.userId!, version);
}

/** `visible` says whether the user may see the patient: a patient can be chosen only from what the user can see. */
export async function answerPatient(db: Database, pending: PendingAuthorization, patientId: string, visible: boolean): Promise<void> {
  if (!visible) throw new OAuthError('invalid_request', 'that patient cannot be chosen');
  pending.progress = { ...pending.progress, patient: patientId };
  await saveProgress(db, pending);
}

export async function answerApproval(db: Database, pending: PendingAuthorization, approved: boolean): Promise<void> {
  if (!approved) await deny(db, pending, 'the user denied the access asked for');
  pending.progress = { ...pending.progress, approved: true };
  await saveProgress(db, pending);
}

async function deny(db: Database, pending: PendingAuthorization, why: string): Promise<never> {
  await dropPending(db, pending);
  throw new RedirectableError(pending.request.redirectUri, pending.request.state, new OAuthError('access_denied', why));
}
