// Jest global setup: compile the server once (incremental tsc into dist/) before any suite starts, so suites
// that run `node dist/server/main.js` as a real process test the current sources and never build concurrently.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export default function buildServer() {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, env, stdio: 'inherit' });
}
