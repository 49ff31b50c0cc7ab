import { readFileSync } from 'node:fs';

/** One expected issue of an invalid example (test/fixtures/profiles/invalid/index.json says how to read it). */
export interface ExpectedIssue {
  severity: string;
  code: string;
  expression: string;
  /** The invariant that fails. */
  key?: string;
  /** The slice whose cardinality fails. */
  slice?: string;
}

export interface InvalidExample {
  file: string;
  profile: string;
  /** The valid example it was made from. */
  from: string;
  broken: string;
  rule: string;
  expected: ExpectedIssue[];
  /** Other errors a validator may add (a broken value can also leave a required value missing). */
  alsoAllowed?: ExpectedIssue[];
}

export const INVALID_EXAMPLES_DIR = new URL('../fixtures/profiles/invalid/', import.meta.url);

export const INVALID_EXAMPLES = (JSON.parse(readFileSync(new URL('index.json', INVALID_EXAMPLES_DIR), 'utf8')) as { fixtures: InvalidExample[] }).fixtures;
