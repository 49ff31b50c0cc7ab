import type { Problem } from '../launch/errors.js';
import { useTitleFocus } from './useTitleFocus.js';

/** A launch or sign-in that failed: what happened, and the way on. Never a blank page. */
export function ProblemScreen({ problem, onSignIn }: { problem: Problem; onSignIn: () => void }) {
  const title = useTitleFocus<HTMLHeadingElement>(problem);
  return (
    <main id="main" class="narrow">
      <h1 ref={title} tabIndex={-1}>
        {problem.title}
      </h1>
      <div role="alert" class="alert">
        <p>{problem.message}</p>
      </div>
      {problem.action === 'sign-in' ? (
        <p>
          <button type="button" class="primary" onClick={onSignIn}>
            Sign in again
          </button>
        </p>
      ) : (
        <p>Close this window and open the app again from your EHR.</p>
      )}
    </main>
  );
}

export function SignedOutScreen({ revoked, onSignIn }: { revoked?: boolean; onSignIn: () => void }) {
  const title = useTitleFocus<HTMLHeadingElement>('signed-out');
  return (
    <main id="main" class="narrow">
      <h1 ref={title} tabIndex={-1}>
        Signed out
      </h1>
      <div role="status">
        <p>You are signed out. This window no longer holds any access to patient records.</p>
        {revoked === false && <p>The server could not be told; your access will end by itself when it expires.</p>}
      </div>
      <p>
        <button type="button" class="primary" onClick={onSignIn}>
          Sign in again
        </button>
      </p>
    </main>
  );
}

export function WaitingScreen({ message }: { message: string }) {
  return (
    <main id="main" class="narrow">
      <h1>CCP Exchange</h1>
      <p role="status">{message}</p>
    </main>
  );
}
