import type { Database } from '../../store/database.js';
import { resolveLaunch } from '../launch.js';
import { OAuthError } from '../oauth-error.js';
import type { AuthorizationDraft } from './authorization-request.js';

/**
 * EHR launch: the `launch` parameter names a context the EHR recorded (patient, encounter, CarePlan). Without it a
 * `launch` scope means nothing and is dropped; a patient, if the app needs one, is then chosen by the user.
 */
export async function checkLaunch(draft: AuthorizationDraft, db: Database): Promise<void> {
  const launch = draft.params.launch;
  if (launch === undefined) {
    draft.request.scope = draft.request.scope!.filter((text) => text !== 'launch');
    return;
  }
  const context = await resolveLaunch(db, launch);
  if (!context) throw new OAuthError('invalid_request', 'launch is unknown or expired; launch the app from the EHR again');
  draft.request.launchContext = context;
}
