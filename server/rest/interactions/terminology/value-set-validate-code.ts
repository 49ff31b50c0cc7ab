import type { ValueSet } from 'fhir/r4';
import { notFound } from '../../../fhir/outcome.js';
import type { Interaction } from '../../types.js';
import { codingsToCheck, validateCodeResult } from './codings.js';
import { OperationInput, terminologyOf } from './input.js';
import { onType, storedByUrl, storedInstance } from './resolve.js';

const OPERATION = '$validate-code';

/**
 * `GET|POST [base]/ValueSet/$validate-code` (url, or valueSet in a Parameters body) and `[base]/ValueSet/[id]/$validate-code`
 * (R4 ValueSet-validate-code): whether code + system, a coding or a codeableConcept is in the ValueSet, as
 * Parameters result, message and display. `abstract=true` accepts abstract codes. Unknown ValueSet → 404.
 */
export const valueSetValidateCode: Interaction = async (request, params, context) => {
  onType(params, 'ValueSet', OPERATION);
  const input = new OperationInput(request, OPERATION, context.schema);
  const terminology = terminologyOf(context);
  const url = input.string('url');
  const given = input.resource<ValueSet>('valueSet', 'ValueSet');
  const version = input.string('valueSetVersion');
  const options = { abstract: input.boolean('abstract') };
  const codings = codingsToCheck(input, 'systemVersion');

  if (params.id !== undefined || given) {
    if (params.id !== undefined && (url !== undefined || given)) throw input.invalid('an instance-level $validate-code takes neither url nor valueSet', url !== undefined ? ['url'] : ['valueSet']);
    const valueSet = given ?? (await storedInstance<ValueSet>(context, 'ValueSet', params.id!));
    return ok(validateCodeResult(codings.map((coding) => terminology.validateCodeInValueSet(valueSet, coding, options))));
  }
  if (url === undefined) throw input.invalid('give the ValueSet as url or as valueSet', ['url', 'valueSet']);
  const canonical = version ? `${url}|${version}` : url;
  const known = terminology.valueSet(canonical);
  if (known && (!version || known.version === version)) {
    return ok(validateCodeResult(codings.map((coding) => terminology.validateCode(canonical, coding, options))));
  }
  const stored = await storedByUrl<ValueSet>(context, 'ValueSet', canonical);
  if (!stored) throw notFound(`ValueSet ${canonical} is not known here`);
  return ok(validateCodeResult(codings.map((coding) => terminology.validateCodeInValueSet(stored, coding, options))));
};

function ok(body: ReturnType<typeof validateCodeResult>) {
  return { status: 200, body };
}
