import type { Database } from '../../store/database.js';
import { OAuthError } from '../oauth-error.js';
import { currentTerms, hasAccepted, type Terms } from '../terms.js';
import { isUsable } from '../users.js';
import { issueCode } from './issue-code.js';
import { needsPatientChoice } from './needs-patient.js';
import { RedirectableError } from './parse-authorization-request.js';
import { dropPending, type PendingAuthorization } from './pending.js';

/** What the user's browser is shown next, or where it is sent when the request is answered. */
export type Step =
  | { step: 'sign-in' }
  | { step: 'terms'; terms: Terms }
  | { step: 'patient' }
  | { step: 'approve' }
  | { step: 'redirect'; location: string };

/**
 * The next thing an authorization request needs, in order: a signed-in user who may act, their acceptance of the
 * Terms of Use in force, a patient (when the app needs one and the EHR gave none), and their approval of the
 * scopes. With everything done, the code is issued and the request is used up. With `prompt=none` any page
 * needed is an error sent to the client instead.
 */
export async function nextStep(db: Database, pending: PendingAuthorization): Promise<Step> {
  const { request, progress } = pending;
  const interactive = (step: Step, error: 'login_required' | 'interaction_required' | 'consent_required'): Step => {
    if (request.prompt !== 'none') return step;
    throw new RedirectableError(request.redirectUri, request.state, new OAuthError(error, `prompt=none, but the user must ${describe(step)}`));
  };

  if (!progress.userId) return interactive({ step: 'sign-in' }, 'login_required');
  if (!(await isUsable(db, progress.userId))) {
    await dropPending(db, pending);
    throw new RedirectableError(request.redirectUri, request.state, new OAuthError('access_denied', 'the account cannot be used'));
  }
  const terms = await currentTerms(db);
  if (terms && !(await hasAccepted(db, progress.userId, terms.version))) return interactive({ step: 'terms', terms }, 'interaction_required');
  if (needsPatientChoice(request) && !progress.patient) return interactive({ step: 'patient' }, 'interaction_required');
  if (!progress.approved) return interactive({ step: 'approve' }, 'consent_required');

  const location = await issueCode(db, pending);
  await dropPending(db, pending);
  return { step: 'redirect', location };
}

function describe(step: Step): string {
  switch (step.step) {
    case 'sign-in':
      return 'sign in';
    case 'terms':
      return 'accept the Terms of Use';
    case 'patient':
      return 'choose a patient';
    default:
      return 'approve the access asked for';
  }
}
