// One synthetic patient with a Coordinated Care Plan: the Patient, 2–4 Goals, 2–3 Conditions (health concerns), a
// CareTeam, the CCP itself, 1–2 approved partner registrations (Consent + Task), for about one patient in ten a
// consent directive, and the audit history those steps and later partner reads would have left. Everything is a
// function of (seed, index, anchor): any patient can be made again alone.
import { CAREPLAN_CATEGORY, CCP_CODE, CONSENT_CATEGORY, CONSENT_SCOPE, DIRECTIVE_CODE, PARTICIPATION_TYPE, PRIVACY_SCOPE, ACT_CODE, RECIPIENT_ROLE } from '../../dist/server/conformance/consent-vocabulary.js';
import { accessPeriod, registrationConsent, registrationTask } from '../../dist/server/consent/operations/registration-records.js';
import { auditHistory } from './audit.mjs';
import { CITIES, CONCERNS, FAMILY, GIVEN_FEMALE, GIVEN_MALE, SNOMED } from './clinical.mjs';
import { random, seedOf } from './random.mjs';
import { DEFAULT_LAYOUT } from './shared.mjs';

export const MRN_SYSTEM = 'https://ccp-exchange.example.org/mrn';
const DAY = 24 * 3600 * 1000;
const HOUR = 3600 * 1000;
/** The server's default REGISTRATION_DAYS: an approved registration lasts this long. */
const REGISTRATION_DAYS = 365;
/** Share of patients with a consent directive. */
const DIRECTIVE_SHARE = 0.1;

export const patientId = (index) => `gen-p-${index}`;
export const mrnOf = (index) => `GEN${String(index).padStart(8, '0')}`;

const iso = (ms) => new Date(Math.floor(ms / 1000) * 1000).toISOString();
const day = (ms) => iso(ms).slice(0, 10);
const ref = (type, id) => ({ reference: `${type}/${id}` });

/**
 * The resources of patient `index`, in an order a transaction can write them in (what a plan points at before
 * the plan: the CCP narrative rule reads its goals, concerns and care team in the write's transaction), and
 * what the growth measurement needs to know about them. `layout` (shared.mjs) names the organizations and staff;
 * `audit: false` leaves out the made-up audit history (the resources stay the same).
 */
