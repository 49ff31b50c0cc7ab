import type { Reference, Resource } from 'fhir/r4';
import { R4_COMPARTMENTS } from '../fhir/r4/compartments.generated.js';
import { selectFromResource } from '../search/index/expression.js';
import type { SearchParameterRegistry } from '../search/registry.js';

/** Task is not in R4's Patient compartment, but a registration request names its patient in Task.for (`patient`). */
const MORE_PATIENT_PARAMS: Record<string, string[]> = { Task: ['patient'] };

const PATIENT_REFERENCE = /^Patient\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;

/**
 * The ids of the patients a resource is about: itself when it is a Patient, and the Patients its Patient
 * compartment parameters name (the official CompartmentDefinition: Observation.subject, CarePlan.patient, …;
 * and Task.for).
 * Only local references count: an absolute URL names another server's patient.
 */
export function patientsOf(resource: Resource, registry: SearchParameterRegistry): string[] {
  const ids = new Set<string>();
  if (resource.resourceType === 'Patient' && resource.id) ids.add(resource.id);
  for (const code of R4_COMPARTMENTS.Patient[resource.resourceType] ?? MORE_PATIENT_PARAMS[resource.resourceType] ?? []) {
    const expression = registry.get(resource.resourceType, code)?.expression;
    if (!expression) continue;
    for (const value of selectFromResource(expression, resource)) {
      if (value.type !== 'Reference') continue;
      const match = PATIENT_REFERENCE.exec((value.data as Reference | undefined)?.reference ?? '');
      if (match) ids.add(match[1]);
    }
  }
  return [...ids];
}
