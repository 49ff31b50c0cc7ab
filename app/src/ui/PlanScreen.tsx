import { useEffect, useState } from 'preact/hooks';
import type { LoadFailure } from '../plan/load.js';
import { loadPlans } from '../plan/load.js';
import { localDate } from '../plan/review.js';
import type { PlansView, PlanView } from '../plan/view-model.js';
import { formatDate, formatDateTime, formatPeriod } from './format.js';
import { Link } from './navigation.js';
import { Activities, CareTeams, Concerns, Goals, PlanSection } from './PlanSections.js';
import { pathOf } from './routes.js';
import { RequestAccess } from './RequestAccess.js';
import type { Session } from './session.js';
import { useTitleFocus } from './useTitleFocus.js';

type Loaded = { state: 'loading' } | { state: 'done'; view: PlansView } | { state: 'failed'; failure: LoadFailure };

/** The plan, goals first. `id` is a plan picked in the app; without it, the launch's plan or the patient's current one. */
export function PlanScreen({ session, id, onPatient, onSessionEnded }: { session: Session; id?: string; onPatient: (patient: string | undefined) => void; onSessionEnded: () => void }) {
  const [loaded, setLoaded] = useState<Loaded>({ state: 'loading' });
  const title = useTitleFocus<HTMLHeadingElement>(id ?? 'plan');
  const carePlan = id ?? session.carePlanId;

  useEffect(() => {
    let current = true;
    setLoaded({ state: 'loading' });
    const target = carePlan ? { carePlan } : session.patientId ? { patient: session.patientId } : undefined;
    if (!target) return void setLoaded({ state: 'failed', failure: { kind: 'error', message: 'No patient is selected. Open the app from a patient’s record in your EHR, or sign in again and choose a patient.' } });
    void loadPlans(session.client, target, localDate(new Date())).then((result) => {
      if (!current) return;
      if ('kind' in result) {
        if (result.kind === 'session-ended') onSessionEnded();
        setLoaded({ state: 'failed', failure: result });
      } else {
        setLoaded({ state: 'done', view: result });
        onPatient(result.plan?.patient?.replace(/^Patient\//, ''));
      }
    });
    return () => {
      current = false;
    };
  }, [carePlan, session]);

  return (
    <main id="main">
      <h1 ref={title} tabIndex={-1}>
        Care plan
      </h1>
      {loaded.state === 'loading' && <p role="status">Loading the plan…</p>}
      {loaded.state === 'failed' && <Failure failure={loaded.failure} />}
      {loaded.state === 'failed' && loaded.failure.kind === 'no-access' && session.patientId && <RequestAccess session={session} patientId={session.patientId} />}
      {loaded.state === 'done' && loaded.view.plan && <Plan plan={loaded.view.plan} others={loaded.view.plans.filter((plan) => plan.id !== loaded.view.plan!.id)} />}
    </main>
  );
}

export function Failure({ failure }: { failure: LoadFailure }) {
  if (failure.kind === 'no-access')
    return (
      <div role="alert" class="notice">
        <p>
          <strong>You have no access to a plan for this patient.</strong>
        </p>
        <p>Your organization can request access to the patient’s plan, with the patient’s express consent.</p>
      </div>
    );
  if (failure.kind === 'session-ended')
    return (
      <div role="alert" class="alert">
        <p>Your session has ended. Sign in again to go on.</p>
      </div>
    );
  return (
    <div role="alert" class="alert">
      <p>{failure.message}</p>
    </div>
  );
}

function Plan({ plan, others }: { plan: PlanView; others: PlansView['plans'] }) {
  return (
    <>
      <div class="plan-head">
        <p class="plan-title">
          {plan.title} <span class={`status status-${plan.status}`}>{plan.statusLabel}</span>
        </p>
        <dl class="fields summary">
          <div>
            <dt>Period</dt>
            <dd>{formatPeriod(plan.period)}</dd>
          </div>
          <div>
            <dt>Next review</dt>
            <dd>
              {plan.review.date ? formatDate(plan.review.date) : 'not set'}
              {plan.review.overdue && (
                <strong class="overdue">
                  {' '}
                  Overdue by {plan.review.daysOverdue} {plan.review.daysOverdue === 1 ? 'day' : 'days'}
                </strong>
              )}
            </dd>
          </div>
          {plan.author && (
            <div>
              <dt>Author</dt>
              <dd>{plan.author}</dd>
            </div>
          )}
          {plan.lastUpdated && (
            <div>
              <dt>Last changed</dt>
              <dd>
                {formatDateTime(plan.lastUpdated)} (version {plan.versionId}) <Link href={pathOf({ screen: 'history', id: plan.id })}>History of changes</Link>
              </dd>
            </div>
          )}
        </dl>
      </div>
      <PlanSection id="goals" title="Goals">
        <Goals goals={plan.goals} />
      </PlanSection>
      <PlanSection id="concerns" title="Health concerns">
        <Concerns concerns={plan.concerns} />
      </PlanSection>
      <PlanSection id="activities" title="Activities">
        <Activities activities={plan.activities} />
      </PlanSection>
      <PlanSection id="care-team" title="Care team">
        <CareTeams teams={plan.careTeams} />
      </PlanSection>
      {plan.notes.length > 0 && (
        <PlanSection id="notes" title="Notes">
          <ul class="rows">
            {plan.notes.map((note, n) => (
              <li key={n}>{note}</li>
            ))}
          </ul>
        </PlanSection>
      )}
      {others.length > 0 && (
        <PlanSection id="other-plans" title="Other plans for this patient">
          <ul class="rows">
            {others.map((other) => (
              <li key={other.id}>
                <Link href={pathOf({ screen: 'plan', id: other.id })}>{other.title}</Link> <span class="tag">{other.statusLabel}</span> <span class="muted">{formatPeriod(other.period)}</span>
              </li>
            ))}
          </ul>
        </PlanSection>
      )}
    </>
  );
}
