import { describe, expect, it } from '@jest/globals';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { errors, errorsAt, validate } from './validator.js';

const EXAMPLES = path.join(process.cwd(), 'conformance', 'profiles', 'examples');
const examples = readdirSync(EXAMPLES)
  .filter((name) => name.endsWith('.json'))
  .map((name) => ({ name, resource: JSON.parse(readFileSync(path.join(EXAMPLES, name), 'utf8')) as Record<string, unknown> & { meta?: { profile?: string[] } } }));
const example = (prefix: string) => structuredClone(examples.find((e) => e.name.startsWith(prefix))!.resource);

describe('profile validator: the CCP profiles', () => {
  it('has the guide examples to check', () => {
    expect(existsSync(EXAMPLES)).toBe(true);
    expect(examples.length).toBeGreaterThanOrEqual(11);
  });

  it.each(examples.map((e) => [e.name, e.resource] as const))('%s conforms to its meta.profile', (_name, resource) => {
    const profiles = resource.meta?.profile ?? [];
    expect(profiles.length).toBeGreaterThan(0);
    for (const profile of profiles) expect(errors(validate(resource, profile)).map((i) => i.diagnostics)).toEqual([]);
  });

  it('CCP CarePlan: the ccp category slice is required (pattern discriminator)', () => {
    const plan = example('CarePlan-');
    plan.category = [{ coding: [{ system: 'http://example.org/other', code: 'x' }] }];
    const issues = errors(validate(plan, 'http://ccp-exchange.org/fhir/StructureDefinition/ccp-careplan'));
    expect(issues.map((i) => `${i.code} @ ${i.expression?.[0]}`)).toEqual(['required @ CarePlan.category']);
    expect(issues[0].diagnostics).toContain("slice 'ccp'");
  });

  it('CCP CarePlan: its invariants and target profiles (ccp-1, goal only Reference(CCPGoal))', () => {
    const plan = example('CarePlan-');
    plan.subject = { reference: 'https://elsewhere.org/fhir/Patient/p1' };
    plan.goal = [{ reference: 'Condition/c1' }];
    expect(errorsAt(validate(plan, 'http://ccp-exchange.org/fhir/StructureDefinition/ccp-careplan'))).toEqual([
      'structure @ CarePlan.goal[0].reference',
      'invariant @ CarePlan',
    ]);
  });

  it('CCP express consent: the express-consent extension is validated against its definition (nested slices)', () => {
    const consent = example('Consent-ccp-express-consent');
    const extension = (consent.extension as { url: string; extension: { url: string }[] }[])[0];
    extension.extension = extension.extension.filter((e) => e.url !== 'method');
    const issues = errors(validate(consent, 'http://ccp-exchange.org/fhir/StructureDefinition/ccp-express-consent'));
    // The snapshot says it twice: Extension.extension is 3..* and the slice method is 1..1.
    expect(issues.map((i) => `${i.code} @ ${i.expression?.[0]}`)).toEqual(['required @ Consent.extension[0].extension', 'required @ Consent.extension[0].extension']);
    expect(issues[1].diagnostics).toContain("slice 'method'");
  });

  it('a profile for another type, or an unknown profile, is an error', () => {
    const plan = example('CarePlan-');
    expect(errors(validate(plan, 'http://ccp-exchange.org/fhir/StructureDefinition/ccp-goal'))[0].code).toBe('invalid');
    expect(errors(validate(plan, 'http://example.org/nope'))[0].code).toBe('not-supported');
  });
});
