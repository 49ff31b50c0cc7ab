import type { Coding } from 'fhir/r4';
import type { CodeCheck } from '../../terminology/terminology.js';
import { isObject, report, type Json, type WalkContext } from './context.js';
import type { ElementNode } from './element-tree.js';

type Code = Pick<Coding, 'system' | 'code' | 'display' | 'version'>;

/** The codes an instance offers to its binding, by type; undefined for types a binding does not apply to. */
function codesOf(type: string, value: unknown): Code[] | undefined {
  switch (type) {
    case 'code':
    case 'string':
    case 'uri':
      // A bare code's system comes from the ValueSet: the CodeValidator decides.
      return typeof value === 'string' ? [{ code: value }] : undefined;
    case 'Coding':
      return isObject(value) ? [value as Code] : undefined;
    case 'CodeableConcept':
      return isObject(value) && Array.isArray(value.coding) ? (value.coding.filter(isObject) as Code[]) : [];
    case 'Quantity':
      return isObject(value) && value.code !== undefined ? [{ system: value.system as string | undefined, code: value.code as string }] : undefined;
    default:
      return undefined;
  }
}

const showCode = (c: Code): string => (c.system ? `${c.system}#${c.code}` : `'${c.code}'`);

/**
 * Required bindings: a code outside the ValueSet is an error; extensible: a warning (another code is allowed
 * when the set has no fitting concept); preferred and example bindings are advice only. When terminology cannot
 * tell (a code system the server does not hold), a required binding gets an information issue, nothing more.
 */
export function checkBinding(ctx: WalkContext, node: ElementNode, type: string, value: unknown, path: string): void {
  const binding = node.binding;
  if (!binding?.valueSet || (binding.strength !== 'required' && binding.strength !== 'extensible')) return;
  const codes = codesOf(type, value);
  if (!codes) return;
  const required = binding.strength === 'required';
  const valueSet = binding.valueSet;
  if (!codes.length) {
    if (required && type === 'CodeableConcept') {
      const text = isObject(value) && typeof (value as Json).text === 'string' ? 'only text' : 'no coding';
      report(ctx, 'error', 'code-invalid', path, `${path} has ${text}; its required binding needs a coding from ${valueSet}`);
    }
    return;
  }
  const checks: CodeCheck[] = codes.filter((c) => typeof c.code === 'string').map((c) => ctx.terminology.validateCode(valueSet, c));
  if (!checks.length || checks.some((c) => c.result === true)) return;
  const offered = codes.map(showCode).join(', ');
  // One undecidable coding (a system the server does not hold) may be the one in the set: then nothing is proven.
  const failed = checks.every((c) => c.result === false) ? checks[0] : undefined;
  if (failed) {
    const why = failed.result === false ? ` (${failed.message})` : '';
    report(ctx, required ? 'error' : 'warning', 'code-invalid', path, `${path}: ${offered} is not in the value set ${valueSet} (${binding.strength} binding)${why}`);
  } else if (required) {
    const unknown = checks.find((c) => c.result === 'unknown');
    const why = unknown?.result === 'unknown' ? unknown.message : '';
    report(ctx, 'information', 'informational', path, `${path}: ${offered} could not be checked against ${valueSet}: ${why}`);
  }
}
