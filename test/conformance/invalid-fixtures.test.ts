import { readdirSync, readFileSync } from 'node:fs';
import type { ElementDefinition, Resource, StructureDefinition } from 'fhir/r4';
import { loadGuide } from '../../server/conformance/guide.js';
import { r4Definitions } from '../../server/conformance/definitions.js';
import { validateResource } from '../../server/validation/validate-resource.js';
import { schemaValidator } from '../support/fhir-app.js';
import { INVALID_EXAMPLES, INVALID_EXAMPLES_DIR } from '../support/invalid-profile-examples.js';

/**
 * The invalid examples of the CCP profiles (test/fixtures/profiles/invalid/) are test material for the profile
 * validator; the test that runs them through it lives with the validator. This one checks the fixtures
 * themselves: each is still a valid R4 resource (only a profile rule is broken), claims its profile, differs
 * from the example it was made from, and its expectations name elements, slices and invariants the profile has.
 */
const DIR = INVALID_EXAMPLES_DIR;
const ROOT = new URL('../../', import.meta.url);
const index = { fixtures: INVALID_EXAMPLES };
const read = (url: URL) => JSON.parse(readFileSync(url, 'utf8')) as Resource;
const guide = loadGuide();
const profileOf = (url: string) => guide.resources.find((resource): resource is StructureDefinition & { id: string; url: string } => resource.url === url && resource.resourceType === 'StructureDefinition');
/** `Consent.extension[0].extension[2].valueCode` → `Consent.extension.extension.valueCode`. */
const elementPath = (expression: string) => expression.replace(/\[\d+\]/g, '');

describe('the invalid examples of the CCP profiles (test/fixtures/profiles/invalid/)', () => {
  it('index.json lists every fixture file once', () => {
    const files = readdirSync(DIR).filter((name) => name.endsWith('.json') && name !== 'index.json').sort();
    expect(index.fixtures.map((fixture) => fixture.file).sort()).toEqual(files);
  });

  it('cover every profile of the guide', () => {
    // The REST AuditEvent base's rules are broken through the BALP patterns that inherit them.
    const profiles = [...guide.profilesByType.values()].flat().filter((url) => !url.endsWith('/ccp-rest-audit-event'));
    expect([...new Set(index.fixtures.map((fixture) => fixture.profile))].sort()).toEqual(profiles.sort());
  });

  describe.each(index.fixtures.map((fixture) => [fixture.file, fixture] as const))('%s', (_file, fixture) => {
    const resource = read(new URL(fixture.file, DIR));
    const profile = profileOf(fixture.profile);

    it('is a valid R4 resource (JSON schema and FHIR JSON rules): only the profile is broken', () => {
      expect(() => validateResource({ schema: schemaValidator() }, resource, resource.resourceType)).not.toThrow();
    });

    it('claims its profile, a profile of its type in the guide', () => {
      expect(resource.meta?.profile).toEqual([fixture.profile]);
      expect(profile?.type).toBe(resource.resourceType);
    });

    it('differs from the example it was made from beyond its id', () => {
      const source = read(new URL(fixture.from, ROOT));
      expect(source.meta?.profile).toEqual([fixture.profile]);
      expect({ ...resource, id: source.id }).not.toEqual(source);
    });

    it('expects errors at elements, slices and invariants the profile (or R4) has', () => {
      expect(fixture.expected.length).toBeGreaterThan(0);
      const elements: ElementDefinition[] = profile?.snapshot?.element ?? [];
      const base = r4Definitions().typeDefinition(resource.resourceType)?.snapshot?.element ?? [];
      for (const issue of [...fixture.expected, ...(fixture.alsoAllowed ?? [])]) {
        expect(issue.severity).toBe('error');
        expect(['required', 'value', 'invariant', 'structure', 'code-invalid']).toContain(issue.code);
        expect(issue.expression === resource.resourceType || issue.expression.startsWith(`${resource.resourceType}.`)).toBe(true);
      }
      for (const issue of fixture.expected) {
        const path = elementPath(issue.expression);
        if (issue.code === 'invariant') {
          // Declared on that element, by the profile or (ppc-1) by R4 itself.
          const declared = [...elements, ...base].filter((element) => element.path === path).flatMap((element) => element.constraint ?? []);
          expect({ path, key: issue.key, declared: declared.some((constraint) => constraint.key === issue.key) }).toEqual({ path, key: issue.key, declared: true });
        } else if (issue.code === 'required' || issue.code === 'value') {
          expect({ path, known: elements.some((element) => element.path === path) }).toEqual({ path, known: true });
        }
        if (issue.slice) {
          // A slice too short (min 1) or one that must stay empty (max 0).
          const slice = elements.find((element) => element.path === path && element.sliceName === issue.slice);
          const limit = issue.code === 'required' ? { min: slice?.min } : { max: slice?.max };
          expect({ path, slice: issue.slice, ...limit }).toEqual({ path, slice: issue.slice, ...(issue.code === 'required' ? { min: 1 } : { max: '0' }) });
        }
      }
    });
  });
});
