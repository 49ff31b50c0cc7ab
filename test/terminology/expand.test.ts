import type { ValueSet } from 'fhir/r4';
import { r4Definitions } from '../../server/conformance/definitions.js';
import { conformanceGuide } from '../../server/conformance/guide.js';
import { FhirError } from '../../server/fhir/outcome.js';
import { createTerminology } from '../../server/terminology/service.js';
import { thrown } from '../support/thrown.js';

const terminology = createTerminology(r4Definitions());

const codes = (valueSet: ValueSet) => (valueSet.expansion?.contains ?? []).map((c) => c.code);
const sorted = (list: Array<string | undefined>) => [...list].sort();

const NULL_FLAVOR = 'http://terminology.hl7.org/CodeSystem/v3-NullFlavor';
const CONDITION_CLINICAL = 'http://terminology.hl7.org/CodeSystem/condition-clinical';

/** A ValueSet given inline, as $expand's `valueSet` parameter takes one. */
function inline(compose: ValueSet['compose']): ValueSet {
  return { resourceType: 'ValueSet', status: 'active', url: 'http://example.org/ValueSet/test', compose };
}

describe('ValueSet expansion from the R4 definitions', () => {
  it('administrative-gender: the four codes of the R4 page, in the code system order, with displays', () => {
    const expanded = terminology.expand('http://hl7.org/fhir/ValueSet/administrative-gender');
    expect(expanded.expansion?.total).toBe(4);
    expect(expanded.expansion?.contains).toEqual([
      { system: 'http://hl7.org/fhir/administrative-gender', version: '4.0.1', code: 'male', display: 'Male' },
      { system: 'http://hl7.org/fhir/administrative-gender', version: '4.0.1', code: 'female', display: 'Female' },
      { system: 'http://hl7.org/fhir/administrative-gender', version: '4.0.1', code: 'other', display: 'Other' },
      { system: 'http://hl7.org/fhir/administrative-gender', version: '4.0.1', code: 'unknown', display: 'Unknown' },
    ]);
    expect(expanded).toMatchObject({ resourceType: 'ValueSet', url: 'http://hl7.org/fhir/ValueSet/administrative-gender', status: 'active' });
    expect(expanded.expansion?.timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T/);
  });

  it('condition-clinical: all codes of the system, nested ones included (active > recurrence, relapse; inactive > remission, resolved)', () => {
    const expanded = terminology.expand('http://hl7.org/fhir/ValueSet/condition-clinical');
    expect(codes(expanded)).toEqual(['active', 'recurrence', 'relapse', 'inactive', 'remission', 'resolved']);
  });

  it('is-a, descendent-of, is-not-a and generalizes follow the nesting of condition-clinical', () => {
    const filtered = (op: 'is-a' | 'descendent-of' | 'is-not-a' | 'generalizes', value: string) =>
      sorted(codes(terminology.expand(inline({ include: [{ system: CONDITION_CLINICAL, filter: [{ property: 'concept', op, value }] }] }))));
    expect(filtered('is-a', 'active')).toEqual(['active', 'recurrence', 'relapse']);
    expect(filtered('descendent-of', 'inactive')).toEqual(['remission', 'resolved']);
    expect(filtered('is-not-a', 'active')).toEqual(['inactive', 'remission', 'resolved']);
    expect(filtered('generalizes', 'relapse')).toEqual(['active', 'relapse']);
  });

  it('v3-ActEncounterCode: is-a _ActEncounterCode minus the root (an exclude) gives the eleven encounter codes, IMP\'s children included', () => {
    const expanded = terminology.expand('http://terminology.hl7.org/ValueSet/v3-ActEncounterCode');
    expect(sorted(codes(expanded))).toEqual(sorted(['AMB', 'EMER', 'FLD', 'HH', 'IMP', 'ACUTE', 'NONAC', 'OBSENC', 'PRENC', 'SS', 'VR']));
  });

  it('the abstract root of an is-a filter is in the expansion, marked abstract (notSelectable in v3-ActCode)', () => {
    const expanded = terminology.expand(inline({ include: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', filter: [{ property: 'concept', op: 'is-a', value: '_ActEncounterCode' }] }] }));
    expect(expanded.expansion?.total).toBe(12);
    expect(expanded.expansion?.contains?.find((c) => c.code === '_ActEncounterCode')).toMatchObject({ abstract: true });
    expect(expanded.expansion?.contains?.find((c) => c.code === 'AMB')?.abstract).toBeUndefined();
  });

  it('a `child` property makes a second parent: v3-NullFlavor NAV sits under ASKU by nesting and under NAVU by NAVU\'s child property', () => {
    const below = (value: string) => sorted(codes(terminology.expand(inline({ include: [{ system: NULL_FLAVOR, filter: [{ property: 'concept', op: 'descendent-of', value }] }] }))));
    expect(below('NAVU')).toEqual(['NAV']);
    expect(below('ASKU')).toEqual(['NAV']);
    expect(below('UNK')).toEqual(['ASKU', 'NASK', 'NAV', 'NAVU', 'QS', 'TRC']);
  });

  it('v3-ProvenanceEventCurrentState imports two ValueSets: the union of their enumerated codes (6 ActStatus + 5 DocumentCompletion)', () => {
    const expanded = terminology.expand('http://terminology.hl7.org/ValueSet/v3-ProvenanceEventCurrentState');
    expect(expanded.expansion?.total).toBe(11);
    const bySystem = (system: string) => sorted((expanded.expansion?.contains ?? []).filter((c) => c.system === system).map((c) => c.code));
    expect(bySystem('http://terminology.hl7.org/CodeSystem/v3-ActStatus')).toEqual(['aborted', 'cancelled', 'completed', 'new', 'nullified', 'obsolete']);
    expect(bySystem('http://terminology.hl7.org/CodeSystem/v3-DocumentCompletion')).toEqual(['AU', 'DI', 'DO', 'LA', 'UC']);
  });

  it('valueSets listed in one include intersect (R4 ValueSet.compose.include.valueSet), and a system narrows an import', () => {
    const gender = 'http://hl7.org/fhir/ValueSet/administrative-gender';
    const clinical = 'http://hl7.org/fhir/ValueSet/condition-clinical';
    expect(codes(terminology.expand(inline({ include: [{ valueSet: [gender, clinical] }] })))).toEqual([]);
    expect(codes(terminology.expand(inline({ include: [{ valueSet: [gender] }, { valueSet: [clinical] }] })))).toHaveLength(10);
    const narrowed = inline({ include: [{ system: 'http://hl7.org/fhir/administrative-gender', concept: [{ code: 'male' }, { code: 'other' }], valueSet: [gender] }] });
    expect(codes(terminology.expand(narrowed))).toEqual(['male', 'other']);
  });

  it('enumerated concepts keep the ValueSet\'s order and displays; codes a complete code system lacks are left out', () => {
    const expanded = terminology.expand(
      inline({ include: [{ system: 'http://hl7.org/fhir/administrative-gender', concept: [{ code: 'unknown', display: 'Not known' }, { code: 'neuter' }, { code: 'male' }] }] }),
    );
    expect(expanded.expansion?.contains?.map((c) => [c.code, c.display])).toEqual([
      ['unknown', 'Not known'],
      ['male', 'Male'],
    ]);
  });

  it('retired codes are inactive: listed and marked by default, left out with compose.inactive = false or activeOnly', () => {
    const all = terminology.expand(inline({ include: [{ system: NULL_FLAVOR }] }));
    expect(all.expansion?.contains?.find((c) => c.code === 'NP')).toMatchObject({ inactive: true });
    expect(all.expansion?.total).toBe(17);
    expect(codes(terminology.expand(inline({ inactive: false, include: [{ system: NULL_FLAVOR }] })))).not.toContain('NP');
    const activeOnly = terminology.expand(inline({ include: [{ system: NULL_FLAVOR }] }), { activeOnly: true });
    expect(activeOnly.expansion?.total).toBe(16);
    expect(codes(activeOnly)).not.toContain('NP');
  });

  it('a ValueSet that carries an expansion is answered from it (R4 yesnodontknow: Y, N and asked-unknown), flattened', () => {
    expect(codes(terminology.expand('http://hl7.org/fhir/ValueSet/yesnodontknow'))).toEqual(['Y', 'N', 'asked-unknown']);
    // R4's ValueSet/inactive nests GOL and RSK under EXPEC and marks CRT inactive.
    const inactive = terminology.expand('http://hl7.org/fhir/ValueSet/inactive');
    expect(codes(inactive)).toEqual(['CRT', 'EXPEC', 'GOL', 'RSK', 'OPT']);
    expect(codes(terminology.expand('http://hl7.org/fhir/ValueSet/inactive', { activeOnly: true }))).toEqual(['EXPEC', 'GOL', 'RSK', 'OPT']);
  });

  it('regex, =, in, not-in and exists filters on codes and properties', () => {
    const filtered = (filter: { property: string; op: 'regex' | '=' | 'in' | 'not-in' | 'exists'; value: string }) =>
      sorted(codes(terminology.expand(inline({ include: [{ system: NULL_FLAVOR, filter: [filter] }] }))));
    expect(filtered({ property: 'code', op: 'regex', value: 'N[A-Z]{3}' })).toEqual(['NASK', 'NAVU', 'NINF']);
    // Anchored at both ends: NA, NAV, NASK and NAVU contain an A but do not start with one.
    expect(filtered({ property: 'code', op: 'regex', value: 'A[A-Z]*' })).toEqual(['ASKU']);
    expect(filtered({ property: 'concept', op: 'in', value: 'NI,UNK,XYZ' })).toEqual(['NI', 'UNK']);
    expect(filtered({ property: 'status', op: '=', value: 'retired' })).toEqual(['NP']);
    expect(filtered({ property: 'status', op: 'exists', value: 'true' })).toEqual(['NP']);
    expect(filtered({ property: 'parent', op: '=', value: 'OTH' })).toEqual(['NINF', 'PINF']);
    expect(filtered({ property: 'concept', op: 'not-in', value: 'NI' })).toHaveLength(16);
  });

  it('filter, count and offset page through a stable order; total counts every match; count 0 gives the total alone', () => {
    const url = 'http://terminology.hl7.org/ValueSet/v3-ActEncounterCode';
    const whole = codes(terminology.expand(url));
    const first = terminology.expand(url, { count: 4 });
    const second = terminology.expand(url, { count: 4, offset: 4 });
    const third = terminology.expand(url, { count: 4, offset: 8 });
    expect(first.expansion).toMatchObject({ total: 11, offset: 0 });
    expect(second.expansion).toMatchObject({ total: 11, offset: 4 });
    expect([...codes(first), ...codes(second), ...codes(third)]).toEqual(whole);
    expect(codes(third)).toHaveLength(3);
    const none = terminology.expand(url, { count: 0 });
    expect(none.expansion?.total).toBe(11);
    expect(none.expansion?.contains).toBeUndefined();
    // "inpatient encounter", "inpatient acute", "inpatient non-acute": every word of the filter starts a word.
    expect(sorted(codes(terminology.expand(url, { filter: 'inpat' })))).toEqual(['ACUTE', 'IMP', 'NONAC']);
    // "non-acute" is two words, so "acu" starts a word of NONAC's display too.
    expect(sorted(codes(terminology.expand(url, { filter: 'inpatient acu' })))).toEqual(['ACUTE', 'NONAC']);
    expect(codes(terminology.expand(url, { filter: 'inpatient non' }))).toEqual(['NONAC']);
    expect(terminology.expand(url, { filter: 'inpat', count: 1, offset: 1 }).expansion).toMatchObject({ total: 3, offset: 1 });
    expect(terminology.expand(url, { filter: 'inpat', count: 1 }).expansion?.parameter).toEqual([
      { name: 'filter', valueString: 'inpat' },
      { name: 'count', valueInteger: 1 },
    ]);
  });

  it('designations only when asked (includeDesignations)', () => {
    const url = 'http://terminology.hl7.org/ValueSet/v2-0131';
    expect(terminology.expand(url).expansion?.contains?.some((c) => c.designation)).toBe(false);
    const bp = terminology.expand(url, { includeDesignations: true }).expansion?.contains?.find((c) => c.code === 'BP');
    expect(bp?.designation?.some((d) => d.language === 'de')).toBe(true);
  });

  it('a ValueSet drawing on SNOMED CT cannot be expanded here: 422 not-supported naming the system', () => {
    const error = thrown(() => terminology.expand('http://hl7.org/fhir/ValueSet/clinical-findings'));
    expect(error).toBeInstanceOf(FhirError);
    expect((error as FhirError).status).toBe(422);
    expect((error as FhirError).issues[0]).toMatchObject({ code: 'not-supported' });
    expect((error as FhirError).issues[0].diagnostics).toContain('http://snomed.info/sct');
  });

  it('LOINC, UCUM and BCP-47 are not held either; enumerated SNOMED codes are (their membership is fixed)', () => {
    for (const [url, system] of [
      ['http://hl7.org/fhir/ValueSet/doc-typecodes', 'http://loinc.org'],
      ['http://hl7.org/fhir/ValueSet/ucum-units', 'http://unitsofmeasure.org'],
      ['http://hl7.org/fhir/ValueSet/all-languages', 'urn:ietf:bcp:47'],
    ]) {
      expect((thrown(() => terminology.expand(url)) as FhirError).issues[0].diagnostics).toContain(system);
    }
    const enumerated = terminology.expand(inline({ include: [{ system: 'http://snomed.info/sct', concept: [{ code: '248153007', display: 'Male' }] }] }));
    expect(enumerated.expansion?.contains).toEqual([{ system: 'http://snomed.info/sct', code: '248153007', display: 'Male' }]);
  });

  it('an unknown ValueSet URL is a 404', () => {
    expect((thrown(() => terminology.expand('http://example.org/ValueSet/none')) as FhirError).status).toBe(404);
  });
});

describe("the CCP guide's ValueSets (conformance/profiles)", () => {
  it('override-reason: the codes of the CCP code system', () => {
    const expanded = terminology.expand('http://ccp-exchange.org/fhir/ValueSet/override-reason');
    expect(expanded.expansion?.contains?.every((c) => c.system === 'http://ccp-exchange.org/fhir/CodeSystem/override-reason')).toBe(true);
    expect(codes(expanded)).toEqual(expect.arrayContaining(['patient-consent', 'risk-of-harm']));
  });

  it('consent-category: the CCP codes and v3-ActCode INFA', () => {
    const expanded = terminology.expand('http://ccp-exchange.org/fhir/ValueSet/consent-category');
    expect(expanded.expansion?.contains?.at(-1)).toEqual({ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', version: expect.any(String), code: 'INFA', display: 'information access' });
  });

  it('registration-task-status: the four Task statuses it lists', () => {
    expect(codes(terminology.expand('http://ccp-exchange.org/fhir/ValueSet/registration-task-status'))).toEqual(['requested', 'completed', 'rejected', 'cancelled']);
  });

  it('every ValueSet of the guide expands', () => {
    for (const resource of conformanceGuide().resources) {
      if (resource.resourceType !== 'ValueSet') continue;
      expect({ url: (resource as ValueSet).url, total: (terminology.expand((resource as ValueSet).url!).expansion?.total ?? 0) > 0 }).toEqual({ url: (resource as ValueSet).url, total: true });
    }
  });
});