export function patientResources(index, { seed, anchor, layout = DEFAULT_LAYOUT, audit = true }) {
  const { coordinators, host, hostClinicians, partnerIds, partnerStaff } = layout;
  const rng = random(seedOf('patient', seed, index));
  const p = patientId(index);
  const female = rng.chance(0.52);
  const place = rng.pick(CITIES);
  const patient = {
    resourceType: 'Patient',
    id: p,
    active: true,
    identifier: [{ use: 'usual', type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] }, system: MRN_SYSTEM, value: mrnOf(index) }],
    name: [{ use: 'official', family: rng.pick(FAMILY), given: [rng.pick(female ? GIVEN_FEMALE : GIVEN_MALE)] }],
    telecom: [{ system: 'phone', value: `613-555-${String(rng.int(0, 9999)).padStart(4, '0')}`, use: 'home' }],
    gender: female ? 'female' : 'male',
    birthDate: day(Date.UTC(rng.int(1928, 1978), rng.int(0, 11), rng.int(1, 28))),
    address: [{ use: 'home', line: [`${rng.int(1, 999)} ${rng.pick(['Main', 'King', 'Queen', 'Bank', 'Elgin', 'Rideau'])} Street`], ...place, country: 'CA' }],
    generalPractitioner: [ref('Practitioner', rng.pick(hostClinicians).practitioner)],
  };

  const planStart = anchor - rng.int(30, 700) * DAY;
  const author = rng.pick(coordinators);
  const concerns = rng.sample(CONCERNS, rng.int(2, 3));
  const conditions = concerns.map((concern, k) => ({
    resourceType: 'Condition',
    id: `gen-cond-${index}-${k + 1}`,
    clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
    verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
    category: [{ coding: [{ system: 'http://hl7.org/fhir/us/core/CodeSystem/condition-category', code: 'health-concern', display: 'Health Concern' }] }],
    code: { coding: [{ system: SNOMED, code: concern.code, display: concern.display }], text: concern.display },
    subject: ref('Patient', p),
    onsetDateTime: day(planStart - rng.int(60, 4000) * DAY),
    recordedDate: iso(planStart - rng.int(0, 20) * DAY),
    asserter: ref('Practitioner', author.practitioner),
  }));
  const goalCount = rng.int(2, 4);
  const goals = Array.from({ length: goalCount }, (_, k) => {
    const concern = concerns[k % concerns.length];
    return {
      resourceType: 'Goal',
      id: `gen-goal-${index}-${k + 1}`,
      lifecycleStatus: 'active',
      achievementStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/goal-achievement', code: rng.pick(['in-progress', 'improving', 'no-change']) }] },
      priority: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/goal-priority', code: rng.pick(['high-priority', 'medium-priority']) }] },
      description: { text: concern.goals[Math.floor(k / concerns.length) % concern.goals.length] },
      subject: ref('Patient', p),
      startDate: day(planStart),
      target: [{ dueDate: day(planStart + rng.int(90, 365) * DAY) }],
      addresses: [ref('Condition', conditions[k % concerns.length].id)],
    };
  });

  // Partners of this patient, each with a registration approved by a hosting coordinator.
  const partners = rng.sample(partnerIds, rng.int(1, 2));
  const partnerPeople = partners.map((org) => rng.sample(partnerStaff.get(org).filter((person) => person.code !== 'viewer'), 2));
  const careTeam = {
    resourceType: 'CareTeam',
    id: `gen-ct-${index}`,
    status: 'active',
    name: `Care team of ${mrnOf(index)}`,
    subject: ref('Patient', p),
    period: { start: day(planStart) },
    participant: [
      { role: [{ text: 'care coordinator' }], member: ref('Practitioner', author.practitioner), onBehalfOf: ref('Organization', host) },
      ...partnerPeople.flatMap((people) => people.map((person) => ({ role: [{ text: person.code }], member: ref('Practitioner', person.practitioner), onBehalfOf: ref('Organization', person.organization) }))),
    ],
    managingOrganization: [ref('Organization', host)],
  };
  const plan = {
    resourceType: 'CarePlan',
    id: `gen-cp-${index}`,
    status: 'active',
    intent: 'plan',
    category: [{ coding: [{ system: CAREPLAN_CATEGORY, code: CCP_CODE }] }],
    title: 'Coordinated care plan',
    subject: ref('Patient', p),
    period: { start: day(planStart) },
    created: iso(planStart),
    author: ref('Practitioner', author.practitioner),
    careTeam: [ref('CareTeam', careTeam.id)],
    addresses: conditions.map((condition) => ref('Condition', condition.id)),
    goal: goals.map((goal) => ref('Goal', goal.id)),
    activity: concerns.map((concern, k) => ({
      detail: {
        kind: 'ServiceRequest',
        status: rng.pick(['scheduled', 'in-progress', 'not-started']),
        description: concern.activities[k % concern.activities.length],
        performer: [ref('Practitioner', rng.pick(partnerPeople.flat()).practitioner)],
      },
    })),
  };

  const registrations = partners.map((organization, k) => {
    const obtainedBy = partnerPeople[k][0];
    const requestedAt = Math.max(planStart + rng.int(1, 10) * DAY, anchor - rng.int(5, 330) * DAY) + rng.int(8, 17) * HOUR;
    const approvedAt = requestedAt + rng.int(1, 48) * HOUR;
    const registration = {
      patient: p,
      organization,
      level: rng.chance(0.6) ? 'modify' : 'view',
      obtainedBy: obtainedBy.practitioner,
      obtainedAt: iso(requestedAt - rng.int(1, 72) * HOUR),
      method: 'verbal',
      now: new Date(iso(requestedAt)),
    };
    const consentId = `gen-reg-${index}-${k + 1}`;
    const reviewer = rng.pick(coordinators);
    // As $ccp-register wrote them, then as $approve changed them (server/consent/operations/review.ts, approve.ts).
    const proposed = registrationConsent(registration);
    const consent = { ...proposed, id: consentId, status: 'active', provision: { ...proposed.provision, period: accessPeriod(new Date(iso(approvedAt)), REGISTRATION_DAYS) } };
    const requested = registrationTask(registration, consentId, host, plan.id);
    const task = {
      ...requested,
      id: `gen-task-${index}-${k + 1}`,
      status: 'completed',
      businessStatus: { text: 'approved' },
      lastModified: iso(approvedAt),
      ...(rng.chance(0.5) ? { statusReason: { text: 'in the circle of care' } } : {}),
    };
    return { consent, task, organization, obtainedBy, reviewer, requestedAt, approvedAt };
  });

  const lastApproval = Math.max(...registrations.map((r) => r.approvedAt));
  let directive;
  if (rng.chance(DIRECTIVE_SHARE)) {
    // Withhold the plan from one of the patient's own partners (or one person there), so the directive bites.
    const target = rng.pick(registrations);
    const actor = rng.chance(0.7) ? ref('Organization', target.organization) : ref('Practitioner', rng.pick(partnerStaff.get(target.organization)).practitioner);
    directive = {
      resourceType: 'Consent',
      id: `gen-dir-${index}`,
      status: 'active',
      scope: { coding: [{ system: CONSENT_SCOPE, code: PRIVACY_SCOPE }] },
      category: [{ coding: [{ system: CONSENT_CATEGORY, code: DIRECTIVE_CODE }] }],
      patient: ref('Patient', p),
      dateTime: iso(Math.min(lastApproval + rng.int(1, 20) * DAY, anchor - HOUR)),
      performer: [ref('Patient', p)],
      policyRule: { coding: [{ system: ACT_CODE, code: 'OPTOUT' }] },
      provision: { type: 'deny', actor: [{ role: { coding: [{ system: PARTICIPATION_TYPE, code: RECIPIENT_ROLE }] }, reference: actor }] },
    };
  }

  const events = audit ? auditHistory(rng, { patient: p, plan, author, registrations, anchor }) : [];
  const resources = [patient, ...conditions, ...goals, careTeam, plan, ...registrations.flatMap((r) => [r.consent, r.task]), ...(directive ? [directive] : [])];
  return { resources, audit: events, partners, withheldFrom: directive?.provision.actor[0].reference.reference };
}
