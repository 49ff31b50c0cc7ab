import type { Patient } from 'fhir/r4';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { carePlanInContext, showPatientBanner } from '../launch/context.js';
import { authorizationProblem, CALLBACK_PROBLEMS, launchProblem, REFUSED_LAUNCH, type Problem } from '../launch/errors.js';
import { completeSignIn, forgetSession, handBackSignIn, hasSession, isSignInFrame, restoreSession, SIGN_IN_ANSWER, signOut, startEhrLaunch, startStandalone, type Client } from '../launch/smart.js';
import { sessionEndsAt } from '../launch/session-clock.js';
import { APP_PATH, decideStart } from '../launch/start.js';
import { loadPatient } from '../plan/load.js';
import { HistoryScreen } from './HistoryScreen.js';
import { Link, navigate, useRoute } from './navigation.js';
import { PatientBanner } from './PatientBanner.js';
import { PlanScreen } from './PlanScreen.js';
import { RequestsScreen } from './RequestsScreen.js';
import { mayReview } from '../requests/queue.js';
import { SessionWarning } from './SessionWarning.js';
import { ProblemScreen, SignedOutScreen, WaitingScreen } from './ProblemScreen.js';
import { SignInFrame } from './SignInFrame.js';
import type { Session } from './session.js';

type Phase =
  | { phase: 'waiting'; message: string }
  | { phase: 'problem'; problem: Problem }
  /** The server's sign-in pages in a frame of the app's own (launch/smart.ts, signInFramed). */
  | { phase: 'signing-in'; url: string; ehr: boolean }
  | { phase: 'signed-out'; revoked?: boolean }
  | { phase: 'ready'; session: Session };

function sessionOf(client: Client): Session {
  const tokens = client.state.tokenResponse ?? {};
  return {
    client,
    patientId: client.patient.id ?? undefined,
    carePlanId: carePlanInContext(tokens.fhirContext),
    banner: showPatientBanner(tokens),
    endsAt: sessionEndsAt(tokens.scope, client.getIdToken()),
  };
}

export function App() {
  const [phase, setPhase] = useState<Phase>({ phase: 'waiting', message: 'Opening the app…' });

  const fail = useCallback((problem: Problem) => {
    forgetSession();
    setPhase({ phase: 'problem', problem });
  }, []);

  const ready = useCallback((client: Client) => setPhase({ phase: 'ready', session: sessionOf(client) }), []);

  const signIn = useCallback(() => {
    setPhase({ phase: 'waiting', message: 'Taking you to sign in…' });
    history.replaceState(null, '', APP_PATH);
    startStandalone()
      .then((url) => url && setPhase({ phase: 'signing-in', url, ehr: false }))
      .catch((error: unknown) => fail(launchProblem(error)));
  }, [fail]);

  /** The framed sign-in's answer: the same checks as a redirect back, on the state this page holds. */
  const answered = useCallback(
    (url: URL, ehr: boolean) => {
      const start = decideStart(url, false);
      if (start.kind === 'authorization-error') return fail(authorizationProblem(start.error, start.description));
      if (start.kind !== 'callback') return fail(CALLBACK_PROBLEMS.broken);
      setPhase({ phase: 'waiting', message: 'Completing the sign-in…' });
      completeSignIn(start, true)
        .then((result) => ('title' in result ? setPhase({ phase: 'problem', problem: result }) : ready(result)))
        .catch((error: unknown) => fail(launchProblem(error, ehr ? 'ehr' : undefined)));
    },
    [fail, ready],
  );

  useEffect(() => {
    const start = decideStart(new URL(location.href), hasSession(), isSignInFrame());
    switch (start.kind) {
      case 'ehr-launch':
        setPhase({ phase: 'waiting', message: 'Connecting to the EHR’s launch…' });
        forgetSession();
        startEhrLaunch(start.launch)
          .then((url) => url && setPhase({ phase: 'signing-in', url, ehr: true }))
          .catch((error: unknown) => fail(launchProblem(error, 'ehr')));
        return;
      case 'hand-back':
        setPhase({ phase: 'waiting', message: 'Completing the sign-in…' });
        return handBackSignIn();
      case 'refused':
        return fail(REFUSED_LAUNCH[start.reason]);
      case 'authorization-error':
        return fail(authorizationProblem(start.error, start.description));
      case 'broken-callback':
        return fail(CALLBACK_PROBLEMS.broken);
      case 'callback':
        setPhase({ phase: 'waiting', message: 'Completing the sign-in…' });
        completeSignIn(start)
          .then((result) => ('title' in result ? setPhase({ phase: 'problem', problem: result }) : ready(result)))
          .catch((error: unknown) => fail(launchProblem(error)));
        return;
      case 'session':
        restoreSession()
          .then(ready)
          .catch((error: unknown) => fail(launchProblem(error)));
        return;
      case 'signed-out':
        return setPhase({ phase: 'signed-out' });
      case 'standalone':
        return signIn();
    }
  }, []);

  if (phase.phase === 'waiting') return <WaitingScreen message={phase.message} />;
  if (phase.phase === 'signing-in') return <SignInFrame url={phase.url} answerType={SIGN_IN_ANSWER} onAnswer={(url) => answered(url, phase.ehr)} />;
  if (phase.phase === 'problem') return <ProblemScreen problem={phase.problem} onSignIn={signIn} />;
  if (phase.phase === 'signed-out') return <SignedOutScreen revoked={phase.revoked} onSignIn={signIn} />;
  return (
    <SignedIn
      session={phase.session}
      onSignOut={async () => {
        setPhase({ phase: 'waiting', message: 'Signing out…' });
        const { revoked } = await signOut(phase.session.client);
        history.replaceState(null, '', '/app/signed-out');
        setPhase({ phase: 'signed-out', revoked });
      }}
      onRenew={async () => {
        // A new sign-in, not the same session again: ending this one makes the server ask for the password, and
        // the new session has its own 8 hours. The launch's context does not carry over: the user picks the patient.
        setPhase({ phase: 'waiting', message: 'Taking you to sign in…' });
        await signOut(phase.session.client);
        signIn();
      }}
      onSessionEnded={() => forgetSession()}
    />
  );
}

