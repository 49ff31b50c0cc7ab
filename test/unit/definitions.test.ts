// @ts-expect-error: a plain ESM script without type declarations
import { extractElements, render } from '../../scripts/extract-r4-elements.mjs';
// @ts-expect-error: a plain ESM script without type declarations
import { extractCompartments, render as renderCompartments } from '../../scripts/extract-r4-compartments.mjs';
import { readFileSync } from 'node:fs';
import { RESOURCE_TYPES } from '../../server/fhir/resource-types.js';

describe('R4 element facts extracted from the official StructureDefinitions', () => {
  it('the committed file is what the extractor makes from hl7.fhir.r4.examples (run npm run extract-definitions)', () => {
    const committed = readFileSync(new URL('../../server/fhir/r4/elements.generated.ts', import.meta.url), 'utf8');
    expect(render(extractElements())).toBe(committed);
  });

  it('covers exactly the resource types of the JSON schema', () => {
    expect(Object.keys(extractElements()).sort()).toEqual([...RESOURCE_TYPES]);
  });

  it('knows the summary and mandatory elements the specification gives (spot checks)', () => {
    const elements = extractElements();
    // From the R4 Observation page: status and code are 1..1 and in the summary; value[x] is a summary choice.
    expect(elements.Observation.mandatory).toEqual(['status', 'code']);
    expect(elements.Observation.summary).toEqual(expect.arrayContaining(['status', 'code', 'value[x]', 'subject']));
    expect(elements.Observation.choice).toEqual(expect.arrayContaining(['value', 'effective']));
    // CarePlan.activity is not a summary element; CarePlan.status, intent and subject are mandatory.
    expect(elements.CarePlan.summary).not.toContain('activity');
    expect(elements.CarePlan.mandatory).toEqual(['status', 'intent', 'subject']);
  });
});

describe('R4 compartments extracted from the official CompartmentDefinitions', () => {
  it('the committed file is current (run npm run extract-compartments)', () => {
    const committed = readFileSync(new URL('../../server/fhir/r4/compartments.generated.ts', import.meta.url), 'utf8');
    expect(renderCompartments(extractCompartments())).toBe(committed);
  });

  it('places CarePlan in the Patient compartment by patient and performer, as the R4 Patient compartment page lists', () => {
    const compartments = extractCompartments();
    expect(Object.keys(compartments).sort()).toEqual(['Device', 'Encounter', 'Patient', 'Practitioner', 'RelatedPerson']);
    expect(compartments.Patient.CarePlan).toEqual(['patient', 'performer']);
    expect(compartments.Patient.Consent).toEqual(['patient']);
    expect(compartments.Patient.Organization).toBeUndefined();
  });
});
