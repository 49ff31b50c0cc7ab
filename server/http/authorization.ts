import express, { type Request, type Response, Router } from 'express';
import type { AuthServer } from '../auth/auth-server.js';
import { answerApproval, answerPatient, answerTerms, signedIn } from '../auth/authorize/answers.js';
import { beginAuthorization } from '../auth/authorize/begin.js';
import { nextStep } from '../auth/authorize/next-step.js';
import { findPatients, patientVisible } from '../auth/authorize/patient-picker.js';
import { RedirectableError } from '../auth/authorize/parse-authorization-request.js';
import { loadPending, PENDING_SECONDS, type PendingAuthorization } from '../auth/authorize/pending.js';
import { passwordSignIn } from '../auth/authorize/password-sign-in.js';
import { userCaller } from '../auth/caller-of-token.js';
import { signInEvent, signOutEvent } from '../audit/auth-events.js';
import { FederationError, finishFederatedSignIn, startFederatedSignIn } from '../auth/federation/federated-sign-in.js';
import { OAuthError } from '../auth/oauth-error.js';
import { endSession, findSession, SESSION_SECONDS } from '../auth/sessions.js';
import { currentTerms } from '../auth/terms.js';
import type { Logger } from '../log/logger.js';
import { messageOfTheDay } from './message-of-the-day.js';
import { retryLater } from './errors.js';
import type { FhirContext } from '../rest/types.js';
import { clearCookie, FEDERATION_COOKIE, readCookie, SESSION_COOKIE, setCookie } from './cookies.js';
import { approvePage, messagePage, patientPage, signInPage, termsPage } from './pages/authorization-pages.js';
import { STYLESHEET } from './pages/html.js';
import { rootOf } from './root.js';
import { type FramePolicy, framePolicy, setFrameOptions } from './frame-policy.js';

const SIGN_IN_FAILED = 'The username or password is wrong, or the account is locked after repeated failures or not active.';

/**
 * The authorization endpoint and its pages (SMART App Launch 2): `GET /auth/authorize` checks the request and
 * sends the browser to `/auth/interaction/{id}`, which shows whatever the request needs next (sign-in, Terms of
 * Use, patient picker, approval) until the code goes back to the app. The rules live in server/auth/authorize;
 * this file turns forms and cookies into calls to them.
 */
