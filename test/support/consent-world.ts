import fc from 'fast-check';
import type {
  Bundle,
  CarePlan,
  Communication,
  CareTeam,
  CodeableConcept,
  Coding,
  Condition,
  Consent,
  ConsentProvision,
  DocumentReference,
  FhirResource,
  Goal,
  Observation,
  Period,
  Provenance,
  Reference,
  Resource,
  Task,
} from 'fhir/r4';
import type { Caller } from '../../server/access/caller.js';
import { roleRights } from '../../server/access/roles.js';
import { parseResourceScope, type ResourceScope } from '../../server/access/scopes.js';
import {
  ACT_CODE,
  CONSENT_ACTION,
  CONSENT_CATEGORY,
  CONSENT_SCOPE,
  DIRECTIVE_CODE,
  GATED_TYPES,
  MODIFY_ACTION,
  OVERRIDE_CODE,
  OVERRIDE_REASON,
  PARTICIPATION_TYPE,
  PRIVACY_SCOPE,
  RECIPIENT_ROLE,
  REGISTRATION_CODE,
  REGISTRATION_TASK,
  TASK_CODE_SYSTEM,
  VIEW_ACTION,
} from '../../server/conformance/consent-vocabulary.js';

/*
 * Random worlds of organizations, practitioners, patients, their plans and their Consents, for the property-based
 * test of the consent access decision (test/consent/access-property.test.ts), and an independent model of who
 * may see what in them. The model is written from the rules in the issue and server/conformance/consent-vocabulary.ts, not
 * from the server's code: it reads the generated resources themselves, as JSON, with the FHIRPath of each
 * search parameter that names a row's patients worked out by hand.
 */

// ---------------------------------------------------------------------------------------------------------
// The abstract world fast-check generates. Indexes into organizations, practitioners and patients are taken
// modulo their counts when the world is built, so every generated value is meaningful and shrinks freely.

export type PeriodKind = 'open' | 'current' | 'expired' | 'future' | 'until-later' | 'from-earlier' | 'ended';
export type ConsentStatus = Consent['status'];
export type ActorSpec = { org: number } | { practitioner: number };

export type ConsentSpec =
  | {
      kind: 'registration';
      patient: number;
      status: ConsentStatus;
      org: number;
      actions: string[];
      period: PeriodKind;
      /** Whether the request's Task (code ccp-registration, requester the organization) is there too. */
      task: boolean;
    }
  | {
      kind: 'deny';
      patient: number;
      status: ConsentStatus;
      /** Empty: the directive withholds the plan from everyone. */
      actors: ActorSpec[];
      /** Nested permit provisions: those actors stay allowed. */
      exceptions: ActorSpec[];
      period: PeriodKind;
      /** Only patient-privacy Consents are directives; a treatment-scope deny is a distractor. */
      scope: 'patient-privacy' | 'treatment';
    }
  | { kind: 'permit-with-denies'; patient: number; status: ConsentStatus; denies: { actors: ActorSpec[]; period: PeriodKind }[] }
  | {
      kind: 'override';
      patient: number;
      status: ConsentStatus;
      practitioner: number;
      period: PeriodKind;
      /** Consent.organization: the organization the overriding user acted for, if any. */
      org: number | null;
      /**
       * The notice naming it in `about`: to an organization, or to a practitioner's PractitionerRole (their
       * Practitioner when they have no role, which no rule counts).
       */
      notice: ActorSpec | null;
    };

export interface PatientSpec {
  gender: 'female' | 'male';
  /** A registration of org1 (the first partner), mostly approved and current, before the generated Consents. */
  org1: { status: ConsentStatus; period: PeriodKind; actions: string[] } | null;
  /** performer: another patient named as an activity's performer; goalOf: whose first Goal the plan names. */
  carePlans: { status: 'active' | 'completed' | 'draft'; performer: number | null; goalOf: number | null }[];
  goals: number;
  conditions: { asserter: number | null }[];
  careTeams: { participant: number | null }[];
  tasks: number;
  /** Targets: the patient's first CarePlan (when there is one) and/or the Patient itself. */
  provenance: { plan: boolean; patient: boolean }[];
  documents: { author: number | null }[];
  observations: number;
}

export type NoPatientType = 'Task' | 'Provenance' | 'DocumentReference' | 'CareTeam' | 'Goal';

export type CallerSpec =
  | { kind: 'practitioner'; practitioner: number }
  | { kind: 'org-user'; org: number }
  | { kind: 'bare-user' }
  | { kind: 'hosting-user' }
  | { kind: 'administrator' }
  | { kind: 'system'; org: number }
  /** A privacy contact: a practitioner's user with that role, or a user of an organization without practitioner. */
  | { kind: 'privacy-contact'; practitioner: number }
  | { kind: 'org-privacy-contact'; org: number };

