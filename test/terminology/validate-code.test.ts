import type { Parameters, ParametersParameter } from 'fhir/r4';
import { r4Definitions } from '../../server/conformance/definitions.js';
import { createTerminology } from '../../server/terminology/service.js';
import { sharedTerminology } from '../../server/terminology/shared.js';
import { thrown } from '../support/thrown.js';

const terminology = createTerminology(r4Definitions());

const GENDER_VS = 'http://hl7.org/fhir/ValueSet/administrative-gender';
const GENDER = 'http://hl7.org/fhir/administrative-gender';
const ENCOUNTER_VS = 'http://terminology.hl7.org/ValueSet/v3-ActEncounterCode';
const ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';

describe('validateCode (what the validator calls for bindings)', () => {
  it('true for a code of the ValueSet, with its display', () => {
    expect(terminology.validateCode(GENDER_VS, { system: GENDER, code: 'female' })).toEqual({ result: true, display: 'Female' });
  });

  it('false for a code that is not in it, or in another system, or without a code', () => {
    expect(terminology.validateCode(GENDER_VS, { system: GENDER, code: 'woman' })).toMatchObject({ result: false });
    expect(terminology.validateCode(GENDER_VS, { system: 'http://example.org/gender', code: 'female' })).toMatchObject({ result: false });
    expect(terminology.validateCode(GENDER_VS, { system: GENDER })).toMatchObject({ result: false });
    // Codes are case-sensitive in administrative-gender (caseSensitive true).
    expect(terminology.validateCode(GENDER_VS, { system: GENDER, code: 'Female' })).toMatchObject({ result: false });
  });

  it('a bare code (a `code` element) is looked for in the ValueSet\'s systems', () => {
    expect(terminology.validateCode(GENDER_VS, { code: 'other' })).toMatchObject({ result: true });
    expect(terminology.validateCode(GENDER_VS, { code: 'neuter' })).toMatchObject({ result: false });
  });

  it('a hierarchical ValueSet: nested codes are in, the excluded abstract root is not, a code of another branch is not', () => {
    expect(terminology.validateCode(ENCOUNTER_VS, { system: ACT_CODE, code: 'ACUTE' })).toMatchObject({ result: true, display: 'inpatient acute' });
    expect(terminology.validateCode(ENCOUNTER_VS, { system: ACT_CODE, code: '_ActEncounterCode' })).toMatchObject({ result: false });
    expect(terminology.validateCode(ENCOUNTER_VS, { system: ACT_CODE, code: 'INFA' })).toMatchObject({ result: false });
  });

  it('an abstract (notSelectable) code is refused unless abstract codes are allowed', () => {
    const parents = 'http://terminology.hl7.org/ValueSet/v3-ActCode';
    const check = terminology.validateCode(parents, { system: ACT_CODE, code: '_ActEncounterCode' });
    expect(check).toMatchObject({ result: false });
    expect((check as { message: string }).message).toContain('abstract');
    expect(terminology.validateCode(parents, { system: ACT_CODE, code: '_ActEncounterCode' }, { abstract: true })).toMatchObject({ result: true });
  });

  it('a display that is not the code\'s is a warning on a valid code; a designation counts as a display', () => {
    const wrong = terminology.validateCode(GENDER_VS, { system: GENDER, code: 'male', display: 'Man' });
    expect(wrong).toMatchObject({ result: true, display: 'Male' });
    expect((wrong as { message?: string }).message).toContain('"Man"');
    expect(terminology.validateCode(GENDER_VS, { system: GENDER, code: 'male', display: 'male' })).toEqual({ result: true, display: 'Male' });
    // v2-0131 BP carries a German designation in R4: whatever its text, it is a valid display.
    const bp = terminology.lookup('http://terminology.hl7.org/CodeSystem/v2-0131', 'BP').parameter!.find((p) => p.name === 'designation')!;
    const german = bp.part!.find((p) => p.name === 'value')!.valueString!;
    expect(terminology.validateCode('http://terminology.hl7.org/ValueSet/v2-0131', { system: 'http://terminology.hl7.org/CodeSystem/v2-0131', code: 'BP', display: german })).toEqual({
      result: true,
      display: 'Billing contact person',
    });
  });

  it('unknown when the ValueSet draws on a code system not held here (SNOMED CT), or is not known at all', () => {
    const snomed = terminology.validateCode('http://hl7.org/fhir/ValueSet/clinical-findings', { system: 'http://snomed.info/sct', code: '404684003' });
    expect(snomed.result).toBe('unknown');
    expect((snomed as { message: string }).message).toContain('http://snomed.info/sct');
    expect(terminology.validateCode('http://example.org/ValueSet/none', { system: GENDER, code: 'male' })).toMatchObject({ result: 'unknown' });
  });

  it('a ValueSet this server cannot expand still decides codes of systems it does not draw on', () => {
    // R4 allergyintolerance-code: substance-code (SNOMED) plus SNOMED filters: every part is SNOMED, so any SNOMED code is unknown ...
    const allergy = 'http://hl7.org/fhir/ValueSet/allergyintolerance-code';
    expect(terminology.validateCode(allergy, { system: 'http://snomed.info/sct', code: '227493005' }).result).toBe('unknown');
    // ... and a code of a system it does not draw on at all is known not to be in it.
    expect(terminology.validateCode(allergy, { system: GENDER, code: 'male' }).result).toBe(false);
  });

  it('an inactive (retired) code is valid with a hint', () => {
    const np = terminology.validateCode('http://terminology.hl7.org/ValueSet/v3-NullFlavor', { system: 'http://terminology.hl7.org/CodeSystem/v3-NullFlavor', code: 'NP' });
    expect(np).toMatchObject({ result: true });
    expect((np as { message?: string }).message).toContain('inactive');
  });

  it('the CCP guide\'s bindings: consent-category holds INFA from v3-ActCode and the CCP codes, nothing else of ActCode', () => {
    const url = 'http://ccp-exchange.org/fhir/ValueSet/consent-category';
    expect(terminology.validateCode(url, { system: ACT_CODE, code: 'INFA' })).toMatchObject({ result: true });
    expect(terminology.validateCode(url, { system: ACT_CODE, code: 'INFAO' })).toMatchObject({ result: false });
  });

  it('the shared terminology gives the same answers (it loads the definitions on first use)', () => {
    expect(sharedTerminology().validateCode(GENDER_VS, { system: GENDER, code: 'female' })).toEqual({ result: true, display: 'Female' });
  });
});

