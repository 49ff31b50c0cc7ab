import { notFound } from '../../../fhir/outcome.js';
import type { Interaction } from '../../types.js';
import { codeSystemValidateCode } from './code-system-validate-code.js';
import { valueSetValidateCode } from './value-set-validate-code.js';

/** `[type]/$validate-code` and `[type]/[id]/$validate-code`: R4 defines one on ValueSet and one on CodeSystem. */
export const validateCodeOperation: Interaction = async (request, params, context) => {
  if (params.type === 'ValueSet') return valueSetValidateCode(request, params, context);
  if (params.type === 'CodeSystem') return codeSystemValidateCode(request, params, context);
  throw notFound(`$validate-code is defined on ValueSet and CodeSystem only, not on ${params.type}`);
};