export interface WorldSpec {
  /** Organization 0 hosts the service. */
  organizations: number;
  /** Each practitioner's PractitionerRole organization, or null for none. */
  practitioners: (number | null)[];
  patients: PatientSpec[];
  noPatientRows: NoPatientType[];
  consents: ConsentSpec[];
  callers: CallerSpec[];
  /** Which partner organization the always-present backend client acts for. */
  partner: number;
  /** A Communication to pr0's PractitionerRole whose `about` names a plan (which no notice opens). */
  planNotice: boolean;
}

const weighted = <T>(...items: [number, T][]): fc.Arbitrary<T> =>
  fc.oneof(...items.map(([weight, value]) => ({ weight, arbitrary: fc.constant(value) })));
const index = fc.nat({ max: 4 });
/**
 * Organizations and practitioners are drawn mostly from the first partner (org1, pr0/pr1), so that registrations,
 * directives, overrides and callers meet often enough for partial views, where the interesting mistakes are.
 */
const orgIndex = weighted([1, 0], [6, 1], [2, 2], [1, 3]);
const practitionerIndex = weighted([5, 0], [2, 1], [1, 2], [1, 3], [1, 4]);
const otherPatient = fc.option(index, { nil: null, freq: 2 });

const status = weighted<ConsentStatus>([6, 'active'], [1, 'proposed'], [1, 'inactive'], [1, 'rejected'], [1, 'entered-in-error']);
const period = weighted<PeriodKind>([5, 'current'], [2, 'open'], [1, 'expired'], [1, 'future'], [1, 'until-later'], [1, 'from-earlier'], [1, 'ended']);
const baseStatus = weighted<ConsentStatus>([12, 'active'], [1, 'proposed'], [1, 'inactive'], [1, 'rejected'], [1, 'entered-in-error']);
const basePeriod = weighted<PeriodKind>([8, 'current'], [3, 'open'], [1, 'expired'], [1, 'future'], [1, 'until-later'], [1, 'from-earlier'], [1, 'ended']);
/** A registration's actions; one with neither `access` nor `correct` grants nothing. */
const actions = weighted([8, [VIEW_ACTION]], [6, [VIEW_ACTION, MODIFY_ACTION]], [2, [MODIFY_ACTION]], [3, [] as string[]]);
const actor: fc.Arbitrary<ActorSpec> = fc.oneof(fc.record({ org: orgIndex }), fc.record({ practitioner: practitionerIndex }));

/** Exceptions mostly name the callers every world has (org1, pr0), or they would rarely matter. */
const exception: fc.Arbitrary<ActorSpec> = fc.oneof(fc.constant({ org: 1 }), fc.constant({ practitioner: 0 }), actor);

const consentSpec: fc.Arbitrary<ConsentSpec> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('registration' as const),
      patient: index,
      status,
      org: orgIndex,
      actions,
      period,
      task: weighted([2, true], [1, false]),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('deny' as const),
      patient: index,
      status: baseStatus,
      actors: fc.oneof({ weight: 2, arbitrary: fc.constant([] as ActorSpec[]) }, { weight: 3, arbitrary: fc.array(actor, { minLength: 1, maxLength: 2 }) }),
      exceptions: fc.oneof({ weight: 1, arbitrary: fc.constant([] as ActorSpec[]) }, { weight: 2, arbitrary: fc.array(exception, { minLength: 1, maxLength: 2 }) }),
      period,
      scope: fc.constant('patient-privacy' as const),
    }),
  },
  {
    // The distractor: a current deny of everyone outside patient-privacy, which would hide the whole plan if counted.
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('deny' as const),
      patient: index,
      status: fc.constant('active' as const),
      actors: fc.constant([] as ActorSpec[]),
      exceptions: fc.constant([] as ActorSpec[]),
      period: fc.constant('current' as const),
      scope: fc.constant('treatment' as const),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('permit-with-denies' as const),
      patient: index,
      status: baseStatus,
      denies: fc.array(fc.record({ actors: fc.array(actor, { minLength: 1, maxLength: 2 }), period }), { minLength: 1, maxLength: 2 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('override' as const),
      patient: index,
      status: baseStatus,
      practitioner: practitionerIndex,
      period,
      org: fc.option(orgIndex, { nil: null, freq: 4 }),
      notice: fc.option(exception, { nil: null, freq: 3 }),
    }),
  },
);

const patientSpec: fc.Arbitrary<PatientSpec> = fc.record({
  gender: fc.constantFrom('female' as const, 'male' as const),
  org1: fc.option(fc.record({ status: baseStatus, period: basePeriod, actions }), { nil: null, freq: 5 }),
  carePlans: fc.array(
    fc.record({ status: fc.constantFrom('active' as const, 'completed' as const, 'draft' as const), performer: otherPatient, goalOf: fc.option(index, { nil: null }) }),
    { maxLength: 2 },
  ),
  goals: fc.nat({ max: 2 }),
  conditions: fc.array(fc.record({ asserter: otherPatient }), { maxLength: 1 }),
  careTeams: fc.array(fc.record({ participant: otherPatient }), { maxLength: 1 }),
  tasks: fc.nat({ max: 1 }),
  provenance: fc.array(fc.record({ plan: fc.boolean(), patient: fc.boolean() }), { maxLength: 1 }),
  documents: fc.array(fc.record({ author: otherPatient }), { maxLength: 1 }),
  observations: fc.nat({ max: 1 }),
});

