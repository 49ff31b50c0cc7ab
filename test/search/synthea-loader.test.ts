import type { Group, Organization, Practitioner, Resource } from 'fhir/r4';
import { dependencyLevels, prepareSynthea, referencesOf, resolveConditional, SEARCH_PATIENTS, syntheaPatientNames } from '../support/synthea.js';

/** The loader the search suites rely on, checked without a server: what it writes is what the bundles say. */
describe('the Synthea loader', () => {
  const set = prepareSynthea(SEARCH_PATIENTS);

  it('finds the 100 patient files and the chosen ones', () => {
    const names = syntheaPatientNames();
    expect(names).toHaveLength(100);
    for (const name of SEARCH_PATIENTS) expect(names).toContain(name);
    expect(set.patientIds.size).toBe(SEARCH_PATIENTS.length);
  });

  it('leaves no urn:uuid reference: each became Type/id, and all but the Group members point into the set', () => {
    const dangling: string[] = [];
    for (const resource of set.resources.values()) {
      for (const reference of referencesOf(resource)) {
        expect(reference).not.toMatch(/^urn:/);
        expect(reference).toMatch(/^(#[\w-]+|[A-Z][A-Za-z]+\/[A-Za-z0-9\-.]+)$/);
        if (!reference.startsWith('#') && !set.resources.has(reference)) dangling.push(`${resource.resourceType}:${reference}`);
      }
    }
    // Only the Group names patients that were not chosen; every patient record is self-contained.
    const group = set.ofType<Group>('Group')[0];
    expect(group.member).toHaveLength(100);
    expect(dangling.every((d) => d.startsWith('Group:Patient/'))).toBe(true);
    expect(dangling).toHaveLength(100 - SEARCH_PATIENTS.length);
  });

  it('orders writes so that nothing references a resource written after it', () => {
    const level = new Map<string, number>();
    set.levels.forEach((resources, n) => resources.forEach((r) => level.set(`${r.resourceType}/${r.id}`, n)));
    expect(level.size).toBe(set.resources.size);
    for (const [key, n] of level) {
      for (const reference of referencesOf(set.resources.get(key)!)) {
        if (level.has(reference) && reference !== key) expect(level.get(reference)!).toBeLessThan(n);
      }
    }
  });

  it('keeps the last copy of a resource that several bundles hold (the patient bundles repeat the information ones)', () => {
    // The information bundle's Organizations carry utilization extensions; the patient bundles' copies do not.
    const repeated = set.ofType<Organization>('Organization').filter((o) => !o.extension);
    const fromInformationOnly = set.ofType<Organization>('Organization').filter((o) => o.extension);
    expect(repeated.length).toBeGreaterThan(0);
    expect(fromInformationOnly.length).toBeGreaterThan(0);
    expect(repeated.length + fromInformationOnly.length).toBe(203);
  });

  it('resolves a conditional reference by identifier to the one resource it names, and refuses anything else', () => {
    const made: (Organization | Practitioner)[] = [
      { resourceType: 'Organization', id: 'a', identifier: [{ system: 'https://github.com/synthetichealth/synthea', value: 'x1' }] },
      { resourceType: 'Organization', id: 'b', identifier: [{ system: 'https://github.com/synthetichealth/synthea', value: 'x2' }] },
      { resourceType: 'Practitioner', id: 'c', identifier: [{ system: 'http://hl7.org/fhir/sid/us-npi', value: 'x1' }] },
    ];
    const resources = new Map<string, Resource>(made.map((r) => [`${r.resourceType}/${r.id}`, r]));
    expect(resolveConditional('Organization', 'identifier=https://github.com/synthetichealth/synthea|x1', resources, 'test')).toBe('Organization/a');
    expect(resolveConditional('Organization', 'identifier=x2', resources, 'test')).toBe('Organization/b');
    expect(resolveConditional('Practitioner', 'identifier=http://hl7.org/fhir/sid/us-npi|x1', resources, 'test')).toBe('Practitioner/c');
    expect(() => resolveConditional('Organization', 'identifier=nothing', resources, 'test')).toThrow(/matches 0/);
    expect(() => resolveConditional('Organization', 'name=x', resources, 'test')).toThrow(/cannot resolve/);
  });

  it('the dependency levels of a reference chain follow the chain', () => {
    const chain = new Map<string, Resource>([
      ['Claim/c', { resourceType: 'Claim', id: 'c', patient: { reference: 'Patient/p' } } as unknown as Resource],
      ['ExplanationOfBenefit/e', { resourceType: 'ExplanationOfBenefit', id: 'e', claim: { reference: 'Claim/c' } } as unknown as Resource],
      ['Patient/p', { resourceType: 'Patient', id: 'p' }],
    ]);
    expect(dependencyLevels(chain).map((l) => l.map((r) => r.id))).toEqual([['p'], ['c'], ['e']]);
  });
});
