import type { CarePlan, CareTeam, CodeableConcept, Condition, Goal, Reference, Resource } from 'fhir/r4';
import type { ResourceStore } from '../store/resource-store.js';
import type { WriteRule } from '../rest/write-rules.js';
import { isCcp, patientOf } from './care-plan.js';
import { planNarrative } from './narrative.js';

/**
 * Every CCP write gets a narrative generated from the plan's content (whatever text the client sent is replaced):
 * the patient's goals first, then health concerns, care team, activities, period and status. Goals, conditions
 * and care teams are read in the write's transaction.
 */
export const narrativeRule: WriteRule = {
  name: 'ccp-narrative',
  resourceTypes: ['CarePlan'],
  async check(change, { store, baseUrl }) {
    const plan = change.resource;
    if (!isCcp(plan)) return;
    const patient = patientOf(plan.subject);
    const look = <T extends Resource>(type: T['resourceType'], describe: (resource: T) => string | undefined) => (reference: Reference) =>
      lookUp(reference, type, { plan, patient, store, baseUrl }, describe);
    const goals = await inTurn(plan.goal, look<Goal>('Goal', (goal) => conceptText(goal.description)));
    const concerns = await inTurn(plan.addresses, look<Condition>('Condition', (condition) => conceptText(condition.code)));
    const careTeams = await inTurn(plan.careTeam, look<CareTeam>('CareTeam', (team) => team.name));
    const activities = (plan.activity ?? []).map(
      ({ detail, reference }) =>
        `${detail?.description ?? conceptText(detail?.code) ?? reference?.display ?? 'activity not described'}${detail?.status ? ` (${detail.status})` : ''}`,
    );
    const text = planNarrative({ goals, concerns, careTeams, activities, period: plan.period, status: plan.status });
    return { ...plan, text } satisfies CarePlan;
  },
};

interface Scope {
  plan: CarePlan;
  patient?: string;
  store: ResourceStore;
  baseUrl: string;
}

/**
 * What a referenced Goal, Condition or CareTeam says: read from the plan's contained resources or the store.
 * Only a resource about the plan's own patient is quoted, so a plan cannot carry another patient's record into
 * its narrative; otherwise the reference's display (the writer's own words) or the reference itself.
 */
async function lookUp<T extends Resource>(reference: Reference, type: T['resourceType'], scope: Scope, describe: (resource: T) => string | undefined): Promise<string> {
  const fallback = reference.display ?? reference.reference ?? `${type} not described`;
  const literal = reference.reference?.startsWith(`${scope.baseUrl}/`) ? reference.reference.slice(scope.baseUrl.length + 1) : reference.reference;
  let resource: Resource | undefined;
  if (literal?.startsWith('#')) {
    resource = scope.plan.contained?.find((contained) => contained.resourceType === type && contained.id === literal.slice(1));
  } else if (literal?.startsWith(`${type}/`)) {
    const id = literal.slice(type.length + 1);
    const found = /^[A-Za-z0-9\-.]{1,64}$/.test(id) ? await scope.store.read(type, id) : undefined;
    resource = found?.kind === 'found' && scope.patient !== undefined && patientOf((found.resource as Goal | Condition | CareTeam).subject) === scope.patient ? found.resource : undefined;
  }
  return (resource && describe(resource as T)) || fallback;
}

/** One read at a time: a transaction is one connection. */
async function inTurn<T>(items: T[] | undefined, describe: (item: T) => Promise<string>): Promise<string[]> {
  const texts: string[] = [];
  for (const item of items ?? []) texts.push(await describe(item));
  return texts;
}

function conceptText(concept: CodeableConcept | undefined): string | undefined {
  return concept?.text ?? concept?.coding?.find((coding) => coding.display)?.display ?? concept?.coding?.[0]?.code;
}
