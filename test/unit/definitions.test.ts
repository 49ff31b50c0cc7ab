// @ts-expect-error: a plain ESM script without type declarations
import { extractElements, render } from '../../scripts/extract-r4-elements.mjs';
// @ts-expect-error: a plain ESM script without type declarations
import { extractCompartments, render as renderCompartments } from '../../scripts/extract-r4-compartments.mjs';
// @ts-expect-error: a plain ESM script without type declarations
import { extractConformance, render as renderConformance } from '../../scripts/extract-r4-conformance.mjs';
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

describe('R4 conformance resources cut down from the official definitions (conformance/r4/)', () => {
  it('the committed files are what the extractor makes (run npm run extract-conformance)', () => {
    const extracted = extractConformance() as Record<string, unknown[]>;
    for (const [name, resources] of Object.entries(extracted)) {
      const committed = readFileSync(new URL(`../../conformance/r4/${name}.json.gz`, import.meta.url));
      expect({ name, equal: Buffer.compare(renderConformance(resources), committed) === 0 }).toEqual({ name, equal: true });
    }
  });

  it('holds every StructureDefinition, ValueSet and CodeSystem of R4 4.0.1 with snapshots a validator can walk', () => {
    const extracted = extractConformance() as Record<string, Array<{ id: string; snapshot?: { element: Array<{ path: string; min?: number; max?: string }> } }>>;
    // The package's definition files, counted by file name prefix: 655, 1316 and 1062.
    expect(extracted['structure-definitions']).toHaveLength(655);
    expect(extracted['value-sets']).toHaveLength(1316);
    expect(extracted['code-systems']).toHaveLength(1062);
    // From the R4 Patient page: Patient.link.other is 1..1; Patient.gender 0..1.
    const patient = extracted['structure-definitions'].find((sd) => sd.id === 'Patient')!;
    const element = (p: string) => patient.snapshot!.element.find((e) => e.path === p)!;
    expect([element('Patient.link.other').min, element('Patient.link.other').max]).toEqual([1, '1']);
    expect([element('Patient.gender').min, element('Patient.gender').max]).toEqual([0, '1']);
  });
});
