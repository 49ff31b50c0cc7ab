import type { CarePlan } from 'fhir/r4';

/** The CCP profile's extension for when the care team means to review the plan next (profiles/input/fsh/careplan.fsh). */
export const REVIEW_DATE_EXTENSION = 'http://ccp-exchange.org/fhir/StructureDefinition/ccp-review-date';

/** Plans still being worked on: a completed, revoked or withdrawn plan has no review to miss. */
const OPEN_STATUSES: ReadonlyArray<CarePlan['status']> = ['draft', 'active', 'on-hold'];

export interface ReviewState {
  /** `YYYY-MM-DD`, when the plan names one. */
  date?: string;
  /** The date has passed (it is before today) and the plan is still open. */
  overdue: boolean;
  /** Whole days past the date, when overdue. */
  daysOverdue?: number;
}

/**
 * The next review and whether it is overdue. `today` is the viewer's calendar date (`YYYY-MM-DD`, local time):
 * a review due today is not yet overdue, and a date is compared as a date, never as an instant (a date has no
 * time zone, and a review "on the 4th" is missed only once the 4th is over where the clinician is).
 */
export function reviewState(plan: CarePlan, today: string): ReviewState {
  const date = plan.extension?.find((extension) => extension.url === REVIEW_DATE_EXTENSION)?.valueDate;
  if (!date || !/^\d{4}-\d{2}-\d{2}$/.test(date)) return { date: date || undefined, overdue: false };
  const overdue = date < today && OPEN_STATUSES.includes(plan.status);
  return overdue ? { date, overdue, daysOverdue: daysBetween(date, today) } : { date, overdue };
}

function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

/** The viewer's calendar date, `YYYY-MM-DD`, in their local time zone. */
export function localDate(now: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}