const callerSpec: fc.Arbitrary<CallerSpec> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('practitioner' as const), practitioner: practitionerIndex }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('org-user' as const), org: orgIndex }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('bare-user' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('hosting-user' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('administrator' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('system' as const), org: index }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('privacy-contact' as const), practitioner: practitionerIndex }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('org-privacy-contact' as const), org: orgIndex }) },
);

export const worldSpec: fc.Arbitrary<WorldSpec> = fc.record({
  organizations: fc.integer({ min: 2, max: 4 }),
  // pr0 works for org1, so a partner's user with a person of their own is always among the callers.
  practitioners: fc.array(fc.option(orgIndex, { nil: null, freq: 4 }), { minLength: 2, maxLength: 4 }).map((rest) => [1, ...rest]),
  patients: fc.array(patientSpec, { minLength: 2, maxLength: 4 }),
  noPatientRows: fc.array(fc.constantFrom<NoPatientType>('Task', 'Provenance', 'DocumentReference', 'CareTeam', 'Goal'), { minLength: 1, maxLength: 3 }),
  consents: fc.array(consentSpec, { minLength: 8, maxLength: 20 }),
  callers: fc.array(callerSpec, { minLength: 1, maxLength: 2 }),
  partner: fc.constantFrom(0, 0, 1, 2),
  planNotice: fc.boolean(),
});

// ---------------------------------------------------------------------------------------------------------
// The world as resources.

export const WORLD_TAG_SYSTEM = 'http://ccp-exchange.org/test/consent-world';
const DAY = 24 * 3600 * 1000;

export interface World {
  /** Every id starts with it, and every resource carries it as a meta.tag code (WORLD_TAG_SYSTEM). */
  prefix: string;
  now: number;
  hostingOrganization: string;
  organizations: string[];
  /** Practitioner id → the organization of their PractitionerRole, if any. */
  practitioners: { id: string; organization?: string }[];
  patients: string[];
  /** Everything written, in writing order. */
  resources: Resource[];
  consents: Consent[];
  /** Named callers to check, the unrestricted one (the server itself) among them. */
  callers: { label: string; caller: Caller }[];
}

const ref = (type: string, id: string): Reference => ({ reference: `${type}/${id}` });
const concept = (system: string, code: string): CodeableConcept => ({ coding: [{ system, code }] });

function periodOf(kind: PeriodKind, now: number): Period | undefined {
  const at = (days: number) => new Date(now + days * DAY).toISOString();
  switch (kind) {
    case 'open':
      return undefined;
    case 'current':
      return { start: at(-10), end: at(10) };
    case 'expired':
      return { start: at(-20), end: at(-10) };
    case 'future':
      return { start: at(10), end: at(20) };
    case 'until-later':
      return { end: at(10) };
    case 'from-earlier':
      return { start: at(-10) };
    case 'ended':
      return { end: at(-1) };
  }
}

const USER_SCOPES: ResourceScope[] = [parseResourceScope('user/*.cruds')!];
const SYSTEM_SCOPES: ResourceScope[] = [parseResourceScope('system/*.cruds')!];

