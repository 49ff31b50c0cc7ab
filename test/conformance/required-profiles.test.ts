import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CarePlan, Communication, Goal, Resource } from 'fhir/r4';
import { ConfigError, loadConfig } from '../../server/config/config.js';
import { NOTICE_KIND_SYSTEM, NOTICE_PROFILE } from '../../server/conformance/notice-vocabulary.js';
import { loadRequiredProfiles, type RequiredProfiles } from '../../server/conformance/required-profiles.js';

const CCP_PROFILE = 'http://ccp-exchange.org/fhir/StructureDefinition/ccp-careplan';
// The CCP category as the server writes it (server/conformance/consent-vocabulary.ts) and the FSH names it (careplan.fsh).
const CCP_CATEGORY = { coding: [{ system: 'http://ccp-exchange.org/fhir/CodeSystem/careplan-category', code: 'ccp' }] };

const plan = (extra: Partial<CarePlan> = {}): CarePlan => ({ resourceType: 'CarePlan', status: 'active', intent: 'plan', subject: { reference: 'Patient/p1' }, ...extra });

let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync(path.join(os.tmpdir(), 'ccp-required-'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let count = 0;
/** A required-profiles file with this content; its path. */
function fileWith(content: unknown): string {
  const file = path.join(scratch, `rules-${++count}.json`);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

/** The problems loadConfig reports for REQUIRED_PROFILES=file (it must refuse). */
function problemsOf(file: string): string[] {
  try {
    loadConfig({ REQUIRED_PROFILES: file });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error(`loadConfig accepted ${file}`);
}

describe('the default required profiles (conformance/required-profiles.json)', () => {
  let required: RequiredProfiles;
  beforeAll(() => {
    const config = loadConfig({});
    expect(config.requiredProfilesFile).toBe(path.resolve('conformance/required-profiles.json'));
    required = config.requiredProfiles;
  });

  it('two rules: CarePlans of the CCP category, the CCP CarePlan profile; service notices, the service notice profile', () => {
    expect(required.rules).toHaveLength(2);
    expect(required.rules[0]).toMatchObject({ resourceType: 'CarePlan', profile: CCP_PROFILE });
    expect(required.rules[1]).toMatchObject({ resourceType: 'Communication', profile: NOTICE_PROFILE });
  });

  it('requires the service notice profile of a Communication with a notice-kind category, and nothing of other Communications', () => {
    const notice: Communication = { resourceType: 'Communication', status: 'in-progress', category: [{ coding: [{ system: NOTICE_KIND_SYSTEM, code: 'restored' }] }] };
    expect(required.requiredProfiles(notice)).toEqual([NOTICE_PROFILE]);
    const unmarked: Communication = { ...notice, category: [{ text: 'restored' }] };
    expect(required.requiredProfiles(unmarked)).toEqual([]);
  });

  it('requires the CCP profile of a CarePlan with the CCP category, alone or among others', () => {
    expect(required.requiredProfiles(plan({ category: [CCP_CATEGORY] }))).toEqual([CCP_PROFILE]);
    const other = { coding: [{ system: 'http://snomed.info/sct', code: '734163000' }] };
    expect(required.requiredProfiles(plan({ category: [other, CCP_CATEGORY] }))).toEqual([CCP_PROFILE]);
    // Two codings in one category, the CCP one second.
    expect(required.requiredProfiles(plan({ category: [{ coding: [other.coding[0], CCP_CATEGORY.coding[0]] }] }))).toEqual([CCP_PROFILE]);
  });

  it('requires nothing of other CarePlans and other types', () => {
    expect(required.requiredProfiles(plan())).toEqual([]);
    expect(required.requiredProfiles(plan({ category: [{ coding: [{ system: 'http://example.org/other', code: 'ccp' }] }] }))).toEqual([]);
    expect(required.requiredProfiles(plan({ category: [{ text: 'ccp' }] }))).toEqual([]);
    const goal: Goal = { resourceType: 'Goal', lifecycleStatus: 'active', description: { text: 'walk' }, subject: { reference: 'Patient/p1' } };
    expect(required.requiredProfiles(goal)).toEqual([]);
  });
});

describe('REQUIRED_PROFILES: other files', () => {
  it('a file of its own: several rules, a core profile among them, a profile required once even if two rules ask', () => {
    const file = fileWith([
      { resourceType: 'Observation', where: "code.coding.where(system = 'http://loinc.org' and code = '85354-9').exists()", profile: 'http://hl7.org/fhir/StructureDefinition/bp' },
      { resourceType: 'CarePlan', where: "status = 'active'", profile: CCP_PROFILE },
      { resourceType: 'CarePlan', where: "intent = 'plan'", profile: CCP_PROFILE },
    ]);
    const { requiredProfiles, requiredProfilesFile } = loadConfig({ REQUIRED_PROFILES: file });
    expect(requiredProfilesFile).toBe(file);
    const bp: Resource = { resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '85354-9' }] } } as Resource;
    expect(requiredProfiles.requiredProfiles(bp)).toEqual(['http://hl7.org/fhir/StructureDefinition/bp']);
    expect(requiredProfiles.requiredProfiles(plan())).toEqual([CCP_PROFILE]);
    expect(requiredProfiles.requiredProfiles(plan({ status: 'draft', intent: 'proposal' }))).toEqual([]);
  });

  it('an empty list requires nothing', () => {
    expect(loadConfig({ REQUIRED_PROFILES: fileWith([]) }).requiredProfiles.requiredProfiles(plan({ category: [CCP_CATEGORY] }))).toEqual([]);
  });

  it('an expression that fails on a resource requires the profile (a rule that cannot decide does not let it pass)', () => {
    // matches() takes one string; two codings give it two.
    const file = fileWith([{ resourceType: 'CarePlan', where: "category.coding.code.matches('^ccp$')", profile: CCP_PROFILE }]);
    const { requiredProfiles } = loadConfig({ REQUIRED_PROFILES: file });
    expect(requiredProfiles.requiredProfiles(plan({ category: [{ coding: [{ code: 'a' }, { code: 'b' }] }] }))).toEqual([CCP_PROFILE]);
    expect(requiredProfiles.requiredProfiles(plan({ category: [{ coding: [{ code: 'a' }] }] }))).toEqual([]);
  });
});

describe('REQUIRED_PROFILES: the server refuses to start, naming the problem', () => {
  it('a file that does not exist', () => {
    const missing = path.join(scratch, 'nowhere.json');
    expect(problemsOf(missing)).toEqual([`REQUIRED_PROFILES: cannot read ${missing} (ENOENT)`]);
  });

  it('a file that is not JSON, or not a list', () => {
    const broken = fileWith('[{ "resourceType": "CarePlan", ');
    expect(problemsOf(broken)).toEqual([expect.stringMatching(new RegExp(`^REQUIRED_PROFILES: ${broken} is not JSON: `))]);
    const object = fileWith({ resourceType: 'CarePlan', where: 'true', profile: CCP_PROFILE });
    expect(problemsOf(object)).toEqual([`REQUIRED_PROFILES: ${object} must hold a JSON array of rules { "resourceType", "where", "profile" }`]);
  });

  it('an unknown profile URL', () => {
    const file = fileWith([{ resourceType: 'CarePlan', where: 'true', profile: 'http://ccp-exchange.org/fhir/StructureDefinition/ccp-care-plan' }]);
    expect(problemsOf(file)).toEqual([
      `REQUIRED_PROFILES: ${file} rule 1: profile http://ccp-exchange.org/fhir/StructureDefinition/ccp-care-plan is not a StructureDefinition the server knows (FHIR R4's or the CCP guide's)`,
    ]);
  });

  it('a profile of another type, and a canonical URL that is not a StructureDefinition', () => {
    const file = fileWith([
      { resourceType: 'CarePlan', where: 'true', profile: 'http://ccp-exchange.org/fhir/StructureDefinition/ccp-goal' },
      { resourceType: 'Consent', where: 'true', profile: 'http://ccp-exchange.org/fhir/ValueSet/override-reason' },
    ]);
    expect(problemsOf(file)).toEqual([
      `REQUIRED_PROFILES: ${file} rule 1: profile http://ccp-exchange.org/fhir/StructureDefinition/ccp-goal constrains Goal, not CarePlan: no CarePlan could conform to it`,
      `REQUIRED_PROFILES: ${file} rule 2: profile http://ccp-exchange.org/fhir/ValueSet/override-reason is not a StructureDefinition the server knows (FHIR R4's or the CCP guide's)`,
    ]);
  });

  it('an extension definition is no resource profile', () => {
    const file = fileWith([{ resourceType: 'CarePlan', where: 'true', profile: 'http://ccp-exchange.org/fhir/StructureDefinition/ccp-review-date' }]);
    expect(problemsOf(file)).toEqual([expect.stringContaining('constrains Extension, not CarePlan')]);
  });

  it('an expression that does not compile, or calls a function FHIRPath does not have', () => {
    const file = fileWith([
      { resourceType: 'CarePlan', where: "category.coding.where(code = 'ccp'", profile: CCP_PROFILE },
      { resourceType: 'CarePlan', where: 'category.isCcp()', profile: CCP_PROFILE },
    ]);
    const problems = problemsOf(file);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(new RegExp(`^REQUIRED_PROFILES: ${file} rule 1: where "category.coding.where\\(code = 'ccp'" is not a FHIRPath expression the server can evaluate: `));
    expect(problems[1]).toMatch(new RegExp(`^REQUIRED_PROFILES: ${file} rule 2: where "category.isCcp\\(\\)" is not a FHIRPath expression the server can evaluate: .*isCcp`));
  });

  it('an unknown resource type, a missing field, a misspelt one, a rule that is not an object', () => {
    const file = fileWith([
      { resourceType: 'CarePlans', where: 'true', profile: CCP_PROFILE },
      { resourceType: 'CarePlan', profile: CCP_PROFILE },
      { resourceType: 'CarePlan', were: 'true', where: 'true', profile: CCP_PROFILE },
      'CarePlan',
    ]);
    expect(problemsOf(file)).toEqual([
      `REQUIRED_PROFILES: ${file} rule 1: resourceType "CarePlans" is not an R4 resource type`,
      // The profile constrains CarePlan, which CarePlans is not.
      `REQUIRED_PROFILES: ${file} rule 1: profile ${CCP_PROFILE} constrains CarePlan, not CarePlans: no CarePlans could conform to it`,
      `REQUIRED_PROFILES: ${file} rule 2: "where" must be a non-empty string`,
      `REQUIRED_PROFILES: ${file} rule 3: unknown field "were" (a rule has resourceType, where and profile)`,
      `REQUIRED_PROFILES: ${file} rule 4: must be an object { "resourceType", "where", "profile" }`,
    ]);
  });

  it("every problem of the configuration at once, the other variables' as well", () => {
    const file = fileWith([{ resourceType: 'CarePlan', where: 'true', profile: 'http://example.org/nope' }]);
    try {
      loadConfig({ REQUIRED_PROFILES: file, PORT: 'eighty' });
      throw new Error('accepted');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems).toEqual([expect.stringMatching(/^PORT: /), expect.stringMatching(/^REQUIRED_PROFILES: .* rule 1: profile http:\/\/example.org\/nope /)]);
    }
  });

  it('loadRequiredProfiles itself returns the problems without the variable name (for other callers)', () => {
    expect(loadRequiredProfiles(fileWith('nope'))).toEqual({ problems: [expect.stringMatching(/is not JSON/)] });
  });
});
