import type { Bundle, Reference, Resource } from 'fhir/r4';
import { indexBundle, keyOf } from '../fhir/resources.js';
import { CAREPLAN_CATEGORY, CCP_CODE } from './ccp.js';

/**
 * The search that brings a plan with what it shows: its goals, concerns (`condition` is R4's name for
 * `CarePlan.addresses`), care teams and activity performers, then the care teams' members and the roles'
 * people and organizations.
 */
const INCLUDES = [
  '_include=CarePlan:goal',
  '_include=CarePlan:condition',
  '_include=CarePlan:care-team',
  '_include=CarePlan:performer',
  '_include:iterate=CareTeam:participant',
  '_include:iterate=PractitionerRole:practitioner',
  '_include:iterate=PractitionerRole:organization',
].join('&');

export function planSearch(target: { carePlan: string } | { patient: string }): string {
  const by = 'carePlan' in target ? `_id=${encodeURIComponent(target.carePlan)}` : `subject=${encodeURIComponent(`Patient/${target.patient}`)}`;
  return `CarePlan?${by}&category=${encodeURIComponent(`${CAREPLAN_CATEGORY}|${CCP_CODE}`)}&${INCLUDES}&_count=50`;
}

/** The types whose names the plan screen shows and a search can fetch afterwards by `_id`. */
const NAMED_TYPES = ['Practitioner', 'PractitionerRole', 'Organization', 'RelatedPerson'];

/**
 * References to people and organizations no include brought (a goal's `expressedBy`, a plan's author, a
 * member's `onBehalfOf`), by type: the loader asks for them with one `_id` search per type. Patients are left
 * out: the plan's patient is read for the banner, and another patient is not looked up.
 */
export function missingReferences(bundles: Array<Bundle | undefined>): Map<string, string[]> {
  const index = indexBundle(bundles);
  const missing = new Map<string, string[]>();
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(visit);
    if (!value || typeof value !== 'object') return;
    const reference = (value as Reference).reference;
    if (typeof reference === 'string') {
      const key = keyOf(reference);
      const [type, id] = key?.split('/') ?? [];
      if (key && !reference.startsWith('http') && NAMED_TYPES.includes(type) && !index.has(key)) {
        const ids = missing.get(type) ?? [];
        if (!ids.includes(id)) ids.push(id);
        missing.set(type, ids);
      }
    }
    for (const child of Object.values(value)) visit(child);
  };
  for (const bundle of bundles) for (const entry of bundle?.entry ?? []) visit(entry.resource as Resource);
  return missing;
}
