import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import type { Issue } from '../../server/fhir/outcome.js';
import { type ExpectedIssue, INVALID_EXAMPLES, INVALID_EXAMPLES_DIR } from '../support/invalid-profile-examples.js';
import { validate } from './validator.js';

/**
 * The guide's invalid examples (test/fixtures/profiles/invalid/): each a valid example broken in one way, with the
 * issues worked out by hand from the profiles (index.json says how). Each expected issue must be reported, with
 * its severity, code and location, naming its invariant or slice; and no other error may be, apart from those the
 * index allows (a broken value can also leave a required value missing).
 */
type Expected = ExpectedIssue;
const DIR = INVALID_EXAMPLES_DIR;
const index = { fixtures: INVALID_EXAMPLES };

const matches = (issue: Issue, expected: Expected) =>
  (issue.severity ?? 'error') === expected.severity && issue.code === expected.code && issue.expression?.[0] === expected.expression;

const describeIssue = (issue: Issue) => `${issue.severity} ${issue.code} @ ${issue.expression?.[0]}: ${issue.diagnostics}`;

describe('the CCP profiles refuse their invalid examples with the expected issue and location', () => {
  it('has fixtures for every rule the issue names (30 or more)', () => {
    expect(index.fixtures.length).toBeGreaterThanOrEqual(30);
  });

  it.each(index.fixtures.map((fixture) => [fixture.file, fixture] as const))('%s', (_file, fixture) => {
    const resource = JSON.parse(readFileSync(new URL(fixture.file, DIR), 'utf8')) as Record<string, unknown>;
    const issues = validate(resource, fixture.profile);
    for (const expected of fixture.expected) {
      const found = issues.filter((issue) => matches(issue, expected));
      expect({ expected, found: found.map(describeIssue), all: issues.map(describeIssue) }).toEqual(expect.objectContaining({ found: expect.arrayContaining([expect.any(String)]) }));
      if (expected.key) expect(found.some((issue) => issue.diagnostics.startsWith(`${expected.key}:`))).toBe(true);
      if (expected.slice) expect(found.some((issue) => issue.diagnostics.includes(`'${expected.slice}'`))).toBe(true);
    }
    const allowed = [...fixture.expected, ...(fixture.alsoAllowed ?? [])];
    const unexpected = issues.filter((issue) => (issue.severity ?? 'error') === 'error' && !allowed.some((entry) => matches(issue, entry)));
    expect(unexpected.map(describeIssue)).toEqual([]);
  });
});
