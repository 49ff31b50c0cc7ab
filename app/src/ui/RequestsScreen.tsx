import { useEffect, useRef, useState } from 'preact/hooks';
import { disengage, loadRequests, review, type Outcome } from '../requests/load.js';
import type { RequestRow } from '../requests/queue.js';
import { formatDateTime } from './format.js';
import type { Session } from './session.js';
import { useTitleFocus } from './useTitleFocus.js';

type Loaded = { state: 'loading' } | { state: 'done'; pending: RequestRow[]; approved: RequestRow[] } | { state: 'failed'; message: string };
type Said = { kind: 'status' | 'alert'; text: string } | undefined;

/**
 * The hosting organization's coordinators: the registration requests waiting for review, each approved or
 * rejected with a reason, and the approved registrations, each of which can be ended (disengagement).
 */
export function RequestsScreen({ session, onSessionEnded }: { session: Session; onSessionEnded: () => void }) {
  const [loaded, setLoaded] = useState<Loaded>({ state: 'loading' });
  const [said, setSaid] = useState<Said>();
  const [generation, setGeneration] = useState(0);
  const title = useTitleFocus<HTMLHeadingElement>('requests');
  const message = useRef<HTMLDivElement>(null);

  useEffect(() => {
    let current = true;
    void Promise.all([loadRequests(session.client, 'requested'), loadRequests(session.client, 'completed')]).then(([pending, approved]) => {
      if (!current) return;
      const failed = [pending, approved].find((result): result is Extract<Outcome, { ok: false }> => !Array.isArray(result));
      if (failed) {
        if (failed.status === 401) onSessionEnded();
        return setLoaded({ state: 'failed', message: failed.message });
      }
      setLoaded({ state: 'done', pending: pending as RequestRow[], approved: (approved as RequestRow[]).filter((row) => row.consentStatus === 'active') });
    });
    return () => {
      current = false;
    };
  }, [session, generation]);

  /** Says how an action went, moves focus to those words (the row acted on may be gone), and reloads the lists. */
  const after = (outcome: Outcome, done: string) => {
    if (!outcome.ok && outcome.status === 401) onSessionEnded();
    setSaid(outcome.ok ? { kind: 'status', text: done } : { kind: 'alert', text: outcome.message });
    setGeneration((n) => n + 1);
    setTimeout(() => message.current?.focus(), 0);
  };

  return (
    <main id="main">
      <h1 ref={title} tabIndex={-1}>
        Registration requests
      </h1>
      <div ref={message} tabIndex={-1} class="said">
        <p role="status">{said?.kind === 'status' ? said.text : ''}</p>
        {said?.kind === 'alert' && (
          <p role="alert" class="notice">
            {said.text}
          </p>
        )}
      </div>
      {loaded.state === 'loading' && <p>Loading the requests…</p>}
      {loaded.state === 'failed' && (
        <p role="alert" class="notice">
          {loaded.message}
        </p>
      )}
      {loaded.state === 'done' && (
        <>
          <section class="plan-section" aria-labelledby="pending-title">
            <h2 id="pending-title">Waiting for review</h2>
            {loaded.pending.length === 0 ? (
              <p class="muted">No request is waiting for review.</p>
            ) : (
              <ul class="requests">
                {loaded.pending.map((row) => (
                  <PendingRequest key={row.taskId} row={row} onDecide={async (decision, reason) => after(await review(session.client, row.taskId, decision, reason), decision === 'approve' ? 'Approved' : 'Rejected')} />
                ))}
              </ul>
            )}
          </section>
          <section class="plan-section" aria-labelledby="approved-title">
            <h2 id="approved-title">Approved registrations</h2>
            {loaded.approved.length === 0 ? (
              <p class="muted">No organization has an approved registration.</p>
            ) : (
              <ul class="requests">
                {loaded.approved.map((row) => (
                  <ApprovedRegistration key={row.taskId} row={row} onDisengage={async () => after(await disengage(session.client, row.patient, row.organization), 'Disengaged')} />
                ))}
              </ul>
            )}
          </section>
        </>
      )}
    </main>
  );
}

function Fields({ row }: { row: RequestRow }) {
  return (
    <dl class="fields">
      <div>
        <dt>Organization</dt>
        <dd>{row.organizationName}</dd>
      </div>
      <div>
        <dt>Access</dt>
        <dd>{row.levelText}</dd>
      </div>
      <div>
        <dt>Consent obtained by</dt>
        <dd>{row.obtainedBy}</dd>
      </div>
      <div>
        <dt>Consent obtained</dt>
        <dd>
          {formatDateTime(row.obtainedAt) || 'not stated'}, {row.method.toLowerCase()}
        </dd>
      </div>
      <div>
        <dt>Requested</dt>
        <dd>{formatDateTime(row.requestedAt) || 'not stated'}</dd>
      </div>
    </dl>
  );
}

function PendingRequest({ row, onDecide }: { row: RequestRow; onDecide: (decision: 'approve' | 'reject', reason?: string) => Promise<void> }) {
  const [rejecting, setRejecting] = useState(false);
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const reasonField = useRef<HTMLTextAreaElement>(null);
  const id = `request-${row.taskId}`;

  const decide = async (decision: 'approve' | 'reject', why?: string) => {
    setBusy(true);
    await onDecide(decision, why);
    setBusy(false);
  };

  return (
    <li class="request" aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>{row.patientName}</h3>
      <Fields row={row} />
      {!rejecting ? (
        <p class="actions">
          <button type="button" class="primary" disabled={busy} aria-describedby={`${id}-title`} onClick={() => void decide('approve')}>
            Approve
          </button>
          <button
            type="button"
           
            disabled={busy}
            aria-describedby={`${id}-title`}
            onClick={() => {
              setRejecting(true);
              setTimeout(() => reasonField.current?.focus(), 0);
            }}
          >
            Reject
          </button>
        </p>
      ) : (
        <form
          noValidate
          onSubmit={(event) => {
            event.preventDefault();
            if (!reason.trim()) {
              setError('Enter the reason for rejecting this request.');
              reasonField.current?.focus();
              return;
            }
            setError(undefined);
            void decide('reject', reason);
          }}
        >
          <div class="field">
            <label for={`${id}-reason`}>Reason for rejecting (required)</label>
            <textarea
              id={`${id}-reason`}
              ref={reasonField}
              required
              aria-required="true"
              aria-invalid={error ? 'true' : undefined}
              aria-describedby={error ? `${id}-reason-error` : undefined}
              rows={3}
              value={reason}
              onInput={(event) => setReason((event.target as HTMLTextAreaElement).value)}
            />
            {error && (
              <p id={`${id}-reason-error`} class="error">
                {error}
              </p>
            )}
          </div>
          <p class="actions">
            <button type="submit" class="primary" disabled={busy}>
              Reject request
            </button>
            <button type="button" onClick={() => (setRejecting(false), setError(undefined))}>
              Cancel
            </button>
          </p>
        </form>
      )}
    </li>
  );
}

function ApprovedRegistration({ row, onDisengage }: { row: RequestRow; onDisengage: () => Promise<void> }) {
  const [busy, setBusy] = useState(false);
  const id = `registration-${row.taskId}`;
  return (
    <li class="request" aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>
        {row.patientName}: {row.organizationName}
      </h3>
      <Fields row={row} />
      <p class="actions">
        <button
          type="button"
         
          disabled={busy}
          aria-describedby={`${id}-title`}
          onClick={async () => {
            setBusy(true);
            await onDisengage();
            setBusy(false);
          }}
        >
          Disengage the organization
        </button>
      </p>
    </li>
  );
}