/** The resources and callers of `spec`, with ids under `prefix` and periods around `now`. */
export function buildWorld(spec: WorldSpec, prefix: string, now: number): World {
  const tag = { tag: [{ system: WORLD_TAG_SYSTEM, code: prefix }] };
  const resources: Resource[] = [];
  const add = <T extends Resource>(resource: T): T => {
    resources.push({ ...resource, meta: tag });
    return resource;
  };
  const organizations = Array.from({ length: spec.organizations }, (_, i) => `${prefix}-org${i}`);
  const org = (i: number) => organizations[i % organizations.length];
  for (const [i, id] of organizations.entries()) add({ resourceType: 'Organization', id, name: `Organization ${i}` });

  const practitioners = spec.practitioners.map((roleOrg, i) => ({ id: `${prefix}-pr${i}`, organization: roleOrg === null ? undefined : org(roleOrg) }));
  const practitioner = (i: number) => practitioners[i % practitioners.length].id;
  for (const p of practitioners) {
    add({ resourceType: 'Practitioner', id: p.id });
    if (p.organization) add({ resourceType: 'PractitionerRole', id: `${p.id}-role`, practitioner: ref('Practitioner', p.id), organization: ref('Organization', p.organization) });
  }

  const patients = spec.patients.map((_, i) => `${prefix}-pat${i}`);
  const patient = (i: number) => patients[i % patients.length];
  for (const [i, p] of spec.patients.entries()) add({ resourceType: 'Patient', id: patients[i], gender: p.gender });

  // Goals first: plans name them.
  const goalsOf = spec.patients.map((p, i) =>
    Array.from({ length: p.goals }, (_, g) =>
      add<Goal>({ resourceType: 'Goal', id: `${patients[i]}-goal${g}`, lifecycleStatus: 'active', description: { text: 'walk daily' }, subject: ref('Patient', patients[i]) }),
    ),
  );
  for (const [i, p] of spec.patients.entries()) {
    const pid = patients[i];
    const plans = p.carePlans.map((plan, c) => {
      const goal = plan.goalOf === null ? undefined : goalsOf[plan.goalOf % patients.length][0];
      return add<CarePlan>({
        resourceType: 'CarePlan',
        id: `${pid}-plan${c}`,
        status: plan.status,
        intent: 'plan',
        subject: ref('Patient', pid),
        ...(goal ? { goal: [ref('Goal', goal.id!)] } : {}),
        ...(plan.performer !== null ? { activity: [{ detail: { status: 'in-progress', performer: [ref('Patient', patient(plan.performer))] } }] } : {}),
      });
    });
    p.conditions.forEach((c, n) =>
      add<Condition>({
        resourceType: 'Condition',
        id: `${pid}-cond${n}`,
        subject: ref('Patient', pid),
        code: { text: 'diabetes' },
        ...(c.asserter !== null ? { asserter: ref('Patient', patient(c.asserter)) } : {}),
      }),
    );
    p.careTeams.forEach((t, n) =>
      add<CareTeam>({
        resourceType: 'CareTeam',
        id: `${pid}-team${n}`,
        subject: ref('Patient', pid),
        participant: [{ member: ref('Practitioner', practitioner(n)) }, ...(t.participant !== null ? [{ member: ref('Patient', patient(t.participant)) }] : [])],
      }),
    );
    for (let n = 0; n < p.tasks; n++) {
      add<Task>({ resourceType: 'Task', id: `${pid}-task${n}`, status: 'requested', intent: 'order', for: ref('Patient', pid) });
    }
    p.provenance.forEach((v, n) => {
      const plan = v.plan && plans.length ? [ref('CarePlan', plans[0].id!)] : [];
      // Targeting the plan alone names no patient (Provenance.patient is target.where(resolve() is Patient)).
      const target = [...plan, ...(v.patient || !plan.length ? [ref('Patient', pid)] : [])];
      add<Provenance>({ resourceType: 'Provenance', id: `${pid}-prov${n}`, target, recorded: new Date(now).toISOString(), agent: [{ who: ref('Organization', org(0)) }] });
    });
    p.documents.forEach((d, n) =>
      add<DocumentReference>({
        resourceType: 'DocumentReference',
        id: `${pid}-doc${n}`,
        status: 'current',
        subject: ref('Patient', pid),
        content: [{ attachment: { contentType: 'text/plain', data: 'bm90ZQ==' } }],
        ...(d.author !== null ? { author: [ref('Patient', patient(d.author))] } : {}),
      }),
    );
    for (let n = 0; n < p.observations; n++) {
      add<Observation>({ resourceType: 'Observation', id: `${pid}-obs${n}`, status: 'final', code: { text: 'weight' }, subject: ref('Patient', pid) });
    }
  }

  // Rows of gated types that name no patient: a held caller never sees them.
  spec.noPatientRows.forEach((type, n) => {
    const id = `${prefix}-nopat${n}`;
    switch (type) {
      case 'Task':
        add<Task>({ resourceType: 'Task', id, status: 'requested', intent: 'order', focus: ref('Organization', org(1)) });
        break;
      case 'Provenance':
        add<Provenance>({ resourceType: 'Provenance', id, target: [ref('Organization', org(1))], recorded: new Date(now).toISOString(), agent: [{ who: ref('Organization', org(0)) }] });
        break;
      case 'DocumentReference':
        add<DocumentReference>({ resourceType: 'DocumentReference', id, status: 'current', content: [{ attachment: { contentType: 'text/plain', data: 'bm90ZQ==' } }] });
        break;
      case 'CareTeam':
        add<CareTeam>({ resourceType: 'CareTeam', id, participant: [{ member: ref('Practitioner', practitioner(0)) }] });
        break;
      case 'Goal':
        add<Goal>({ resourceType: 'Goal', id, lifecycleStatus: 'active', description: { text: 'reduce wait times' }, subject: ref('Organization', org(1)) });
        break;
    }
  });

  /** A notice goes to an organization, or to a practitioner's PractitionerRole (their Practitioner if they have none). */
  const recipientOf = (a: ActorSpec): Reference => {
    if ('org' in a) return ref('Organization', org(a.org));
    const p = practitioners[a.practitioner % practitioners.length];
    return p.organization ? ref('PractitionerRole', `${p.id}-role`) : ref('Practitioner', p.id);
  };
  const actorRef = (a: ActorSpec): Reference => ('org' in a ? ref('Organization', org(a.org)) : ref('Practitioner', practitioner(a.practitioner)));
  const actors = (list: ActorSpec[]) => list.map((a) => ({ role: concept(PARTICIPATION_TYPE, 'PRCP'), reference: actorRef(a) }));
  const base = spec.patients.flatMap((p, i): ConsentSpec[] =>
    p.org1 ? [{ kind: 'registration', patient: i, org: 1, task: true, ...p.org1 }] : [],
  );
  const consents = [...base, ...spec.consents].map((c, n) => {
    const consent = add<Consent>(consentOf(c, `${prefix}-consent${n}`, patient(c.patient), now, { org, practitioner, actors }));
    // What goes with it, as the operations write it: the request's Task, the override's notice.
    if (c.kind === 'registration' && c.task) add<Task>(registrationTask(consent, org(c.org)));
    if (c.kind === 'override' && c.notice) add<Communication>(notice(consent, recipientOf(c.notice)));
    return consent;
  });
  if (spec.planNotice) {
    const plan = resources.find((r) => r.resourceType === 'CarePlan');
    if (plan) add<Communication>({ ...notice(plan, ref('PractitionerRole', `${practitioners[0].id}-role`)), id: `${prefix}-plan-notice` });
  }

  const held = (role: string[], organization?: string, practitionerId?: string, label = ''): { label: string; caller: Caller } => ({
    label,
    caller: {
      kind: 'user',
      userId: `${prefix}-user-${label}`,
      scopes: USER_SCOPES,
      role: roleRights(role),
      ...(organization ? { organization } : {}),
      ...(practitionerId ? { practitioner: practitionerId } : {}),
      // A practitioner's user acts through the PractitionerRole the world gives them (one with an organization).
      ...(practitionerId && organization ? { practitionerRole: `${practitionerId}-role` } : {}),
    },
  });
  const privacyContact = (p: World['practitioners'][number], label: string) =>
    held(['privacy-contact'], p.organization, p.id, `${label}privacy contact ${p.id}${p.organization ? ` of ${p.organization}` : ' without organization'}`);
  const partnerSystem = (label: string, i: number): { label: string; caller: Caller } => {
    // A partner's backend client: any organization but the hosting one.
    const partner = organizations[1 + (i % (organizations.length - 1))];
    return { label: `${label}system of ${partner}`, caller: { kind: 'system', clientId: `${prefix}-client${label}`, scopes: SYSTEM_SCOPES, organization: partner } };
  };
  const callers = [
    { label: 'unrestricted', caller: { kind: 'unrestricted', scopes: [] } as Caller },
    partnerSystem('', spec.partner),
    held(['contributor'], practitioners[0].organization, practitioners[0].id, `practitioner ${practitioners[0].id} of ${practitioners[0].organization}`),
    privacyContact(practitioners[0], ''),
    ...spec.callers.map((c, n) => {
      switch (c.kind) {
        case 'practitioner': {
          const p = practitioners[c.practitioner % practitioners.length];
          return held(['contributor'], p.organization, p.id, `${n}-practitioner ${p.id}${p.organization ? ` of ${p.organization}` : ' without organization'}`);
        }
        case 'org-user':
          return held(['contributor'], org(c.org), undefined, `${n}-user of ${org(c.org)}`);
        case 'bare-user':
          return held(['contributor'], undefined, undefined, `${n}-user without organization or practitioner`);
        case 'hosting-user':
          return held(['coordinator'], organizations[0], undefined, `${n}-hosting coordinator`);
        case 'administrator':
          return held(['administrator'], undefined, undefined, `${n}-administrator without organization`);
        case 'system':
          return partnerSystem(`${n}-`, c.org);
        case 'privacy-contact':
          return privacyContact(practitioners[c.practitioner % practitioners.length], `${n}-`);
        case 'org-privacy-contact':
          return held(['privacy-contact'], org(c.org), undefined, `${n}-privacy contact of ${org(c.org)} without practitioner`);
      }
    }),
  ];
  // The same caller twice would only cost time.
  const distinct = callers.filter(
    ({ caller }, i) => callers.findIndex(({ caller: c }) => c.kind === caller.kind && c.organization === caller.organization && c.practitioner === caller.practitioner && c.role?.roles.join() === caller.role?.roles.join()) === i,
  );
  return { prefix, now, hostingOrganization: organizations[0], organizations, practitioners, patients, resources, consents, callers: distinct };
}

