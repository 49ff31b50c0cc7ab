import type { CodeSystem } from 'fhir/r4';
import { notFound } from '../../../fhir/outcome.js';
import type { Interaction } from '../../types.js';
import { codingsToCheck, validateCodeResult } from './codings.js';
import { OperationInput, terminologyOf } from './input.js';
import { onType, storedByUrl, storedInstance } from './resolve.js';

const OPERATION = '$validate-code';

/**
 * `GET|POST [base]/CodeSystem/$validate-code` (url, or codeSystem in a Parameters body; `system` is taken for url
 * too, as clients often send it) and `[base]/CodeSystem/[id]/$validate-code` (R4 CodeSystem-validate-code): whether
 * the code is one of the code system's. Unknown code system → 404.
 */
export const codeSystemValidateCode: Interaction = async (request, params, context) => {
  onType(params, 'CodeSystem', OPERATION);
  const input = new OperationInput(request, OPERATION, context.schema);
  const terminology = terminologyOf(context);
  const url = input.string('url');
  const given = input.resource<CodeSystem>('codeSystem', 'CodeSystem');
  const options = { abstract: input.boolean('abstract') };

  let target: string | CodeSystem;
  if (params.id !== undefined) {
    if (url !== undefined || given) throw input.invalid('an instance-level $validate-code takes neither url nor codeSystem', url !== undefined ? ['url'] : ['codeSystem']);
    target = await storedInstance<CodeSystem>(context, 'CodeSystem', params.id);
  } else if (given) {
    target = given;
  } else {
    const system = url ?? input.string('system') ?? input.coding('coding')?.system;
    if (system === undefined) throw input.invalid('give the code system as url (or system), or as codeSystem', ['url']);
    const stored = terminology.knowsCodeSystem(system) ? undefined : await storedByUrl<CodeSystem>(context, 'CodeSystem', system);
    if (!terminology.knowsCodeSystem(system) && !stored) throw notFound(`CodeSystem ${system} is not known here`);
    target = stored ?? system;
  }
  const targetUrl = typeof target === 'string' ? target : target.url;
  const codings = codingsToCheck(input, 'version', targetUrl);
  return { status: 200, body: validateCodeResult(codings.map((coding) => terminology.validateCodeInCodeSystem(target, coding, options))) };
};
