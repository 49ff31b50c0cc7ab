import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Bundle } from 'fhir/r4';
import { openDatabase } from '../../server/store/open.js';
import { migratedDataDir } from '../support/data-dir.js';
import { runImport, runScript } from './support.js';

/** `npm run generate -- --patients N --out DIR`, then `npm run import -- DIR` into an empty embedded database. */
describe('npm run generate', () => {
  const work = mkdtempSync(path.join(os.tmpdir(), 'ccp-generate-'));
  const out = path.join(work, 'generated');
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('writes transaction Bundles that npm run import loads, every one', async () => {
    const generated = await runScript('generate.mjs', ['--patients', '3', '--out', out]);
    expect(generated.code).toBe(0);
    const files = readdirSync(out).sort();
    expect(files).toEqual(['generated-0000-organizations-and-staff.json', 'generated-0001-patients-0-2.json']);
    const bundles = files.map((file) => JSON.parse(readFileSync(path.join(out, file), 'utf8')) as Bundle);
    const written: Record<string, number> = {};
    for (const bundle of bundles) {
      expect(bundle.type).toBe('transaction');
      for (const entry of bundle.entry ?? []) written[entry.resource!.resourceType] = (written[entry.resource!.resourceType] ?? 0) + 1;
    }
    expect(written.Patient).toBe(3);
    expect(written.CarePlan).toBe(3);
    expect(written.AuditEvent).toBeUndefined();

    const dataDir = migratedDataDir(path.join(work, 'data'));
    const imported = await runImport([out], { DATA_DIR: dataDir });
    expect(imported.code).toBe(0);
    expect(imported.stdout).toMatch(/from 2 of 2 files/);
    const db = await openDatabase({ dataDir });
    try {
      const rows = await db.query<{ resource_type: string; n: number }>(
        "SELECT resource_type, count(*)::int AS n FROM resource WHERE NOT deleted AND resource_type <> 'AuditEvent' GROUP BY resource_type",
      );
      expect(Object.fromEntries(rows.map((row) => [row.resource_type, row.n]))).toEqual(written);
    } finally {
      await db.close();
    }
  }, 240_000);

  it('refuses a folder that already holds .json files, and a missing --out', async () => {
    const again = await runScript('generate.mjs', ['--patients', '3', '--out', out]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already holds .json files');
    const bare = await runScript('generate.mjs', ['--patients', '3']);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('usage: npm run generate -- --patients N --out DIR');
  });
});
