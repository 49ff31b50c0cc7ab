import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const committedDir = path.join(root, 'conformance', 'profiles');

/** The .json files of a guide folder (top level and examples/), by path relative to it. */
function guideFiles(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const sub of ['', 'examples']) {
    const at = path.join(dir, sub);
    if (!existsSync(at)) continue;
    for (const name of readdirSync(at).sort()) if (name.endsWith('.json')) files.set(path.join(sub, name), readFileSync(path.join(at, name)));
  }
  return files;
}

describe('the committed guide (conformance/profiles/) is what npm run profiles makes from profiles/input/fsh', () => {
  let scratch: string;
  beforeAll(() => {
    scratch = mkdtempSync(path.join(os.tmpdir(), 'ccp-guide-'));
  });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  // SUSHI with snapshots takes 6-8 s on a quiet machine; a busy CI runner may take several times that.
  it('byte for byte, with no file missing and none left over', () => {
    const built = path.join(scratch, 'guide');
    const run = spawnSync(process.execPath, [path.join(root, 'profiles', 'build.mjs'), '--out', path.join(scratch, 'sushi'), '--guide', built], {
      encoding: 'utf8',
      // SUSHI logs in colour to a terminal only; keep the output readable if it has to be shown.
      env: { ...process.env, FORCE_COLOR: '0' },
    });
    if (run.status !== 0) throw new Error(`npm run profiles failed (exit ${run.status}):\n${run.stdout}\n${run.stderr}`);

    const expected = guideFiles(built);
    const committed = guideFiles(committedDir);
    const differences = [
      ...[...expected.keys()].filter((name) => !committed.has(name)).map((name) => `${name}: missing from conformance/profiles/`),
      ...[...committed.keys()].filter((name) => !expected.has(name)).map((name) => `${name}: no longer made by the FSH (stale)`),
      ...[...expected].filter(([name, bytes]) => committed.has(name) && !bytes.equals(committed.get(name)!)).map(([name]) => `${name}: differs`),
    ];
    if (differences.length) {
      throw new Error(`conformance/profiles/ is out of date with profiles/input/fsh: run npm run profiles and commit conformance/profiles/.\n  ${differences.join('\n  ')}`);
    }
    // The build writes the definitions at the top and the examples below: one example per profile (12).
    expect([...expected.keys()].filter((name) => name.startsWith('examples')).length).toBe(12);
    expect(expected.has('ImplementationGuide-ccp-exchange.json')).toBe(true);
  }, 180_000);
});
