import type { Interaction } from '../../types.js';
import { OperationInput, terminologyOf } from './input.js';
import { onType } from './resolve.js';

const OPERATION = '$subsumes';

/**
 * `GET|POST [base]/CodeSystem/$subsumes` (R4 CodeSystem-subsumes): codeA and codeB with system, or codingA and
 * codingB of one code system. Answers Parameters `outcome`: equivalent, subsumes, subsumed-by or not-subsumed.
 */
export const subsumesOperation: Interaction = async (request, params, context) => {
  onType(params, 'CodeSystem', OPERATION);
  const input = new OperationInput(request, OPERATION, context.schema);
  const codingA = input.coding('codingA');
  const codingB = input.coding('codingB');
  const a = codingA?.code ?? input.string('codeA');
  const b = codingB?.code ?? input.string('codeB');
  if (a === undefined) throw input.invalid('codeA or codingA is needed', ['codeA']);
  if (b === undefined) throw input.invalid('codeB or codingB is needed', ['codeB']);
  const system = input.string('system') ?? codingA?.system ?? codingB?.system;
  if (system === undefined) throw input.invalid('the system is needed', ['system']);
  for (const [name, coding] of [['codingA', codingA], ['codingB', codingB]] as const) {
    if (coding?.system !== undefined && coding.system !== system) throw input.invalid(`${name} is not of ${system}`, [name]);
  }
  const outcome = terminologyOf(context).subsumes(system, a, b);
  return { status: 200, body: { resourceType: 'Parameters', parameter: [{ name: 'outcome', valueCode: outcome }] } };
};
