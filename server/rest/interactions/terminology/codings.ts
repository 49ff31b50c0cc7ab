import type { Parameters } from 'fhir/r4';
import { FhirError } from '../../../fhir/outcome.js';
import type { CodingInput } from '../../../terminology/check-code.js';
import type { CodeCheck } from '../../../terminology/terminology.js';
import type { OperationInput } from './input.js';

/**
 * The codings a $validate-code checks: `code` (with `system`, its version and `display`), or `coding`, or
 * `codeableConcept` (R4: one and only one of them). `system` may come from the operation's target instead
 * (CodeSystem/$validate-code), in which case `defaultSystem` is it.
 */
export function codingsToCheck(input: OperationInput, versionParameter: 'systemVersion' | 'version', defaultSystem?: string): CodingInput[] {
  const code = input.string('code');
  const coding = input.coding('coding');
  const concept = input.codeableConcept('codeableConcept');
  const given = [code !== undefined, coding !== undefined, concept !== undefined].filter(Boolean).length;
  if (given !== 1) throw input.invalid('give one (and only one) of code, coding and codeableConcept', ['code', 'coding', 'codeableConcept']);
  const display = input.string('display');
  if (display !== undefined && code === undefined) throw input.invalid('display goes with code (a coding or codeableConcept carries its own displays)', ['display']);
  if (code !== undefined) {
    const system = input.string('system') ?? defaultSystem;
    if (system === undefined) throw input.invalid('a code needs its system', ['system']);
    const version = input.string(versionParameter);
    return [{ system, code, ...(version !== undefined ? { version } : {}), ...(display !== undefined ? { display } : {}) }];
  }
  const codings = coding ? [coding] : (concept!.coding ?? []);
  if (!codings.length) throw input.invalid('the codeableConcept has no coding to check', ['codeableConcept']);
  return codings.map((c) => ({ ...c, system: c.system ?? defaultSystem }));
}

/**
 * The $validate-code answer (result, message, display): true when any coding is valid; false when every coding is
 * known not to be; a check that cannot be decided here is refused (422 not-supported), since `result` must be
 * true or false and neither would be the truth.
 */
export function validateCodeResult(checks: CodeCheck[]): Parameters {
  const valid = checks.find((check) => check.result === true);
  if (valid?.result === true) {
    return parameters(true, valid.message, valid.display);
  }
  const unknown = checks.filter((check) => check.result === 'unknown');
  if (unknown.length) throw new FhirError(422, { code: 'not-supported', diagnostics: unknown.map((check) => check.message).join('; ') });
  return parameters(false, checks.map((check) => (check.result === false ? check.message : '')).join('; '));
}

function parameters(result: boolean, message?: string, display?: string): Parameters {
  return {
    resourceType: 'Parameters',
    parameter: [
      { name: 'result', valueBoolean: result },
      ...(message ? [{ name: 'message', valueString: message }] : []),
      ...(display !== undefined ? [{ name: 'display', valueString: display }] : []),
    ],
  };
}
