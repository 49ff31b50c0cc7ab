import { R4_SEARCH_PARAMETERS } from '../../server/fhir/r4/search-parameters.generated.js';
import { R4_REGISTRY, SearchParameterRegistry } from '../../server/search/registry.js';
import type { SearchParamDefinition } from '../../server/fhir/r4/search-parameter.js';

describe('SearchParameterRegistry', () => {
  it('gives a type its own parameters and the Resource-level ones', () => {
    const codes = R4_REGISTRY.forType('Patient').map((d) => d.code);
    expect(codes).toEqual(expect.arrayContaining(['_id', '_lastUpdated', '_tag', '_security', '_profile', '_source']));
    expect(codes).toEqual(expect.arrayContaining(['name', 'birthdate', 'identifier', 'general-practitioner']));
    expect(codes).not.toContain('code');
    expect(new Set(codes).size).toBe(codes.length);
    // Binary has no parameters of its own in R4; the Resource ones still apply.
    expect(R4_REGISTRY.forType('Binary').map((d) => d.code).sort()).toEqual([
      '_id',
      '_lastUpdated',
      '_profile',
      '_security',
      '_source',
      '_tag',
    ]);
  });

  it('looks a parameter up by type and code, Resource-level ones included', () => {
    expect(R4_REGISTRY.get('Observation', 'code')?.expression).toBe('Observation.code');
    expect(R4_REGISTRY.get('Observation', '_id')?.expression).toBe('Resource.id');
    expect(R4_REGISTRY.get('Observation', 'birthdate')).toBeUndefined();
    expect(R4_REGISTRY.get('NoSuchType', 'code')).toBeUndefined();
  });

  it('lets definitions added later (custom SearchParameters) replace or extend the official ones', () => {
    const custom: SearchParamDefinition[] = [
      { code: 'mothers-maiden-name', base: 'Patient', type: 'string', url: 'http://example.org/sp/mmn',
        expression: "Patient.extension('http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName')" },
      { code: 'name', base: 'Patient', type: 'string', url: 'http://example.org/sp/name', expression: 'Patient.name.family' },
    ];
    const registry = new SearchParameterRegistry([...R4_SEARCH_PARAMETERS, ...custom]);
    expect(registry.get('Patient', 'mothers-maiden-name')?.url).toBe('http://example.org/sp/mmn');
    expect(registry.get('Patient', 'name')?.expression).toBe('Patient.name.family');
    expect(registry.forType('Patient').filter((d) => d.code === 'name')).toHaveLength(1);
  });
});
