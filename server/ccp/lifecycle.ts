import type { CarePlanStatus } from './care-plan.js';

/**
 * The CCP lifecycle: draft → active → on-hold ↔ active → completed | revoked; draft → revoked; any status →
 * entered-in-error (a correction). A plan starts as draft or active. Completed, revoked and entered-in-error are
 * final: such a plan no longer changes, apart from a completed or revoked one being marked entered-in-error.
 */
const NEXT: Record<CarePlanStatus, readonly CarePlanStatus[]> = {
  draft: ['active', 'revoked'],
  active: ['on-hold', 'completed', 'revoked'],
  'on-hold': ['active'],
  completed: [],
  revoked: [],
  'entered-in-error': [],
  unknown: [],
};

const START: readonly CarePlanStatus[] = ['draft', 'active'];

export const FINAL: readonly CarePlanStatus[] = ['completed', 'revoked', 'entered-in-error'];

export interface LifecycleProblem {
  /** 422 for a status a CCP can never be written with (here), 409 for a move the current status does not allow. */
  status: 409 | 422;
  diagnostics: string;
}

/**
 * Why a CCP may not go from `from` (undefined: it is new) to `to`, or undefined when it may. Staying in a status
 * is allowed except in a final one, where `unchanged` tells whether the write changes nothing but metadata.
 */
export function lifecycleProblem(from: CarePlanStatus | undefined, to: CarePlanStatus, unchanged = false): LifecycleProblem | undefined {
  if (to === 'unknown') return { status: 422, diagnostics: 'unknown is not a status of the CCP lifecycle (draft, active, on-hold, completed, revoked, entered-in-error)' };
  if (from === undefined || from === 'unknown') {
    if (START.includes(to)) return undefined;
    return { status: 422, diagnostics: `a CCP starts as draft or active, not ${to}` };
  }
  if (from === to) {
    if (!FINAL.includes(from) || unchanged) return undefined;
    return {
      status: 409,
      diagnostics:
        from === 'entered-in-error'
          ? 'this CCP was marked entered-in-error and can no longer change'
          : `this CCP is ${from} and can no longer change; if it is wrong, mark it entered-in-error with a note saying why`,
    };
  }
  if (to === 'entered-in-error' && from !== 'entered-in-error') return undefined;
  if (NEXT[from].includes(to)) return undefined;
  const allowed = [...NEXT[from], ...(from === 'entered-in-error' ? [] : ['entered-in-error'])];
  return {
    status: 409,
    diagnostics: `a CCP cannot go from ${from} to ${to}${allowed.length ? `; from ${from} it can go to ${allowed.join(', ')}` : `: ${from} is final`}`,
  };
}
