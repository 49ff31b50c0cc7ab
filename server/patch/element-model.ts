import r4 from 'fhirpath/fhir-context/r4';

/**
 * What FHIRPath Patch needs to know of an element, from the R4 model the FHIRPath engine ships: whether it
 * repeats (a JSON array) and, for a choice element (`value[x]`), which type suffixes it allows.
 * `owner` is a type (`HumanName`, `Patient`) or a backbone path (`Patient.contact`), as the engine names nodes.
 */
export interface ElementFacts {
  repeats: boolean;
  choiceTypes?: string[];
}

export function elementFacts(owner: string, name: string): ElementFacts | undefined {
  for (let type: string | undefined = owner; type; type = parentOf(type)) {
    const path = `${type}.${name}`;
    const choiceTypes = r4.choiceTypePaths[path];
    if (choiceTypes) return { repeats: false, choiceTypes };
    if (r4.path2Type[path] !== undefined) return { repeats: r4.path2Repeating[path] === true };
  }
  return undefined;
}

/** Elements are inherited: HumanName from Element, Patient from DomainResource; backbone elements from BackboneElement. */
function parentOf(type: string): string | undefined {
  return r4.type2Parent[type] ?? (type.includes('.') ? 'BackboneElement' : undefined);
}