describe('validateCodeInCodeSystem', () => {
  it('true, false, and unknown for a code system held only in part or not at all', () => {
    expect(terminology.validateCodeInCodeSystem(GENDER, { code: 'unknown' })).toEqual({ result: true, display: 'Unknown' });
    expect(terminology.validateCodeInCodeSystem(GENDER, { code: 'nobody' })).toMatchObject({ result: false });
    expect(terminology.validateCodeInCodeSystem('http://terminology.hl7.org/CodeSystem/service-type', { code: 'no-such-service' })).toMatchObject({ result: 'unknown' });
    expect(terminology.validateCodeInCodeSystem('http://loinc.org', { code: '1234-5' })).toMatchObject({ result: 'unknown' });
  });
});

describe('lookup', () => {
  const value = (parameters: Parameters, name: string) => parameters.parameter?.find((p) => p.name === name);
  const properties = (parameters: Parameters) =>
    (parameters.parameter ?? []).filter((p) => p.name === 'property').map((p) => Object.fromEntries((p.part ?? []).map((part: ParametersParameter) => [part.name, part])));

  it('name, version, display and definition of a code (R4 condition-clinical "active")', () => {
    const result = terminology.lookup('http://terminology.hl7.org/CodeSystem/condition-clinical', 'active');
    expect(value(result, 'name')?.valueString).toBe('Condition Clinical Status Codes');
    expect(value(result, 'version')?.valueString).toBe('4.0.1');
    expect(value(result, 'display')?.valueString).toBe('Active');
    const definition = properties(result).find((p) => p.code.valueCode === 'definition');
    expect(definition?.value.valueString).toMatch(/^The subject is currently experiencing the symptoms of the condition/);
    expect(properties(result).filter((p) => p.code.valueCode === 'child').map((p) => p.value.valueCode).sort()).toEqual(['recurrence', 'relapse']);
  });

  it('the property input limits what comes back; parent links and the concept\'s own properties are returned', () => {
    const result = terminology.lookup('http://terminology.hl7.org/CodeSystem/v3-NullFlavor', 'NAV', undefined, ['parent']);
    expect(properties(result).map((p) => [p.code.valueCode, p.value.valueCode]).sort()).toEqual([
      ['parent', 'ASKU'],
      ['parent', 'NAVU'],
    ]);
    const np = terminology.lookup('http://terminology.hl7.org/CodeSystem/v3-NullFlavor', 'NP');
    expect(properties(np).find((p) => p.code.valueCode === 'status')?.value.valueCode).toBe('retired');
  });

  it('404 for an unknown code system, version or code', () => {
    expect(thrown(() => terminology.lookup('http://example.org/none', 'x')).status).toBe(404);
    expect(thrown(() => terminology.lookup(GENDER, 'male', '3.0.0')).status).toBe(404);
    expect(thrown(() => terminology.lookup(GENDER, 'nobody')).status).toBe(404);
  });
});

describe('subsumes', () => {
  it('follows the hierarchy of condition-clinical', () => {
    const system = 'http://terminology.hl7.org/CodeSystem/condition-clinical';
    expect(terminology.subsumes(system, 'active', 'relapse')).toBe('subsumes');
    expect(terminology.subsumes(system, 'remission', 'inactive')).toBe('subsumed-by');
    expect(terminology.subsumes(system, 'active', 'active')).toBe('equivalent');
    expect(terminology.subsumes(system, 'relapse', 'remission')).toBe('not-subsumed');
  });
});
