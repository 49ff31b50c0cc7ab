import type { ElementDefinition, StructureDefinition } from 'fhir/r4';
import { loadDefinitions, type Definitions } from '../../server/conformance/definitions.js';
import { createTerminology } from '../../server/terminology/service.js';
import { createProfileValidator, type ProfileValidator } from '../../server/validation/profile/profile-validator.js';

/**
 * A profile written for a test: the base type's snapshot with some elements changed (by id) and slices added
 * after the element they slice, as a snapshot generator would write them.
 */
export function profileOf(
  base: StructureDefinition,
  url: string,
  changes: Record<string, Partial<ElementDefinition>>,
  slices: ElementDefinition[] = [],
): StructureDefinition {
  const elements: ElementDefinition[] = [];
  for (const element of base.snapshot?.element ?? []) {
    elements.push({ ...element, ...changes[element.id ?? element.path] });
    for (const slice of slices) if (slice.id?.startsWith(`${element.id}:`) && !slice.id.slice(element.id!.length + 1).includes('.')) {
      elements.push(slice);
      elements.push(...slices.filter((s) => s.id?.startsWith(`${slice.id}.`)));
    }
  }
  return { ...base, url, derivation: 'constraint', baseDefinition: base.url, snapshot: { element: elements } };
}

/** The real definitions, with test profiles beside them. */
export function validatorWith(make: (definitions: Definitions) => StructureDefinition[]): ProfileValidator {
  const real = loadDefinitions();
  const extra = new Map(make(real).map((sd) => [sd.url, sd]));
  const definitions: Definitions = {
    structureDefinition: (url) => extra.get(url) ?? real.structureDefinition(url),
    typeDefinition: (type) => real.typeDefinition(type),
    valueSet: (url) => real.valueSet(url),
    codeSystem: (url) => real.codeSystem(url),
  };
  return createProfileValidator(definitions, createTerminology(real));
}
