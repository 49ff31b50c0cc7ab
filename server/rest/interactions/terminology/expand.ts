import type { ValueSet } from 'fhir/r4';
import { notFound } from '../../../fhir/outcome.js';
import type { FhirContext, Interaction } from '../../types.js';
import type { ExpandOptions } from '../../../terminology/expanded-value-set.js';
import { OperationInput, terminologyOf } from './input.js';
import { onType, storedByUrl, storedInstance } from './resolve.js';

const OPERATION = '$expand';

/**
 * `GET|POST [base]/ValueSet/$expand` (url, or valueSet in a Parameters body) and `[base]/ValueSet/[id]/$expand`
 * (R4 ValueSet-expand): the ValueSet with its expansion, paged by offset and count and narrowed by filter. A
 * ValueSet of the definitions is expanded once and cached; a stored or given one is expanded on each call.
 * Unknown ValueSet → 404; one that draws on a code system not held here → 422 not-supported naming it.
 */
export const expandOperation: Interaction = async (request, params, context) => {
  onType(params, 'ValueSet', OPERATION);
  const input = new OperationInput(request, OPERATION, context.schema);
  const terminology = terminologyOf(context);
  const options: ExpandOptions = {
    filter: input.string('filter'),
    count: input.count('count'),
    offset: input.count('offset'),
    includeDesignations: input.boolean('includeDesignations'),
    activeOnly: input.boolean('activeOnly'),
  };
  const url = input.string('url');
  const given = input.resource<ValueSet>('valueSet', 'ValueSet');
  const version = input.string('valueSetVersion');
  if (params.id !== undefined) {
    if (url !== undefined || given) throw input.invalid('an instance-level $expand takes neither url nor valueSet: the ValueSet is the one in the URL', url !== undefined ? ['url'] : ['valueSet']);
    return ok(terminology.expand(await storedInstance<ValueSet>(context, 'ValueSet', params.id), options));
  }
  if ((url === undefined) === (given === undefined)) throw input.invalid('give the ValueSet to expand as url or as valueSet (one of them)', ['url', 'valueSet']);
  if (given) return ok(terminology.expand(given, options));
  const canonical = version ? `${url}|${version}` : url!;
  const known = terminology.valueSet(canonical);
  if (known && (!version || known.version === version)) return ok(terminology.expand(canonical, options));
  return ok(terminology.expand(await storedValueSet(context, canonical), options));
};

async function storedValueSet(context: FhirContext, canonical: string): Promise<ValueSet> {
  const stored = await storedByUrl<ValueSet>(context, 'ValueSet', canonical);
  if (!stored) throw notFound(`ValueSet ${canonical} is not known here`);
  return stored;
}

function ok(body: ValueSet) {
  return { status: 200, body };
}