function SignedIn({ session, onSignOut, onRenew, onSessionEnded }: { session: Session; onSignOut: () => void; onRenew: () => void; onSessionEnded: () => void }) {
  const route = useRoute();
  const [patientId, setPatientId] = useState(session.patientId);
  const [patient, setPatient] = useState<Patient | undefined>();
  const [user, setUser] = useState<string | undefined>();

  useEffect(() => {
    if (!session.banner || !patientId) return;
    let current = true;
    void loadPatient(session.client, patientId).then((found) => current && setPatient(found));
    return () => {
      current = false;
    };
  }, [patientId, session]);

  useEffect(() => {
    const fhirUser = session.client.getFhirUser();
    if (!fhirUser) return;
    setUser(fhirUser);
    session.client
      .request<{ name?: Array<{ text?: string; given?: string[]; family?: string }> }>(fhirUser)
      .then((person) => {
        const name = person.name?.[0];
        const text = name?.text ?? [...(name?.given ?? []), name?.family ?? ''].join(' ').trim();
        if (text) setUser(text);
      })
      .catch(() => undefined);
  }, [session]);

  return (
    <>
      <a class="skip" href="#main">
        Skip to the plan
      </a>
      <header class="top">
        <p class="brand">
          <a
            href="/app/"
            onClick={(event) => {
              event.preventDefault();
              navigate('/app/');
            }}
          >
            CCP Exchange
          </a>
        </p>
        <div class="who">
          {mayReview(session.client.state.tokenResponse?.scope) && <Link href="/app/requests">Registration requests</Link>}
          {user && <span>Signed in as {user}</span>}
          <button type="button" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      {session.endsAt !== undefined && <SessionWarning endsAt={session.endsAt} onRenew={onRenew} onSignOut={onSignOut} />}
      {session.banner && patientId && route.screen !== 'requests' && <PatientBanner patient={patient} reference={`Patient/${patientId}`} />}
      {route.screen === 'requests' ? (
        <RequestsScreen session={session} onSessionEnded={onSessionEnded} />
      ) : route.screen === 'history' ? (
        <HistoryScreen session={session} id={route.id} onSessionEnded={onSessionEnded} />
      ) : (
        <PlanScreen session={session} id={route.id} onPatient={(id) => id && setPatientId(id)} onSessionEnded={onSessionEnded} />
      )}
    </>
  );
}
