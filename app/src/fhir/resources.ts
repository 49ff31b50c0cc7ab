import type { Bundle, CodeableConcept, ContactPoint, DomainResource, FhirResource, HumanName, Reference } from 'fhir/r4';

/** Resources by `Type/id`, as a searchset Bundle's entries (matches and includes alike) hold them. */
export type ResourceIndex = Map<string, FhirResource>;

export function indexBundle(bundles: Array<Bundle | undefined>): ResourceIndex {
  const index: ResourceIndex = new Map();
  for (const bundle of bundles) {
    for (const entry of bundle?.entry ?? []) {
      const resource = entry.resource;
      if (resource?.id) index.set(`${resource.resourceType}/${resource.id}`, resource as FhirResource);
    }
  }
  return index;
}

/**
 * `Type/id` of a literal reference: relative, absolute (a server's URL, version dropped) or with `_history`.
 * Undefined for contained (`#x`), logical-only and malformed references.
 */
export function keyOf(reference: Reference | string | undefined): string | undefined {
  const literal = typeof reference === 'string' ? reference : reference?.reference;
  const match = literal ? /(?:^|\/)([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/.exec(literal) : null;
  return match ? `${match[1]}/${match[2]}` : undefined;
}

/** What a reference points at: a contained resource of `container`, or one in the index. */
export function resolve(reference: Reference | undefined, index: ResourceIndex, container?: DomainResource): FhirResource | undefined {
  const literal = reference?.reference;
  if (literal?.startsWith('#')) return container?.contained?.find((resource) => `#${resource.id}` === literal) as FhirResource | undefined;
  const key = keyOf(reference);
  return key ? index.get(key) : undefined;
}

export function humanName(names: HumanName[] | undefined): string | undefined {
  const name = names?.find((n) => n.use === 'official') ?? names?.find((n) => n.use !== 'old') ?? names?.[0];
  if (!name) return undefined;
  if (name.text) return name.text;
  const parts = [...(name.prefix ?? []), ...(name.given ?? []), name.family ?? ''].filter(Boolean);
  return parts.length ? parts.join(' ') : undefined;
}

/** A person's or organization's name as the resource gives it, if it has one. */
export function nameOfResource(resource: FhirResource | undefined, index: ResourceIndex): string | undefined {
  switch (resource?.resourceType) {
    case 'Patient':
    case 'Practitioner':
    case 'RelatedPerson':
      return humanName(resource.name);
    case 'Organization':
    case 'CareTeam':
      return resource.name;
    case 'PractitionerRole':
      return nameOfResource(resolve(resource.practitioner, index), index) ?? resource.practitioner?.display;
    default:
      return undefined;
  }
}

/** The words for a reference: the resolved resource's name, the writer's display, or the reference itself. */
export function referenceLabel(reference: Reference | undefined, index: ResourceIndex, container?: DomainResource): string | undefined {
  if (!reference) return undefined;
  return nameOfResource(resolve(reference, index, container), index) ?? reference.display ?? reference.reference ?? reference.identifier?.value;
}

/** A concept in words: its text, else its first coding's display, else its code. */
export function conceptText(concept: CodeableConcept | undefined): string | undefined {
  if (!concept) return undefined;
  return concept.text ?? concept.coding?.find((c) => c.display)?.display ?? concept.coding?.find((c) => c.code)?.code;
}

/** The first coding's code of a status-like concept (Condition.clinicalStatus, Goal.achievementStatus). */
export function conceptCode(concept: CodeableConcept | undefined): string | undefined {
  return concept?.coding?.find((c) => c.code)?.code;
}

const TELECOM_LABELS: Record<string, string> = { phone: 'Phone', email: 'Email', fax: 'Fax', pager: 'Pager', sms: 'SMS', url: 'Web', other: 'Contact' };

/** Phone numbers and addresses, current ones only, each labelled by its kind. */
export function contactLines(telecom: ContactPoint[] | undefined): string[] {
  return (telecom ?? [])
    .filter((point) => point.value && !point.period?.end)
    .map((point) => `${TELECOM_LABELS[point.system ?? 'other'] ?? 'Contact'}: ${point.value}${point.use ? ` (${point.use})` : ''}`);
}
