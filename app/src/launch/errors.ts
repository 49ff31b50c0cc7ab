/** A problem shown on the error screen: a title, what happened in plain words, and what the user can do. */
export interface Problem {
  title: string;
  message: string;
  /** What to offer: start a new sign-in here, or go back to the EHR (an EHR launch cannot be restarted here). */
  action: 'sign-in' | 'ehr';
}

/** RFC 6749 §4.1.2.1 error codes, in words a clinician can act on. */
const AUTHORIZATION_ERRORS: Record<string, Omit<Problem, 'action'>> = {
  access_denied: { title: 'Sign-in was cancelled', message: 'Access was not granted: the sign-in was cancelled, or the Terms of Use or the app’s access were declined.' },
  invalid_scope: { title: 'The app’s access is not allowed', message: 'The server does not allow this app the access it asked for. Ask your administrator to check the app’s registration.' },
  unauthorized_client: { title: 'The app is not allowed to sign in', message: 'The server does not allow this app to sign in this way. Ask your administrator to check the app’s registration.' },
  invalid_request: { title: 'The sign-in request was refused', message: 'The server refused the app’s sign-in request.' },
  server_error: { title: 'The server could not sign you in', message: 'The server met an error while signing you in. Try again in a moment.' },
  temporarily_unavailable: { title: 'The server is busy', message: 'The server cannot sign you in right now. Try again in a moment.' },
};

/** The server sent the browser back with an error instead of a code. */
export function authorizationProblem(error: string, description: string | undefined): Problem {
  const known = AUTHORIZATION_ERRORS[error] ?? { title: 'Sign-in failed', message: 'The server did not grant access.' };
  // The description is the server's own words; it is shown as text, never as markup.
  return { ...known, message: description ? `${known.message} The server said: “${description.slice(0, 300)}”` : known.message, action: 'sign-in' };
}

export const REFUSED_LAUNCH: Record<'unknown-iss' | 'missing-launch' | 'missing-iss', Problem> = {
  'unknown-iss': {
    title: 'This launch names another server',
    message: 'The app works only with the server it comes from. The EHR asked it to connect to another server, so it did not connect and sent no sign-in anywhere.',
    action: 'ehr',
  },
  'missing-iss': { title: 'The launch is incomplete', message: 'The EHR opened the app without naming its FHIR server (iss). Launch the app from the EHR again.', action: 'ehr' },
  'missing-launch': { title: 'The launch is incomplete', message: 'The EHR opened the app without its launch context (launch). Launch the app from the EHR again.', action: 'ehr' },
};

export const CALLBACK_PROBLEMS = {
  unknownState: {
    title: 'This sign-in does not belong here',
    message: 'The answer from the sign-in page does not match a sign-in this browser tab started (a wrong or expired state). Nothing was signed in. Start again.',
    action: 'sign-in',
  },
  reusedState: {
    title: 'This sign-in was already used',
    message: 'This sign-in answer was already used once and cannot be used again. Start a new sign-in.',
    action: 'sign-in',
  },
  broken: { title: 'The sign-in answer is incomplete', message: 'The page was opened with part of a sign-in answer. Start again.', action: 'sign-in' },
} satisfies Record<string, Problem>;

/** An error thrown while starting, completing or restoring a sign-in, in words (never a stack trace). */
export function launchProblem(error: unknown, action: Problem['action'] = 'sign-in'): Problem {
  const status = (error as { status?: unknown } | null)?.status;
  const text = error instanceof Error ? error.message : String(error);
  if (status === 400 || status === 401 || /invalid_grant/.test(text))
    return { title: 'The sign-in could not be completed', message: 'The server did not accept the sign-in answer: it may have expired or been used already. Start again.', action };
  if (/No 'state'|No state found/i.test(text)) return CALLBACK_PROBLEMS.unknownState;
  if (/PKCE|S256/.test(text)) return { title: 'The server cannot sign this app in safely', message: 'The server does not offer PKCE (S256), which this app requires. Nothing was sent.', action };
  if (error instanceof TypeError || /fetch|network/i.test(text)) return { title: 'The server cannot be reached', message: 'The app could not reach the server. Check the connection and try again.', action };
  return { title: 'Sign-in failed', message: 'Something went wrong while signing you in. Start again; if it happens again, tell your administrator.', action };
}
