// Jest's test sequencer (jest.config.js), with one change for a run that knows no timings.
//
// Jest starts the suites that took longest in its last run on this machine first, so that no worker is left running a
// long suite alone at the end; without that cache (a clean clone, CI) it goes by file size, largest first. Several
// of the slowest suites are small files (the official examples, the Synthea import, the docs' walk-throughs, the
// server processes), so by size they start among the last and end the run on one worker while the other idles.
// Without timings, these start first, in the order below (slowest first), then the rest as jest orders them.
import path from 'node:path';
import jestSequencer from '@jest/test-sequencer';

const Sequencer = jestSequencer.default;

/** The slowest suites on a quiet two-core machine, slowest first (from the CI runs' timings). */
const SLOWEST = [
  'test/examples-roundtrip.test.ts',
  'test/search/synthea.test.ts',
  'test/demo/demo-world.test.ts',
  'test/bundle/synthea-import.test.ts',
  'test/validation/official-examples.test.ts',
  'test/consent/access-property.test.ts',
  'test/http/api.test.ts',
  'test/conformance/guide-served.test.ts',
  'test/docs/walkthroughs.test.ts',
  'test/notifications/e2e/never-lost.test.ts',
  'test/cli.test.ts',
  'test/import/import-cli.test.ts',
  'test/bundle/transaction.test.ts',
  'test/auth/caller-cache.test.ts',
];

export default class SlowFirstSequencer extends Sequencer {
  sort(tests) {
    const sorted = super.sort(tests);
    // Timings from an earlier run here: jest's own order is better informed than this list.
    if (sorted.some((test) => test.duration != null)) return sorted;
    const rank = (test) => SLOWEST.indexOf(path.relative(test.context.config.rootDir, test.path).split(path.sep).join('/'));
    const listed = sorted.filter((test) => rank(test) >= 0).sort((a, b) => rank(a) - rank(b));
    return [...listed, ...sorted.filter((test) => rank(test) < 0)];
  }
}
