import { applyJsonPatch } from '../../server/patch/json-patch.js';
import { thrown } from '../support/thrown.js';

/** Applies `patch` and checks on the way that `document` itself was left alone. */
function patched(document: unknown, patch: unknown): unknown {
  const before = structuredClone(document);
  const result = applyJsonPatch(document, (patch));
  expect(document).toEqual(before);
  return result;
}

describe('RFC 6902 Appendix A examples', () => {
  it('A.1 adds an object member', () => {
    expect(patched({ foo: 'bar' }, [{ op: 'add', path: '/baz', value: 'qux' }])).toEqual({ baz: 'qux', foo: 'bar' });
  });

  it('A.2 adds an array element before the one at the index', () => {
    expect(patched({ foo: ['bar', 'baz'] }, [{ op: 'add', path: '/foo/1', value: 'qux' }])).toEqual({ foo: ['bar', 'qux', 'baz'] });
  });

  it('A.3 removes an object member', () => {
    expect(patched({ baz: 'qux', foo: 'bar' }, [{ op: 'remove', path: '/baz' }])).toEqual({ foo: 'bar' });
  });

  it('A.4 removes an array element, shifting the later ones left', () => {
    expect(patched({ foo: ['bar', 'qux', 'baz'] }, [{ op: 'remove', path: '/foo/1' }])).toEqual({ foo: ['bar', 'baz'] });
  });

  it('A.5 replaces a value', () => {
    expect(patched({ baz: 'qux', foo: 'bar' }, [{ op: 'replace', path: '/baz', value: 'boo' }])).toEqual({ baz: 'boo', foo: 'bar' });
  });

  it('A.6 moves a value from one object to another', () => {
    const document = { foo: { bar: 'baz', waldo: 'fred' }, qux: { corge: 'grault' } };
    expect(patched(document, [{ op: 'move', from: '/foo/waldo', path: '/qux/thud' }])).toEqual({
      foo: { bar: 'baz' },
      qux: { corge: 'grault', thud: 'fred' },
    });
  });

  it('A.7 moves an array element (the target index counts after the removal)', () => {
    const document = { foo: ['all', 'grass', 'cows', 'eat'] };
    expect(patched(document, [{ op: 'move', from: '/foo/1', path: '/foo/3' }])).toEqual({ foo: ['all', 'cows', 'eat', 'grass'] });
  });

  it('A.8 passes tests of a string member and of an array element, leaving the document as it was', () => {
    const document = { baz: 'qux', foo: ['a', 2, 'c'] };
    const patch = [
      { op: 'test', path: '/baz', value: 'qux' },
      { op: 'test', path: '/foo/1', value: 2 },
    ];
    expect(patched(document, patch)).toEqual({ baz: 'qux', foo: ['a', 2, 'c'] });
  });

  it('A.9 fails a test of a value that differs (422)', () => {
    const error = thrown(() => applyJsonPatch({ baz: 'qux' }, [{ op: 'test', path: '/baz', value: 'bar' }]));
    expect(error.status).toBe(422);
  });

  it('A.10 adds a nested member object', () => {
    expect(patched({ foo: 'bar' }, [{ op: 'add', path: '/child', value: { grandchild: {} } }])).toEqual({
      foo: 'bar',
      child: { grandchild: {} },
    });
  });

  it('A.11 ignores unrecognized members of an operation', () => {
    expect(patched({ foo: 'bar' }, [{ op: 'add', path: '/baz', value: 'qux', xyz: 123 }])).toEqual({ foo: 'bar', baz: 'qux' });
  });

  it('A.12 refuses to add to a nonexistent target (422)', () => {
    const error = thrown(() => applyJsonPatch({ foo: 'bar' }, [{ op: 'add', path: '/baz/bat', value: 'qux' }]));
    expect(error.status).toBe(422);
  });

  // A.13 (an operation object with "op" twice) cannot be written as a parsed JavaScript value: JSON.parse keeps the last.

  it('A.14 unescapes ~01 as ~1 (not as /): the test of /~01 compares the member "~1"', () => {
    const document = { '/': 9, '~1': 10 };
    expect(patched(document, [{ op: 'test', path: '/~01', value: 10 }])).toEqual({ '/': 9, '~1': 10 });
    // Unescaping in the wrong order would read "/~01" as the member "/", whose value is 9.
    expect(thrown(() => applyJsonPatch(document, [{ op: 'test', path: '/~01', value: 9 }])).status).toBe(422);
  });

  it('A.15 compares a string and a number as different (422)', () => {
    const error = thrown(() => applyJsonPatch({ '/': 9, '~1': 10 }, [{ op: 'test', path: '/~01', value: '10' }]));
    expect(error.status).toBe(422);
  });

  it('A.16 adds an array value as one element at the end with "-"', () => {
    expect(patched({ foo: ['bar'] }, [{ op: 'add', path: '/foo/-', value: ['abc', 'def'] }])).toEqual({ foo: ['bar', ['abc', 'def']] });
  });
});

