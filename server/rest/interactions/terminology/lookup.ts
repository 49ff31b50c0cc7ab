import type { CodeSystem } from 'fhir/r4';
import { notFound } from '../../../fhir/outcome.js';
import type { Interaction } from '../../types.js';
import { OperationInput, terminologyOf } from './input.js';
import { onType, storedByUrl } from './resolve.js';

const OPERATION = '$lookup';

/**
 * `GET|POST [base]/CodeSystem/$lookup` (R4 CodeSystem-lookup): system + code, or a coding; version; property (any
 * number). Answers Parameters: name, version, display, designation, property. Unknown code system, version or code → 404.
 */
export const lookupOperation: Interaction = async (request, params, context) => {
  onType(params, 'CodeSystem', OPERATION);
  const input = new OperationInput(request, OPERATION, context.schema);
  const terminology = terminologyOf(context);
  const coding = input.coding('coding');
  const code = input.string('code');
  if ((code === undefined) === (coding === undefined)) throw input.invalid('give code (with system) or coding, one of them', ['code', 'coding']);
  const system = coding ? coding.system : input.string('system');
  const lookedUp = coding ? coding.code : code;
  if (system === undefined) throw input.invalid('the system of the code is needed', coding ? ['coding'] : ['system']);
  if (lookedUp === undefined) throw input.invalid('the coding has no code', ['coding']);
  const version = input.string('version') ?? coding?.version;
  const properties = input.all('property');
  let target: string | CodeSystem = system;
  if (!terminology.knowsCodeSystem(system)) {
    const stored = await storedByUrl<CodeSystem>(context, 'CodeSystem', system);
    if (!stored) throw notFound(`CodeSystem ${system} is not known here`);
    target = stored;
  }
  return { status: 200, body: terminology.lookup(target, lookedUp, version, properties.length ? properties : undefined) };
};
