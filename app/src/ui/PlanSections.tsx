import type { ComponentChildren } from 'preact';
import type { ActivityView, CareTeamView, ConcernView, GoalView } from '../plan/view-model.js';
import { formatDate } from './format.js';

/** A section of the plan: a landmark named by its h2, as the browser tests and screen readers find it. */
export function PlanSection({ id, title, children }: { id: string; title: string; children: ComponentChildren }) {
  return (
    <section aria-labelledby={`${id}-title`} class="plan-section">
      <h2 id={`${id}-title`}>{title}</h2>
      {children}
    </section>
  );
}

function Field({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <div>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

const NotRead = () => <p class="muted">Shown as the plan names it: the details could not be read.</p>;

export function Goals({ goals }: { goals: GoalView[] }) {
  if (!goals.length) return <p>The plan has no goals yet.</p>;
  return (
    <ul class="cards">
      {goals.map((goal) => (
        <li key={goal.key} class="card">
          <h3>{goal.description}</h3>
          {goal.unresolved ? (
            <NotRead />
          ) : (
            <dl class="fields">
              <Field label="Status">
                {goal.lifecycleStatus}
                {goal.achievementStatus && `, ${goal.achievementStatus.toLowerCase()}`}
              </Field>
              {goal.priority && <Field label="Priority">{goal.priority}</Field>}
              <Field label="Target">{goal.targets.length ? goal.targets.join('; ') : 'none set'}</Field>
              {goal.startDate && <Field label="Started">{formatDate(goal.startDate)}</Field>}
              <Field label="Addresses">{goal.addresses.length ? goal.addresses.join(', ') : 'no concern named'}</Field>
              <Field label="Expressed by">{goal.expressedBy ?? 'not recorded'}</Field>
            </dl>
          )}
        </li>
      ))}
    </ul>
  );
}

export function Concerns({ concerns }: { concerns: ConcernView[] }) {
  if (!concerns.length) return <p>The plan names no health concerns.</p>;
  const active = concerns.filter((concern) => concern.active);
  const inactive = concerns.filter((concern) => !concern.active);
  const list = (items: ConcernView[]) => (
    <ul class="rows">
      {items.map((concern) => (
        <li key={concern.key}>
          <span class="row-title">{concern.name}</span>
          {concern.clinicalStatus && <span class="tag">{concern.clinicalStatus}</span>}
          {concern.onset && <span class="muted"> since {formatDate(concern.onset)}</span>}
        </li>
      ))}
    </ul>
  );
  return (
    <>
      <h3>Active</h3>
      {active.length ? list(active) : <p>None.</p>}
      {inactive.length > 0 && (
        <>
          <h3>Inactive</h3>
          {list(inactive)}
        </>
      )}
    </>
  );
}

export function Activities({ activities }: { activities: ActivityView[] }) {
  if (!activities.length) return <p>The plan has no activities yet.</p>;
  return (
    <table class="table">
      <thead>
        <tr>
          <th scope="col">Activity</th>
          <th scope="col">Responsible</th>
          <th scope="col">Status</th>
          <th scope="col">When</th>
        </tr>
      </thead>
      <tbody>
        {activities.map((activity) => (
          <tr key={activity.key}>
            <th scope="row">
              {activity.doNotPerform && <strong>Do not: </strong>}
              {activity.what}
            </th>
            <td>{activity.responsible.length ? activity.responsible.join(', ') : 'not assigned'}</td>
            <td>{activity.status ?? 'not stated'}</td>
            <td>{activity.when ?? 'not scheduled'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function CareTeams({ teams }: { teams: CareTeamView[] }) {
  if (!teams.length) return <p>The plan names no care team yet.</p>;
  return (
    <>
      {teams.map((team) => (
        <div key={team.key} class="team">
          <h3>
            {team.name}
            {team.status && team.status !== 'Active' && <span class="tag"> {team.status}</span>}
          </h3>
          {team.unresolved ? (
            <NotRead />
          ) : team.members.length ? (
            <ul class="cards">
              {team.members.map((member) => (
                <li key={member.key} class="card">
                  <p class="row-title">{member.name}</p>
                  <dl class="fields">
                    <Field label="Role">{member.roles.length ? member.roles.join(', ') : 'not stated'}</Field>
                    {member.organization && <Field label="Organization">{member.organization}</Field>}
                    <Field label="Contact">
                      {member.contact.length ? (
                        <ul class="plain">
                          {member.contact.map((line) => (
                            <li key={line}>{line}</li>
                          ))}
                        </ul>
                      ) : (
                        'not recorded'
                      )}
                    </Field>
                  </dl>
                </li>
              ))}
            </ul>
          ) : (
            <p>No current members.</p>
          )}
        </div>
      ))}
    </>
  );
}
