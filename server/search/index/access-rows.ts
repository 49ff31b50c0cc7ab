import type { Consent, ConsentProvision, Period, Resource } from 'fhir/r4';
import { parseDateRange } from '../../fhir/date-range.js';
import { idOfReference, relativeReference } from '../../fhir/reference.js';
import type { CompositeRow } from '../types.js';
import { ACT_CODE, CONSENT_ACTION, CONSENT_CATEGORY, CONSENT_SCOPE, MODIFY_ACTION, OVERRIDE_CODE, PRIVACY_SCOPE, REGISTRATION_CODE, VIEW_ACTION } from '../../conformance/consent-vocabulary.js';

/**
 * The index parameter under which an active Consent states who may or may not see a patient's plan. No search
 * parameter can have this code (clients' `_access` is not a parameter the parser knows), so only the access
 * decision (server/search/sql/consent.ts) reads these rows.
 */
export const ACCESS_PARAM = '_access';

/**
 * What one rule says. `deny-except` rows name who a deny of the same Consent does not apply to (its nested
 * permit provisions).
 */
export type AccessRuleKind = 'registration-view' | 'registration-modify' | 'deny' | 'deny-except' | 'override';

/**
 * Index rows stating the access rules of a Consent, written with the resource in the same statement as its search
 * index (so a rule and the Consent it comes from cannot disagree, and an updated or deleted Consent stops counting
 * at once). Each rule is one composite row: the kind (c1_system), `patientId|actor` (c1_code; actor
 * `Organization/O`, `Practitioner/U`, or `*` for everyone) and the period it holds (c2 dates; open ends are
 * infinite). Only active Consents about a patient of this server make rules.
 */
export function accessRows(resource: Resource): CompositeRow[] {
  if (resource.resourceType !== 'Consent') return [];
  const consent = resource as Consent;
  const patient = idOfReference(consent.patient?.reference, 'Patient');
  if (consent.status !== 'active' || !patient || !consent.provision) return [];
  const rows: CompositeRow[] = [];
  const add = (kind: AccessRuleKind, actor: string, period: Period | undefined) => {
    // A deny whose period cannot be read withholds always: an unreadable date must not open the plan.
    const span = spanOf(period) ?? (kind === 'deny' ? { low: null, high: null } : undefined);
    if (span) rows.push({ param: ACCESS_PARAM, components: [{ type: 'token', system: kind, code: `${patient}|${actor}` }, { type: 'date', ...span }] });
  };
  const top = consent.provision;

  if (hasCoding(consent.category, CONSENT_CATEGORY, REGISTRATION_CODE)) {
    if (top.type !== 'permit') return [];
    const actions = top.action ?? [];
    const modify = hasCoding(actions, CONSENT_ACTION, MODIFY_ACTION);
    // A registration that states no level grants none (deny by default).
    if (!modify && !hasCoding(actions, CONSENT_ACTION, VIEW_ACTION)) return [];
    for (const actor of actorsOf(top, ['Organization'])) add(modify ? 'registration-modify' : 'registration-view', actor, top.period);
    return rows;
  }
  if (hasCoding(consent.category, ACT_CODE, OVERRIDE_CODE)) {
    if (top.type !== 'permit') return [];
    for (const actor of actorsOf(top, ['Practitioner'])) add('override', actor, top.period);
    return rows;
  }
  if (!hasCoding(consent.scope ? [consent.scope] : [], CONSENT_SCOPE, PRIVACY_SCOPE)) return [];

  // A directive: a deny, with nested permits as its exceptions; or a permit whose nested denies withhold.
  if (top.type === 'deny') {
    for (const actor of denied(top)) add('deny', actor, top.period);
    for (const exception of top.provision ?? []) {
      if (exception.type !== 'permit') continue;
      for (const actor of actorsOf(exception, ['Organization', 'Practitioner'])) add('deny-except', actor, exception.period ?? top.period);
    }
  } else {
    for (const nested of top.provision ?? []) {
      if (nested.type === 'deny') for (const actor of denied(nested)) add('deny', actor, nested.period ?? top.period);
    }
  }
  return rows;
}

/**
 * Whom a deny provision withholds from: its organizations and practitioners, or everyone when it names no actor.
 * A deny naming only other kinds of actor (a RelatedPerson, a CareTeam) withholds from none of our callers.
 */
function denied(provision: ConsentProvision): string[] {
  if (!provision.actor?.length) return ['*'];
  return actorsOf(provision, ['Organization', 'Practitioner']);
}

function actorsOf(provision: ConsentProvision, types: string[]): string[] {
  return [
    ...new Set(
      (provision.actor ?? []).flatMap((actor) => {
        const parsed = relativeReference(actor.reference?.reference);
        return parsed && types.includes(parsed.type) ? [`${parsed.type}/${parsed.id}`] : [];
      }),
    ),
  ];
}

function hasCoding(concepts: { coding?: { system?: string; code?: string }[] }[] | undefined, system: string, code: string): boolean {
  return (concepts ?? []).some((concept) => (concept.coding ?? []).some((coding) => coding.system === system && coding.code === code));
}

/** The instants a period covers (open ends stay open: null is stored as an infinity); undefined when unreadable. */
function spanOf(period: Period | undefined): { low: string | null; high: string | null } | undefined {
  const start = period?.start === undefined ? null : parseDateRange(period.start);
  const end = period?.end === undefined ? null : parseDateRange(period.end);
  if (start === undefined || end === undefined) return undefined;
  return { low: start?.start.toISOString() ?? null, high: end?.end.toISOString() ?? null };
}
