import { describe, expect, it } from '@jest/globals';
import type { Issue } from '../../server/fhir/outcome.js';
import { mergeIssues, samePathForm } from '../../server/validation/merge-issues.js';

/** The schema's and the definition walk's findings, one issue per problem (server/validation/merge-issues.ts). */
describe('merging the schema and the definition issues', () => {
  it('reads the walk path forms as the schema writes them: a choice type joins its name, a nested resource type goes', () => {
    expect(samePathForm('Bundle.entry[2].resource.ofType(Observation).value.ofType(Quantity).value')).toBe('Bundle.entry[2].resource.valueQuantity.value');
    expect(samePathForm('CarePlan.contained[0].ofType(Goal).target[0].due.ofType(date)')).toBe('CarePlan.contained[0].target[0].dueDate');
  });

  it('keeps one issue per element and kind of problem, in the first list wording; other problems all stay', () => {
    const schema: Issue[] = [
      { code: 'structure', diagnostics: 'Observation.valueQuantity.value must be number', expression: ['Observation.valueQuantity.value'] },
      { code: 'structure', diagnostics: 'Observation.colour is not a known element here', expression: ['Observation.colour'] },
      { code: 'structure', diagnostics: 'Observation.subject is required', expression: ['Observation.subject'] },
    ];
    const definition: Issue[] = [
      { severity: 'error', code: 'value', diagnostics: 'Observation.value.ofType(Quantity).value: a decimal is a JSON number, found a string', expression: ['Observation.value.ofType(Quantity).value'] },
      { severity: 'error', code: 'structure', diagnostics: 'Observation.colour is not a known element of Observation', expression: ['Observation.colour'] },
      { severity: 'error', code: 'required', diagnostics: 'Observation.subject: subject needs at least 1 value, found none', expression: ['Observation.subject'] },
      { severity: 'error', code: 'required', diagnostics: 'Observation.status: status needs at least 1 value, found none', expression: ['Observation.status'] },
      { severity: 'error', code: 'structure', diagnostics: 'Observation.performer[0].reference: Encounter/e is a Encounter, but …', expression: ['Observation.performer[0].reference'] },
    ];
    expect(mergeIssues(schema, definition).map((i) => i.diagnostics)).toEqual([
      ...schema.map((i) => i.diagnostics),
      'Observation.status: status needs at least 1 value, found none',
      'Observation.performer[0].reference: Encounter/e is a Encounter, but …',
    ]);
  });

  it('a profile restating its base definition word for word is not repeated; a different rule at the same element is kept', () => {
    const base: Issue = { severity: 'error', code: 'structure', diagnostics: 'CarePlan.goal[0].reference: Observation/o is a Observation, but CarePlan.goal may refer to Goal only', expression: ['CarePlan.goal[0].reference'] };
    const restated: Issue = { ...base, diagnostics: `${base.diagnostics} (profile http://example.org/p)` };
    const other: Issue = { severity: 'error', code: 'invariant', diagnostics: 'ccp-1: the subject is a Patient (CarePlan)', expression: ['CarePlan.goal[0].reference'] };
    expect(mergeIssues([base], [restated, other])).toEqual([base, other]);
  });
});