interface Namers {
  org(i: number): string;
  practitioner(i: number): string;
  actors(list: ActorSpec[]): NonNullable<ConsentProvision['actor']>;
}

function consentOf(spec: ConsentSpec, id: string, patientId: string, now: number, names: Namers): Consent {
  const base = { resourceType: 'Consent' as const, id, status: spec.status, patient: ref('Patient', patientId), dateTime: new Date(now).toISOString() };
  const privacy = concept(CONSENT_SCOPE, PRIVACY_SCOPE);
  const withPeriod = (kind: PeriodKind) => {
    const p = periodOf(kind, now);
    return p ? { period: p } : {};
  };
  switch (spec.kind) {
    case 'registration':
      return {
        ...base,
        scope: privacy,
        category: [concept(CONSENT_CATEGORY, REGISTRATION_CODE)],
        policyRule: concept(ACT_CODE, 'OPTIN'),
        provision: {
          type: 'permit',
          ...withPeriod(spec.period),
          actor: [{ role: concept(PARTICIPATION_TYPE, RECIPIENT_ROLE), reference: ref('Organization', names.org(spec.org)) }],
          ...(spec.actions.length ? { action: spec.actions.map((code) => concept(CONSENT_ACTION, code)) } : {}),
        },
      };
    case 'deny':
      return {
        ...base,
        scope: spec.scope === 'patient-privacy' ? privacy : concept(CONSENT_SCOPE, 'treatment'),
        category: [concept(CONSENT_CATEGORY, DIRECTIVE_CODE)],
        policyRule: concept(ACT_CODE, 'OPTOUT'),
        provision: {
          type: 'deny',
          ...withPeriod(spec.period),
          ...(spec.actors.length ? { actor: names.actors(spec.actors) } : {}),
          // Exceptions carry no period of their own, so whether theirs would count is never in question.
          ...(spec.exceptions.length ? { provision: spec.exceptions.map((e) => ({ type: 'permit' as const, actor: names.actors([e]) })) } : {}),
        },
      };
    case 'permit-with-denies':
      return {
        ...base,
        scope: privacy,
        category: [concept(CONSENT_CATEGORY, DIRECTIVE_CODE)],
        policyRule: concept(ACT_CODE, 'OPTIN'),
        provision: { type: 'permit', provision: spec.denies.map((d) => ({ type: 'deny' as const, ...withPeriod(d.period), actor: names.actors(d.actors) })) },
      };
    case 'override':
      return {
        ...base,
        scope: privacy,
        category: [concept(ACT_CODE, OVERRIDE_CODE)],
        policyRule: concept(ACT_CODE, 'OPTIN'),
        provision: {
          type: 'permit',
          ...withPeriod(spec.period),
          actor: [{ role: concept(PARTICIPATION_TYPE, 'PROV'), reference: ref('Practitioner', names.practitioner(spec.practitioner)) }],
          purpose: [{ system: OVERRIDE_REASON, code: 'risk-of-harm' }],
        },
        ...(spec.org !== null ? { organization: [ref('Organization', names.org(spec.org))] } : {}),
      };
  }
}

