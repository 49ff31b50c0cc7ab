// @ts-expect-error: a plain ESM script without type declarations
import { extractSearchParameters, render } from '../../scripts/extract-r4-search-parameters.mjs';
import { readFileSync } from 'node:fs';
import { R4_SEARCH_PARAMETERS } from '../../server/fhir/r4/search-parameters.generated.js';
import { isResourceType } from '../../server/fhir/resource-types.js';
import { compileExpression } from '../../server/search/index/expression.js';
import { splitUnion } from '../../server/search/index/union.js';
import type { SearchParamDefinition } from '../../server/fhir/r4/search-parameter.js';

const find = (base: string, code: string): SearchParamDefinition | undefined =>
  R4_SEARCH_PARAMETERS.find((d) => d.base === base && d.code === code);

describe('R4 search parameters extracted from the official Bundle-searchParams.json', () => {
  it('the committed file is what the extractor makes (run npm run extract-search-parameters)', () => {
    const committed = readFileSync(new URL('../../server/fhir/r4/search-parameters.generated.ts', import.meta.url), 'utf8');
    expect(render(extractSearchParameters())).toBe(committed);
  });

  it('has one definition per (base, code), every base a resource type or Resource', () => {
    const keys = R4_SEARCH_PARAMETERS.map((d) => `${d.base}.${d.code}`);
    expect(new Set(keys).size).toBe(keys.length);
    for (const d of R4_SEARCH_PARAMETERS) expect(d.base === 'Resource' || isResourceType(d.base)).toBe(true);
  });

  it('splits a multi-base parameter so each base keeps only its own union parts', () => {
    // clinical-patient: `AllergyIntolerance.patient | CarePlan.subject.where(resolve() is Patient) | …`
    expect(find('CarePlan', 'patient')).toEqual({
      code: 'patient',
      base: 'CarePlan',
      type: 'reference',
      expression: 'CarePlan.subject.where(resolve() is Patient)',
      target: ['Patient', 'Group'],
      url: 'http://hl7.org/fhir/SearchParameter/clinical-patient',
      description: 'Who the care plan is for',
    });
    expect(find('AllergyIntolerance', 'patient')?.expression).toBe('AllergyIntolerance.patient');
    // clinical-code keeps its parenthesised part for DeviceRequest.
    expect(find('DeviceRequest', 'code')?.expression).toBe('(DeviceRequest.code as CodeableConcept)');
    // A base with several parts keeps all of them, in order.
    expect(find('Observation', 'combo-code')?.expression).toBe('Observation.code | Observation.component.code');
    expect(find('ActivityDefinition', 'context-quantity')?.expression).toBe(
      '(ActivityDefinition.useContext.value as Quantity) | (ActivityDefinition.useContext.value as Range)',
    );
  });

  it('keeps Resource-level parameters on base Resource and leaves out special ones and those without expression', () => {
    const resource = R4_SEARCH_PARAMETERS.filter((d) => d.base === 'Resource').map((d) => d.code).sort();
    expect(resource).toEqual(['_id', '_lastUpdated', '_profile', '_security', '_source', '_tag']);
    expect(R4_SEARCH_PARAMETERS.some((d) => d.type === 'special')).toBe(false);
    expect(find('Location', 'near')).toBeUndefined();
    expect(R4_SEARCH_PARAMETERS.some((d) => ['_text', '_content', '_query'].includes(d.code))).toBe(false);
  });

  it('names composite components by the code of the parameter their definition URL points to', () => {
    expect(find('Observation', 'component-code-value-quantity')?.component).toEqual([
      { code: 'component-code', expression: 'code' },
      { code: 'component-value-quantity', expression: 'value.as(Quantity)' },
    ]);
    // conformance-context-type-value points at the multi-base conformance-context-type and conformance-context.
    expect(find('ValueSet', 'context-type-value')?.component).toEqual([
      { code: 'context-type', expression: 'code' },
      { code: 'context', expression: 'value.as(CodeableConcept)' },
    ]);
    for (const d of R4_SEARCH_PARAMETERS.filter((p) => p.type === 'composite')) {
      for (const c of d.component ?? []) expect(find(d.base, c.code)).toBeDefined();
    }
  });

  it('repairs the two published defects that would make a parameter index nothing', () => {
    // InsurancePlan-name is written relative (`name | alias`).
    expect(find('InsurancePlan', 'name')?.expression).toBe('InsurancePlan.name | InsurancePlan.alias');
    // DocumentReference-relationship pairs relatesto (reference, relatesTo.target) with `code`, relation with `target`.
    expect(find('DocumentReference', 'relationship')?.component).toEqual([
      { code: 'relatesto', expression: 'target' },
      { code: 'relation', expression: 'code' },
    ]);
  });

  it('describes each base with its own line of a multi-resource description', () => {
    expect(find('Condition', 'patient')?.description).toBe('Who has the condition?');
    expect(find('Patient', 'birthdate')?.description).toBe("The patient's date of birth");
  });

  it('splits unions at the top level only, the same way in the script and the server', () => {
    const expression = "(A.b as C) | A.d.where(e = 'x|y') | A.f.where(resolve() is G)";
    const expected = ['(A.b as C)', "A.d.where(e = 'x|y')", 'A.f.where(resolve() is G)'];
    expect(splitUnion(expression)).toEqual(expected);
  });

  it('every expression and component expression compiles and runs on an empty resource of its base', () => {
    const failures: string[] = [];
    for (const d of R4_SEARCH_PARAMETERS) {
      const resource = { resourceType: d.base === 'Resource' ? 'Patient' : d.base };
      for (const expression of [d.expression ?? '', ...(d.component ?? []).map((c) => c.expression)]) {
        try {
          for (const branch of compileExpression(expression)) branch.evaluate(resource, { resource });
        } catch (error) {
          failures.push(`${d.base}.${d.code}: ${expression}: ${(error as Error).message}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });
});
