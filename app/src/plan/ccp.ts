import type { CarePlan, Resource } from 'fhir/r4';

/** The CCP category (docs/CCP.md): what makes a CarePlan a Coordinated Care Plan. */
export const CAREPLAN_CATEGORY = 'http://ccp-exchange.org/fhir/CodeSystem/careplan-category';
export const CCP_CODE = 'ccp';

export function isCcp(resource: Resource | undefined): resource is CarePlan {
  return (
    resource?.resourceType === 'CarePlan' &&
    ((resource as CarePlan).category ?? []).some((category) => (category.coding ?? []).some((coding) => coding.system === CAREPLAN_CATEGORY && coding.code === CCP_CODE))
  );
}

/**
 * Which of a patient's plans to open first: the active one, else one on hold, else a draft, then the final
 * ones (completed or revoked) newest first, and withdrawn ones (entered in error) last.
 */
function rank(status: CarePlan['status']): number {
  const open = ['active', 'on-hold', 'draft'].indexOf(status);
  if (open >= 0) return open;
  return status === 'completed' || status === 'revoked' ? 3 : 4;
}

export function comparePlans(a: CarePlan, b: CarePlan): number {
  return rank(a.status) - rank(b.status) || (b.meta?.lastUpdated ?? '').localeCompare(a.meta?.lastUpdated ?? '');
}

export const STATUS_LABELS: Record<string, string> = {
  draft: 'Draft',
  active: 'Active',
  'on-hold': 'On hold',
  revoked: 'Revoked',
  completed: 'Completed',
  'entered-in-error': 'Entered in error',
  unknown: 'Unknown',
  // Goal.lifecycleStatus
  proposed: 'Proposed',
  planned: 'Planned',
  accepted: 'Accepted',
  cancelled: 'Cancelled',
  rejected: 'Rejected',
  // CarePlan.activity.detail.status
  'not-started': 'Not started',
  scheduled: 'Scheduled',
  'in-progress': 'In progress',
  stopped: 'Stopped',
  // Goal.achievementStatus
  improving: 'Improving',
  worsening: 'Worsening',
  'no-change': 'No change',
  achieved: 'Achieved',
  sustaining: 'Sustaining',
  'not-achieved': 'Not achieved',
  'no-progress': 'No progress',
  'not-attainable': 'Not attainable',
  // Condition.clinicalStatus
  recurrence: 'Recurrence',
  relapse: 'Relapse',
  inactive: 'Inactive',
  remission: 'Remission',
  resolved: 'Resolved',
};

/** A status code in words (the code itself when it is not one we know). */
export function statusLabel(code: string | undefined): string | undefined {
  return code ? (STATUS_LABELS[code] ?? code) : undefined;
}