describe('operations beyond Appendix A', () => {
  it('copies a value, leaving the source in place and the copy independent of it', () => {
    const result = patched({ a: { b: [1] } }, [{ op: 'copy', from: '/a', path: '/c' }]) as { a: { b: number[] }; c: { b: number[] } };
    expect(result).toEqual({ a: { b: [1] }, c: { b: [1] } });
    result.c.b.push(2);
    expect(result.a.b).toEqual([1]);
  });

  it('unescapes ~1 as / and ~0 as ~ in a path', () => {
    expect(patched({ 'a/b': 1, 'c~d': 2 }, [
      { op: 'replace', path: '/a~1b', value: 10 },
      { op: 'remove', path: '/c~0d' },
    ])).toEqual({ 'a/b': 10 });
  });

  it('appends to an array with "-"', () => {
    expect(patched({ given: ['Peter'] }, [{ op: 'add', path: '/given/-', value: 'James' }])).toEqual({ given: ['Peter', 'James'] });
  });

  it('adds at the index equal to the length (the end) but not past it', () => {
    expect(patched({ a: [1, 2] }, [{ op: 'add', path: '/a/2', value: 3 }])).toEqual({ a: [1, 2, 3] });
    expect(thrown(() => applyJsonPatch({ a: [1, 2] }, [{ op: 'add', path: '/a/3', value: 3 }])).status).toBe(422);
  });

  it('refuses an array index with a leading zero (422)', () => {
    const error = thrown(() => applyJsonPatch({ a: [1, 2, 3] }, [{ op: 'remove', path: '/a/01' }]));
    expect(error.status).toBe(422);
  });

  it('treats a leading-zero token as a plain member name on an object', () => {
    expect(patched({ a: {} }, [{ op: 'add', path: '/a/01', value: true }])).toEqual({ a: { '01': true } });
  });

  it('refuses to remove an array element past the end (422)', () => {
    expect(thrown(() => applyJsonPatch({ a: [1] }, [{ op: 'remove', path: '/a/1' }])).status).toBe(422);
  });

  it('refuses to remove or replace a member that does not exist (422)', () => {
    expect(thrown(() => applyJsonPatch({ a: 1 }, [{ op: 'remove', path: '/b' }])).status).toBe(422);
    expect(thrown(() => applyJsonPatch({ a: 1 }, [{ op: 'replace', path: '/b', value: 2 }])).status).toBe(422);
  });

  it('refuses to move a value into one of its own children (422)', () => {
    const error = thrown(() => applyJsonPatch({ a: { b: {} } }, [{ op: 'move', from: '/a', path: '/a/b/c' }]));
    expect(error.status).toBe(422);
  });

  it('moves a value to a sibling whose name merely starts with the same characters', () => {
    expect(patched({ a: 1 }, [{ op: 'move', from: '/a', path: '/ab' }])).toEqual({ ab: 1 });
  });

  it('replaces the whole document with path ""', () => {
    expect(patched({ a: 1 }, [{ op: 'replace', path: '', value: { b: 2 } }])).toEqual({ b: 2 });
  });

  it('adds null as a value (value is present, if null)', () => {
    expect(patched({ a: 1 }, [{ op: 'add', path: '/b', value: null }])).toEqual({ a: 1, b: null });
  });

  it('tests objects as equal whatever the order of their members, and arrays element by element', () => {
    const document = { a: { x: 1, y: [1, { z: 2 }] } };
    expect(patched(document, [{ op: 'test', path: '/a', value: { y: [1, { z: 2 }], x: 1 } }])).toEqual(document);
    expect(thrown(() => applyJsonPatch(document, ([{ op: 'test', path: '/a/y', value: [{ z: 2 }, 1] }]))).status).toBe(422);
  });

  it('tests the whole document with path ""', () => {
    expect(patched({ a: 1 }, [{ op: 'test', path: '', value: { a: 1 } }])).toEqual({ a: 1 });
    expect(thrown(() => applyJsonPatch({ a: 1 }, ([{ op: 'test', path: '', value: { a: 2 } }]))).status).toBe(422);
  });

  it('tests numbers by numeric value: 0 equals -0 (RFC 6902 section 4.6)', () => {
    expect(patched({ a: 0 }, [{ op: 'test', path: '/a', value: JSON.parse('-0') }])).toEqual({ a: 0 });
  });

  it('adds a member named "__proto__" as an ordinary member (RFC 6901 tokens are plain member names)', () => {
    const result = patched({ a: 1 }, [{ op: 'add', path: '/__proto__', value: { polluted: true } }]) as Record<string, unknown>;
    expect(Object.hasOwn(result, '__proto__')).toBe(true);
    expect(result.polluted).toBeUndefined();
  });
});

