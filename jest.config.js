/** Jest runs the TypeScript sources as ESM through ts-jest (the project is ESM-only). */
export default {
  preset: 'ts-jest/presets/default-esm',
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
  testTimeout: 60000,
  globalSetup: '<rootDir>/test/support/build-server.mjs',
  // The slowest suites first when jest knows no timings (a clean clone): see the file.
  testSequencer: '<rootDir>/test/support/slow-first-sequencer.mjs',
  // A worker keeps what each suite's module registry leaves behind: in a whole run the two workers grew to 5 GB each,
  // where collecting garbage costs much of the CPU. A worker past this after a suite is replaced by a fresh one.
  workerIdleMemoryLimit: '2GB',
};