/** The registration request's Task, in the shape $ccp-register writes, its status following its Consent's. */
function registrationTask(consent: Consent, organization: string): Task {
  const status: Record<ConsentStatus, Task['status']> = {
    proposed: 'requested',
    active: 'completed',
    inactive: 'completed',
    rejected: 'rejected',
    'entered-in-error': 'entered-in-error',
    draft: 'draft',
  };
  return {
    resourceType: 'Task',
    id: `${consent.id}-task`,
    status: status[consent.status],
    intent: 'order',
    code: concept(TASK_CODE_SYSTEM, REGISTRATION_TASK),
    focus: ref('Consent', consent.id!),
    for: consent.patient!,
    requester: ref('Organization', organization),
  };
}

/** A notice in the shape $override writes, naming `record` in `about`. */
function notice(record: Resource, recipient: Reference): Communication {
  return {
    resourceType: 'Communication',
    id: `${record.id}-notice`,
    status: 'completed',
    category: [concept('http://terminology.hl7.org/CodeSystem/communication-category', 'notification')],
    about: [ref(record.resourceType, record.id!)],
    recipient: [recipient],
  };
}

/** One transaction Bundle that writes the whole world with the ids chosen above. */
export function worldTransaction(world: World): Bundle {
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: world.resources.map((resource) => ({ resource, request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` } })),
  };
}

// ---------------------------------------------------------------------------------------------------------
// The model: who may see which row, from the rules alone.

const GATED: readonly string[] = GATED_TYPES;

function patientIds(refs: (Reference | undefined)[]): string[] {
  return refs.flatMap((r) => (r?.reference?.startsWith('Patient/') ? [r.reference.slice('Patient/'.length)] : []));
}

/**
 * The patients a row of a gated type belongs to: its Patient references through the search parameters of
 * PATIENT_PARAMS, whose FHIRPath (R4) is: CarePlan.subject and CarePlan.activity.detail.performer;
 * Goal.subject; CareTeam.subject and CareTeam.participant.member; Condition.subject and Condition.asserter;
 * Task.for; DocumentReference.subject and DocumentReference.author; Consent.patient; Provenance.target.
 */
export function patientsOf(row: Resource): string[] {
  const resource = row as FhirResource;
  const ids = (() => {
    switch (resource.resourceType) {
      case 'CarePlan':
        return patientIds([resource.subject, ...(resource.activity ?? []).flatMap((a) => a.detail?.performer ?? [])]);
      case 'Goal':
        return patientIds([resource.subject]);
      case 'CareTeam':
        return patientIds([resource.subject, ...(resource.participant ?? []).map((p) => p.member)]);
      case 'Condition':
        return patientIds([resource.subject, resource.asserter]);
      case 'Task':
        return patientIds([resource.for]);
      case 'DocumentReference':
        return patientIds([resource.subject, ...(resource.author ?? [])]);
      case 'Consent':
        return patientIds([resource.patient]);
      case 'Provenance':
        return patientIds(resource.target);
      default:
        return [];
    }
  })();
  return [...new Set(ids)];
}

/**
 * The patients whose R4 Patient compartment holds `resource` (CompartmentDefinition patient): the same
 * elements as patientsOf for the gated types but Task (outside the compartment), and Observation.subject and
 * performer. A Patient is in its own compartment (docs/SEARCH.md), and in others through Patient.link, which
 * the worlds never use.
 */
export function compartmentsOf(row: Resource): string[] {
  const resource = row as FhirResource;
  if (resource.resourceType === 'Patient') return [resource.id!];
  if (resource.resourceType === 'Task') return [];
  if (resource.resourceType === 'Observation') return [...new Set(patientIds([resource.subject, ...(resource.performer ?? [])]))];
  return patientsOf(resource);
}

function contains(period: Period | undefined, now: number): boolean {
  if (period?.start !== undefined && Date.parse(period.start) > now) return false;
  if (period?.end !== undefined && Date.parse(period.end) < now) return false;
  return true;
}

const hasCode = (concepts: CodeableConcept[] | undefined, system: string, code: string): boolean =>
  (concepts ?? []).some((c) => (c.coding ?? []).some((coding: Coding) => coding.system === system && coding.code === code));

/** Whether `actors` name Organization/O or Practitioner/U. */
function names(actors: ConsentProvision['actor'], organization: string | undefined, practitioner: string | undefined): boolean {
  return (actors ?? []).some(
    (a) => (organization !== undefined && a.reference.reference === `Organization/${organization}`) || (practitioner !== undefined && a.reference.reference === `Practitioner/${practitioner}`),
  );
}

const isRegistration = (c: Consent) => hasCode(c.category, CONSENT_CATEGORY, REGISTRATION_CODE);
const isOverride = (c: Consent) => hasCode(c.category, ACT_CODE, OVERRIDE_CODE);
const about = (c: Consent, patient: string) => c.status === 'active' && c.patient?.reference === `Patient/${patient}`;

/** An active registration of `organization` for `patient` now, at `level` (view: either level). */
export function registered(world: World, patient: string, organization: string | undefined, level: 'view' | 'modify' = 'view'): boolean {
  if (organization === undefined) return false;
  return world.consents.some(
    (c) =>
      about(c, patient) &&
      isRegistration(c) &&
      c.provision?.type === 'permit' &&
      names(c.provision.actor, organization, undefined) &&
      contains(c.provision.period, world.now) &&
      (hasCode(c.provision.action, CONSENT_ACTION, MODIFY_ACTION) || (level === 'view' && hasCode(c.provision.action, CONSENT_ACTION, VIEW_ACTION))),
  );
}

export function denied(world: World, patient: string, organization: string | undefined, practitioner: string | undefined): boolean {
  return world.consents.some((c) => {
    if (!about(c, patient) || isRegistration(c) || isOverride(c) || !hasCode([c.scope], CONSENT_SCOPE, PRIVACY_SCOPE)) return false;
    const top = c.provision;
    if (top?.type === 'deny') {
      if (!contains(top.period, world.now)) return false;
      const everyone = !(top.actor ?? []).length;
      if (!everyone && !names(top.actor, organization, practitioner)) return false;
      return !(top.provision ?? []).some((nested) => nested.type === 'permit' && names(nested.actor, organization, practitioner));
    }
    if (top?.type === 'permit') {
      return (top.provision ?? []).some((nested) => nested.type === 'deny' && contains(nested.period, world.now) && names(nested.actor, organization, practitioner));
    }
    return false;
  });
}

export function overridden(world: World, patient: string, practitioner: string | undefined): boolean {
  if (practitioner === undefined) return false;
  return world.consents.some(
    (c) =>
      about(c, patient) &&
      isOverride(c) &&
      c.provision?.type === 'permit' &&
      names(c.provision.actor, undefined, practitioner) &&
      contains(c.provision.period, world.now),
  );
}

/** isConsentHeld's documented rule, restated: partners are held, the server and the hosting organization are not. */
export function held(caller: Caller, hostingOrganization: string): boolean {
  if (caller.kind === 'unrestricted' || caller.kind === 'anonymous') return false;
  if (caller.organization !== undefined) return caller.organization !== hostingOrganization;
  if (caller.kind === 'system') return false;
  return !(caller.role?.roles ?? []).includes('administrator');
}

/** Whether `caller` may see `resource` (scopes and role allow everything the worlds hold; only consent filters). */
export function visible(world: World, caller: Caller, resource: Resource): boolean {
  if (!GATED.includes(resource.resourceType) || !held(caller, world.hostingOrganization)) return true;
  return planAllows(world, caller, resource, 'view') || ownRecord(world, caller, resource, 'view');
}

/**
 * Whether `caller` may write `resource` as it is (a held caller's writes need the modify level), by the consent
 * rules alone: what the role allows (a privacy contact writes directives only) is the caller's to check.
 */
export function writable(world: World, caller: Caller, resource: Resource): boolean {
  if (!GATED.includes(resource.resourceType) || !held(caller, world.hostingOrganization)) return true;
  return planAllows(world, caller, resource, 'modify') || ownRecord(world, caller, resource, 'modify');
}

/** The plan's rule: every patient the row names is registered (at the level) and not denied, or overridden. */
export function planAllows(world: World, caller: Caller, resource: Resource, level: 'view' | 'modify'): boolean {
  const patients = patientsOf(resource);
  const { organization, practitioner } = caller;
  return (
    patients.length > 0 &&
    patients.every((p) => (registered(world, p, organization, level) && !denied(world, p, organization, practitioner)) || overridden(world, p, practitioner))
  );
}

const isPrivacyContact = (caller: Caller) => caller.kind === 'user' && (caller.role?.roles ?? []).includes('privacy-contact');

/** A Consent that is neither a registration nor an override, with the patient-privacy scope. */
export const isDirective = (c: Consent) => !isRegistration(c) && !isOverride(c) && hasCode([c.scope], CONSENT_SCOPE, PRIVACY_SCOPE);

/**
 * The records of consent that are the caller's own business, from docs/CONSENT.md ("Who sees the records of
 * consent"): their organization's registration requests (Task and Consent, any status; to read); for a privacy
 * contact, their organization's overrides and those named in notices sent to them (to read), and the directives
 * of the patients whose plans their organization takes part in (an active registration, any level; to read and
 * write).
 */
export function ownRecord(world: World, caller: Caller, resource: Resource, level: 'view' | 'modify'): boolean {
  const organization = caller.organization;
  if (organization === undefined) return false;
  const own = `Organization/${organization}`;
  if (resource.resourceType === 'Task') {
    const task = resource as Task;
    return level === 'view' && hasCode(task.code ? [task.code] : [], TASK_CODE_SYSTEM, REGISTRATION_TASK) && task.requester?.reference === own;
  }
  if (resource.resourceType !== 'Consent') return false;
  const consent = resource as Consent;
  if (isRegistration(consent)) return level === 'view' && (consent.provision?.actor ?? []).some((a) => a.reference.reference === own);
  if (!isPrivacyContact(caller)) return false;
  if (isOverride(consent)) {
    if (level !== 'view') return false;
    if ((consent.organization ?? []).some((o) => o.reference === own)) return true;
    const addressees = [own, ...(caller.practitionerRole ? [`PractitionerRole/${caller.practitionerRole}`] : [])];
    return world.resources.some(
      (r) =>
        r.resourceType === 'Communication' &&
        ((r as Communication).about ?? []).some((a) => a.reference === key(consent)) &&
        ((r as Communication).recipient ?? []).some((to) => addressees.includes(to.reference ?? '')),
    );
  }
  const patients = patientsOf(consent);
  return isDirective(consent) && patients.length > 0 && patients.every((p) => registered(world, p, organization));
}

export const key = (resource: Resource): string => `${resource.resourceType}/${resource.id}`;

/** The world's Consents in one line each, for failure messages: `consent3 pat0 active deny [everyone] except [pr1] 2026-…..` */
export function describeConsents(world: World): string[] {
  const short = (reference: string | undefined) => reference?.split('/')[1]?.slice(world.prefix.length + 1) ?? '?';
  const actors = (list: ConsentProvision['actor']) => `[${(list ?? []).map((a) => short(a.reference.reference)).join(',') || 'everyone'}]`;
  const when = (p: Period | undefined) => (p ? `${p.start?.slice(0, 10) ?? '…'}..${p.end?.slice(0, 10) ?? '…'}` : 'open');
  return world.consents.map((c) => {
    const kind = isRegistration(c) ? 'registration' : isOverride(c) ? 'override' : `directive(${c.scope.coding?.[0]?.code})`;
    const p = c.provision;
    const nested = (p?.provision ?? []).map((n) => ` ${n.type} ${actors(n.actor)} ${when(n.period)}`).join(';');
    const actions = (p?.action ?? []).map((a) => a.coding?.[0]?.code).join('+');
    return `${short(`Consent/${c.id}`)} ${short(c.patient?.reference)} ${c.status} ${kind} ${p?.type} ${actors(p?.actor)} ${when(p?.period)}${actions ? ` ${actions}` : ''}${nested ? ` {${nested} }` : ''}`;
  });
}
