import { lifecycleProblem } from '../../server/ccp/lifecycle.js';
import type { CarePlanStatus } from '../../server/ccp/care-plan.js';

const STATUSES: CarePlanStatus[] = ['draft', 'active', 'on-hold', 'completed', 'revoked', 'entered-in-error', 'unknown'];

/**
 * The CCP lifecycle written out by hand from the issue: draft → active → on-hold ↔ active → completed | revoked;
 * draft → revoked; anything → entered-in-error. Staying put is fine until the plan is final.
 */
const ALLOWED: Record<CarePlanStatus, CarePlanStatus[]> = {
  draft: ['draft', 'active', 'revoked', 'entered-in-error'],
  active: ['active', 'on-hold', 'completed', 'revoked', 'entered-in-error'],
  'on-hold': ['on-hold', 'active', 'entered-in-error'],
  completed: ['entered-in-error'],
  revoked: ['entered-in-error'],
  'entered-in-error': [],
  unknown: ['draft', 'active'],
};

describe('CCP lifecycle', () => {
  it('a new plan starts as draft or active; any other status is a 422', () => {
    expect(lifecycleProblem(undefined, 'draft')).toBeUndefined();
    expect(lifecycleProblem(undefined, 'active')).toBeUndefined();
    for (const status of ['on-hold', 'completed', 'revoked', 'entered-in-error', 'unknown'] as const) {
      expect(lifecycleProblem(undefined, status)?.status).toBe(422);
    }
  });

  it.each(STATUSES.filter((s) => s !== 'unknown'))('from %s: exactly the moves of the lifecycle are allowed, the others are 409', (from) => {
    for (const to of STATUSES) {
      const problem = lifecycleProblem(from, to);
      if (ALLOWED[from].includes(to)) expect({ to, problem }).toEqual({ to, problem: undefined });
      else expect({ to, status: problem?.status }).toEqual({ to, status: to === 'unknown' ? 422 : 409 });
    }
  });

  it('a final plan written again unchanged is no change; changed, it is refused', () => {
    for (const status of ['completed', 'revoked', 'entered-in-error'] as const) {
      expect(lifecycleProblem(status, status, true)).toBeUndefined();
      expect(lifecycleProblem(status, status, false)?.status).toBe(409);
    }
  });

  it('a refusal says where the plan may go instead', () => {
    expect(lifecycleProblem('on-hold', 'completed')?.diagnostics).toBe('a CCP cannot go from on-hold to completed; from on-hold it can go to active, entered-in-error');
    expect(lifecycleProblem('entered-in-error', 'active')?.diagnostics).toBe('a CCP cannot go from entered-in-error to active: entered-in-error is final');
  });
});
