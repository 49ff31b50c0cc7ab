import type { Bundle, HumanName, Identifier, Patient } from 'fhir/r4';
import type { Caller } from '../../access/caller.js';
import { FhirError } from '../../fhir/outcome.js';
import type { FhirContext } from '../../rest/types.js';

export interface PatientChoice {
  id: string;
  name: string;
  birthDate?: string;
  gender?: string;
  /** One identifier, with what kind it is, so that two patients of one name can be told apart (`MRN 12345`). */
  identifier?: string;
}

/** How many patients the picker lists at once; a name narrows it. */
const PAGE = 20;

/**
 * Standalone launch's patient picker: patients the user may see, found by name through the FHIR search itself,
 * so the same access rules (role, and later consent) decide what the picker can list.
 */
export async function findPatients(fhir: FhirContext, caller: Caller, name: string, baseUrl: string): Promise<PatientChoice[]> {
  const query: Record<string, string[]> = { _count: [String(PAGE)] };
  if (name.trim()) query.name = [name.trim()];
  const response = await refusedAsUndefined(fhir.dispatch({ method: 'GET', path: 'Patient', query, headers: {}, baseUrl, caller }, fhir));
  return ((response?.body as Bundle | undefined)?.entry ?? []).flatMap((entry) => {
    const patient = entry.resource as Patient | undefined;
    if (patient?.resourceType !== 'Patient' || !patient.id) return [];
    return [{ id: patient.id, name: displayName(patient.name), birthDate: patient.birthDate, gender: patient.gender, identifier: displayIdentifier(patient.identifier) }];
  });
}

/** Whether the user may read this patient: a chosen id is checked again, not trusted from the form. */
export async function patientVisible(fhir: FhirContext, caller: Caller, id: string, baseUrl: string): Promise<boolean> {
  if (!/^[A-Za-z0-9\-.]{1,64}$/.test(id)) return false;
  const response = await refusedAsUndefined(fhir.dispatch({ method: 'GET', path: `Patient/${id}`, query: {}, headers: {}, baseUrl, caller }, fhir));
  return response?.status === 200;
}

/** A refusal (403, 404) means nothing to list; anything else is a failure to report. */
async function refusedAsUndefined<T>(work: Promise<T>): Promise<T | undefined> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof FhirError && error.status < 500) return undefined;
    throw error;
  }
}

function displayName(names: HumanName[] | undefined): string {
  const name = names?.find((candidate) => candidate.use === 'official') ?? names?.[0];
  if (!name) return '(no name)';
  return name.text ?? [...(name.given ?? []), name.family].filter(Boolean).join(' ');
}

const V2_IDENTIFIER_TYPE = 'http://terminology.hl7.org/CodeSystem/v2-0203';

/** The medical record number if there is one (what staff know a patient by), else the first identifier with a value. */
function displayIdentifier(identifiers: Identifier[] | undefined): string | undefined {
  const usable = identifiers?.filter((identifier) => identifier.value && identifier.use !== 'old') ?? [];
  const chosen = usable.find((identifier) => identifier.type?.coding?.some((coding) => coding.system === V2_IDENTIFIER_TYPE && coding.code === 'MR')) ?? usable[0];
  if (!chosen) return undefined;
  const coding = chosen.type?.coding?.[0];
  const kind = chosen.type?.text ?? coding?.display ?? coding?.code ?? 'identifier';
  return `${kind} ${chosen.value}`;
}