describe('the patch as a whole', () => {
  it('applies operations in order, each on the result of the one before', () => {
    const patch = [
      { op: 'add', path: '/list', value: [] },
      { op: 'add', path: '/list/-', value: 'first' },
      { op: 'add', path: '/list/0', value: 'zeroth' },
      { op: 'test', path: '/list/1', value: 'first' },
      { op: 'move', from: '/list/0', path: '/moved' },
    ];
    expect(patched({}, patch)).toEqual({ list: ['first'], moved: 'zeroth' });
  });

  it('is all or nothing: a failing third operation throws and leaves the original untouched', () => {
    const document = { resourceType: 'Patient', id: 'p1', active: true, name: [{ family: 'Chalmers' }] };
    const before = structuredClone(document);
    const patch = [
      { op: 'replace', path: '/active', value: false },
      { op: 'add', path: '/name/0/given', value: ['Peter'] },
      { op: 'test', path: '/name/0/family', value: 'Windsor' },
    ];
    const error = thrown(() => applyJsonPatch(document, patch));
    expect(error.status).toBe(422);
    expect(error.message).toContain('operation 2');
    expect(document).toEqual(before);
  });

  it('never modifies the input document, even where the result shares its shape', () => {
    const document = { resourceType: 'Patient', id: 'p1', name: [{ given: ['Peter'] }], telecom: [{ value: '1' }, { value: '2' }] };
    const before = structuredClone(document);
    const result = applyJsonPatch(document, [
      { op: 'add', path: '/name/0/given/-', value: 'James' },
      { op: 'remove', path: '/telecom/0' },
    ]) as typeof document;
    expect(document).toEqual(before);
    expect(result.name[0]).not.toBe(document.name[0]);
    expect(result).toEqual({ resourceType: 'Patient', id: 'p1', name: [{ given: ['Peter', 'James'] }], telecom: [{ value: '2' }] });
  });

  it('does not let the result share objects with the patch document', () => {
    const value = { given: ['Peter'] };
    const result = applyJsonPatch({}, [{ op: 'add', path: '/name', value }]) as { name: { given: string[] } };
    result.name.given.push('James');
    expect(value).toEqual({ given: ['Peter'] });
  });

  it('returns an equal copy for an empty patch', () => {
    const document = { a: [1] };
    const result = applyJsonPatch(document, []);
    expect(result).toEqual(document);
    expect(result).not.toBe(document);
  });
});

describe('malformed patch documents (400)', () => {
  it.each<[string, unknown]>([
    ['an object instead of an array', { op: 'add', path: '/a', value: 1 }],
    ['a string', '[{"op":"add","path":"/a","value":1}]'],
    ['null', null],
  ])('refuses a patch that is %s', (_, patch) => {
    expect(thrown(() => applyJsonPatch({}, patch)).status).toBe(400);
  });

  it.each<[string, unknown, string]>([
    ['an operation that is not an object', ['add'], 'operation 0'],
    ['an unknown op', [{ op: 'append', path: '/a', value: 1 }], 'operation 0'],
    ['a missing op', [{ path: '/a', value: 1 }], 'operation 0'],
    ['a missing path', [{ op: 'remove' }], 'operation 0'],
    ['a path that is not a string', [{ op: 'remove', path: 1 }], 'operation 0'],
    ['a path not starting with /', [{ op: 'add', path: '/a', value: 1 }, { op: 'add', path: 'b', value: 1 }], 'operation 1'],
    ['a from not starting with /', [{ op: 'move', from: 'a', path: '/b' }], 'operation 0'],
    ['add without value', [{ op: 'add', path: '/a' }], 'operation 0'],
    ['replace without value', [{ op: 'replace', path: '/a' }], 'operation 0'],
    ['test without value', [{ op: 'test', path: '/a' }], 'operation 0'],
    ['move without from', [{ op: 'move', path: '/a' }], 'operation 0'],
    ['copy without from', [{ op: 'copy', path: '/a' }], 'operation 0'],
  ])('refuses %s, naming the operation', (_, patch, named) => {
    const error = thrown(() => applyJsonPatch({ a: 1 }, patch));
    expect(error.status).toBe(400);
    expect(error.message).toContain(named);
  });

  it('checks the whole patch before applying any of it: a malformed last operation is a 400, not a 422 from an earlier one', () => {
    const patch = [{ op: 'remove', path: '/missing' }, { op: 'add', path: 'no-slash', value: 1 }];
    expect(thrown(() => applyJsonPatch({}, patch)).status).toBe(400);
  });
});
