import { describe, expect, it } from '@jest/globals';
import { guardOf, nameState, type NameState } from '../../server/validation/profile/invariant-guard.js';

/** Whether the guard lets the validator skip `expression` when the named children are in these states. */
function skips(expression: string, states: Record<string, NameState>): boolean {
  const guard = guardOf(expression);
  if (!guard) return false;
  return guard.cannotFail(guard.names.map((name) => states[name] ?? 'unknown'));
}

describe('invariant guard: when an invariant cannot be false without running FHIRPath', () => {
  it('an absent child makes empty() true, exists() false, all() true (FHIRPath on an empty collection)', () => {
    expect(skips('binding.empty() or binding.valueSet.exists()', { binding: 'absent' })).toBe(true);
    expect(skips('binding.empty() or binding.valueSet.exists()', { binding: 'present' })).toBe(false);
    expect(skips('constraint.exists() implies constraint.key.exists()', { constraint: 'absent' })).toBe(true);
    expect(skips('element.all(id.exists())', { element: 'absent' })).toBe(true);
    expect(skips('element.all(id.exists())', { element: 'present' })).toBe(false);
  });

  it('a guard anywhere in a disjunction decides it: (a or b) or c.empty()', () => {
    // eld-17: with no targetProfile, the right side is true whatever code is.
    expect(skips("(code='Reference' or code = 'canonical') or targetProfile.empty()", { code: 'present', targetProfile: 'absent' })).toBe(true);
    expect(skips("(code='Reference' or code = 'canonical') or targetProfile.empty()", { code: 'present', targetProfile: 'present' })).toBe(false);
  });

  it('comparisons with an absent child are empty, which passes: only false fails an invariant', () => {
    expect(skips("value.empty() or system = 'http://x'", { value: 'present', system: 'absent' })).toBe(true);
    // empty or false is empty; but a present value with a system may be false.
    expect(skips("value.empty() or system = 'http://x'", { value: 'present', system: 'present' })).toBe(false);
  });

  it('never skips what can still be false', () => {
    // `a.empty() or b implies c` is `(a.empty() or b) implies c`: true implies c can be false.
    expect(skips('a.empty() or b implies c.exists()', { a: 'absent', b: 'present', c: 'unknown' })).toBe(false);
    // An absent child makes exists() false, and `false and x` is false: the invariant fails and must be evaluated.
    expect(skips('a.exists() and b.exists()', { a: 'absent', b: 'present' })).toBe(false);
    expect(skips('a.exists() xor b.exists()', { a: 'absent', b: 'unknown' })).toBe(false);
    // not() of a true guard is false.
    expect(skips('a.empty().not() or b.exists()', { a: 'absent', b: 'absent' })).toBe(false);
    // count() of nothing is 0, a number, not empty: not modelled, so not skipped.
    expect(skips('a.count() = 0', { a: 'absent' })).toBe(false);
  });

  it('does not take a capitalised identifier, a variable or $this for a child', () => {
    expect(guardOf('Bundle.entry.empty()')).toBeUndefined();
    expect(skips('%resource.a.empty() or b.empty()', { b: 'absent' })).toBe(true);
    expect(skips('%resource.a.empty() or b.empty()', { b: 'present' })).toBe(false);
    expect(guardOf("$this.matches('x')")).toBeUndefined();
  });

  it('ignores names inside function arguments (they are the items of where/all, not the context)', () => {
    const guard = guardOf("snapshot.element.where(path = 'x').exists() implies differential.empty()");
    expect(guard?.names).toEqual(['snapshot', 'differential']);
  });

  it('reads a child as absent only when no key can hold it: the key, its _ companion, a choice value[x]', () => {
    expect(nameState({ given: ['a'] }, 'given')).toBe('present');
    expect(nameState({ _given: [{ id: 'x' }] }, 'given')).toBe('unknown');
    expect(nameState({ valueString: 'a' }, 'value')).toBe('unknown');
    expect(nameState({ valueSet: 'http://x' }, 'value')).toBe('unknown');
    expect(nameState({ values: 'x' }, 'value')).toBe('absent');
    expect(nameState({}, 'value')).toBe('absent');
  });
});