export function authorizationRoutes(auth: AuthServer, fhir: FhirContext, options: { baseUrl?: string; frameAncestors?: readonly string[] }, logger: Logger): Router {
  const router = Router();
  const frames = framePolicy(options.frameAncestors ?? []);
  const showPage = (res: Response, status: number, body: string, redirectOrigin?: string) => sendPage(res, frames, status, body, redirectOrigin);
  const form = express.urlencoded({ extended: false, limit: '16kb' });
  const at = (id: string) => `/auth/interaction/${encodeURIComponent(id)}`;
  /** The message of the day: the current service notices for the sign-in page (none when they cannot be read). */
  const notices = () => messageOfTheDay(auth.db, logger);

  router.get('/auth/style.css', (_req, res) => {
    res.type('text/css').set('Cache-Control', 'public, max-age=3600').send(STYLESHEET);
  });

  router.get('/auth/authorize', async (req, res) => {
    try {
      const root = rootOf(req, options.baseUrl);
      const { id } = await beginAuthorization(auth, singleValues(req.query), `${root}/fhir`, readCookie(req, SESSION_COOKIE.name));
      res.redirect(303, at(id));
    } catch (error) {
      failure(res, error);
    }
  });

  /** Loads the pending request of `:id`, or answers that it is gone. */
  const withPending = (work: (req: Request, res: Response, pending: PendingAuthorization, id: string) => Promise<void>) => async (req: Request, res: Response) => {
    try {
      const id = String(req.params.id);
      const pending = await loadPending(auth.db, id);
      if (!pending) return showPage(res, 400, messagePage('Sign-in expired', 'This sign-in has expired or is finished. Go back to the app and start again.'));
      await work(req, res, pending, id);
    } catch (error) {
      failure(res, error);
    }
  };

  router.get(
    '/auth/interaction/:id',
    withPending(async (req, res, pending, id) => {
      const step = await nextStep(auth.db, pending);
      const action = at(id);
      const redirectOrigin = new URL(pending.request.redirectUri).origin;
      switch (step.step) {
        case 'redirect':
          return void res.redirect(303, step.location);
        case 'sign-in':
          return showPage(res, 200, signInPage(action, { providers: providerLinks(action), notices: await notices() }), redirectOrigin);
        case 'terms':
          return showPage(res, 200, termsPage(action, step.terms), redirectOrigin);
        case 'patient': {
          const name = typeof req.query.name === 'string' ? req.query.name.slice(0, 100) : '';
          const patients = await findPatients(fhir, await pickerCaller(pending), name, `${rootOf(req, options.baseUrl)}/fhir`);
          return showPage(res, 200, patientPage(action, { name, patients }), redirectOrigin);
        }
        case 'approve':
          return showPage(res, 200, approvePage(action, await auth.clients.find(pending.request.clientId), pending.request.scope), redirectOrigin);
      }
    }),
  );

  router.post(
    '/auth/interaction/:id/sign-in',
    form,
    withPending(async (req, res, pending, id) => {
      const username = field(req, 'username');
      const userId = await passwordSignIn(auth.db, username, field(req, 'password'));
      // Recorded before the answer: a sign-in the audit trail cannot record does not happen.
      await fhir.store.create(signInEvent({ userId, clientId: pending.request.clientId, method: 'password' }));
      if (!userId) {
        logger.info({ event: 'sign-in-failed', method: 'password' }, 'sign-in failed');
        return showPage(res, 400, signInPage(at(id), { error: SIGN_IN_FAILED, username, providers: providerLinks(at(id)), notices: await notices() }));
      }
      setCookie(res, SESSION_COOKIE, await signedIn(auth.db, pending, userId), SESSION_SECONDS);
      res.redirect(303, at(id));
    }),
  );

  router.post(
    '/auth/interaction/:id/terms',
    form,
    withPending(async (req, res, pending, id) => {
      if (!pending.progress.userId) return void res.redirect(303, at(id));
      const terms = await currentTerms(auth.db);
      // Accepting a version that is no longer current accepts nothing: the page shows the new one.
      if (terms && String(terms.version) === field(req, 'version')) await answerTerms(auth.db, pending, terms.version, field(req, 'answer') === 'accept');
      res.redirect(303, at(id));
    }),
  );

  router.post(
    '/auth/interaction/:id/patient',
    form,
    withPending(async (req, res, pending, id) => {
      if (!pending.progress.userId) return void res.redirect(303, at(id));
      const patient = field(req, 'patient');
      const visible = await patientVisible(fhir, await pickerCaller(pending), patient, `${rootOf(req, options.baseUrl)}/fhir`);
      await answerPatient(auth.db, pending, patient, visible);
      res.redirect(303, at(id));
    }),
  );

  router.post(
    '/auth/interaction/:id/approve',
    form,
    withPending(async (req, res, pending, id) => {
      if (!pending.progress.userId) return void res.redirect(303, at(id));
      await answerApproval(auth.db, pending, field(req, 'answer') === 'approve');
      res.redirect(303, at(id));
    }),
  );

  router.get(
    '/auth/interaction/:id/idp/:provider',
    withPending(async (req, res, pending, id) => {
      const location = await startFederatedSignIn(auth, pending, String(req.params.provider), `${rootOf(req, options.baseUrl)}/auth/federation/callback`);
      setCookie(res, FEDERATION_COOKIE, id, PENDING_SECONDS);
      res.redirect(303, location);
    }),
  );

  router.get('/auth/federation/callback', async (req, res) => {
    const id = readCookie(req, FEDERATION_COOKIE.name);
    clearCookie(res, FEDERATION_COOKIE);
    try {
      const pending = id ? await loadPending(auth.db, id) : undefined;
      const currentUrl = new URL(req.originalUrl, `${rootOf(req, options.baseUrl)}/`);
      const userId = await finishFederatedSignIn(auth, pending, currentUrl);
      await fhir.store.create(signInEvent({ userId, clientId: pending?.request.clientId, method: 'federated' }));
      setCookie(res, SESSION_COOKIE, await signedIn(auth.db, pending!, userId), SESSION_SECONDS);
      res.redirect(303, at(id!));
    } catch (error) {
      if (!(error instanceof FederationError)) return failure(res, error);
      logger.info({ event: 'sign-in-failed', method: 'federated', reason: error.reason }, 'sign-in failed');
      try {
        await fhir.store.create(signInEvent({ clientId: error.pending?.request.clientId, method: 'federated' }));
      } catch (auditError) {
        return failure(res, auditError);
      }
      if (!error.pending || !id) return showPage(res, 400, messagePage('Sign-in failed', error.message));
      showPage(res, 400, signInPage(at(id), { error: error.message, providers: providerLinks(at(id)), notices: await notices() }));
    }
  });

  router.post('/auth/sign-out', async (req, res) => {
    try {
      const session = readCookie(req, SESSION_COOKIE.name);
      if (session) {
        const ended = await findSession(auth.db, session);
        await endSession(auth.db, session);
        if (ended) await fhir.store.create(signOutEvent(ended.userId));
      }
      clearCookie(res, SESSION_COOKIE);
      showPage(res, 200, messagePage('Signed out', 'You are signed out. Apps that kept access only while you were signed in have lost it.'));
    } catch (error) {
      failure(res, error);
    }
  });

  function providerLinks(action: string) {
    return auth.identityProviders.list().map((provider) => ({ name: provider.name, href: `${action}/idp/${provider.id}` }));
  }

  /** The signed-in user as the FHIR API would see them, reading patients: the picker lists only what they may see. */
  async function pickerCaller(pending: PendingAuthorization) {
    const user = await auth.users.find(pending.progress.userId!);
    return userCaller(auth.db, { clientId: pending.request.clientId, userId: pending.progress.userId!, scope: 'user/Patient.rs', practitionerRoleId: user?.practitionerRoleId });
  }

  function failure(res: Response, error: unknown): void {
    if (error instanceof RedirectableError) return void res.redirect(303, error.location());
    if (error instanceof OAuthError) return showPage(res, 400, messagePage('This request cannot be completed', `${error.description} (${error.error}).`));
    const retry = retryLater(error);
    if (retry) return void showPage(res.set(retry), 503, messagePage('Try again in a moment', 'The server cannot reach its database right now. Try again from the app shortly.'));
    logger.error({ err: error }, 'authorization endpoint failure');
    showPage(res, 500, messagePage('Something went wrong', 'The server could not complete this step. Try again from the app.'));
  }

  return router;
}

/** Query parameters, one value each (RFC 6749 §3.1: parameters must not repeat; a repeated one reads as absent and fails its check). */
function singleValues(query: Request['query']): Record<string, string | undefined> {
  const values: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(query)) values[name] = typeof value === 'string' ? value : undefined;
  return values;
}

function field(req: Request, name: string): string {
  const value = (req.body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : '';
}

/**
 * A page with its own strict policy: nothing but our stylesheet loads, framed only by the EHRs that embed the app
 * (APP_FRAME_ANCESTORS, else by no one), and forms may go only here or (through our redirect) to the app's
 * registered redirect URI.
 */
function sendPage(res: Response, frames: FramePolicy, status: number, body: string, redirectOrigin?: string): void {
  setFrameOptions(res, frames.pagesFrameOptions);
  res
    .status(status)
    .set({
      'Content-Security-Policy': `default-src 'none'; style-src 'self'; form-action 'self'${redirectOrigin ? ` ${redirectOrigin}` : ''}; frame-ancestors ${frames.pages}; base-uri 'none'`,
      'Cache-Control': 'no-store',
    })
    .type('html')
    .send(body);
}
