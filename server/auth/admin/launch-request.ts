import type { Database } from '../../store/database.js';
import type { LaunchContext } from '../tokens.js';

const ID = /^[A-Za-z0-9\-.]{1,64}$/;
const REFERENCE = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})$/;

/**
 * What an EHR asks to launch with: `patient` and `encounter` ids, and `fhirContext` references (the CarePlan it
 * has open). Each must name a stored resource: an app is never launched into a context that does not exist.
 */
export async function checkLaunchRequest(db: Database, input: unknown): Promise<{ context?: LaunchContext; problems: string[] }> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return { problems: ['the launch request must be a JSON object'] };
  const value = input as Record<string, unknown>;
  const problems: string[] = [];
  const context: LaunchContext = {};
  const wanted: [string, string, string][] = [];

  for (const [field, type] of [['patient', 'Patient'], ['encounter', 'Encounter']] as const) {
    const id = value[field];
    if (id === undefined) continue;
    if (typeof id !== 'string' || !ID.test(id)) problems.push(`${field}: must be a ${type} id`);
    else {
      context[field] = id;
      wanted.push([field, type, id]);
    }
  }
  if (value.fhirContext !== undefined) {
    if (!Array.isArray(value.fhirContext)) problems.push('fhirContext: must be a list of {"reference": "Type/id"}');
    else {
      context.fhirContext = [];
      value.fhirContext.forEach((item: unknown, index) => {
        const reference = (item as { reference?: unknown } | null)?.reference;
        const match = typeof reference === 'string' ? REFERENCE.exec(reference) : null;
        if (!match) return void problems.push(`fhirContext[${index}].reference: must be Type/id`);
        context.fhirContext!.push({ reference: reference as string });
        wanted.push([`fhirContext[${index}]`, match[1], match[2]]);
      });
    }
  }
  if (value.need_patient_banner !== undefined) {
    if (typeof value.need_patient_banner !== 'boolean') problems.push('need_patient_banner: must be true or false');
    else context.need_patient_banner = value.need_patient_banner;
  }
  if (!wanted.length && !problems.length) problems.push('a launch needs a patient, an encounter or a fhirContext');

  for (const [field, type, id] of wanted) {
    const found = await db.query("SELECT 1 FROM resource WHERE resource_type = $1 AND id = $2 AND NOT deleted", [type, id]);
    if (!found.length) problems.push(`${field}: ${type}/${id} does not exist`);
  }
  return problems.length ? { problems } : { context, problems };
}
