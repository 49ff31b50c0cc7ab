import type { Resource } from 'fhir/r4';
import { FhirError } from '../fhir/outcome.js';
import { conformanceGuide } from './guide.js';

/**
 * The guide's resources come from `npm run profiles` and are put in the store at start (server/store/guide-seed.ts):
 * a REST write would be undone at the next start, or worse, disagree with the definitions every process validates
 * against.
 * So an update, patch or delete of one is refused with 405 (the resource exists and is readable; writing it is
 * what is not allowed), and so is a write, under any id, of a resource whose canonical URL lies under the guide's
 * base (403): the guide owns that name space, which is also what lets the seed retire what the guide dropped.
 * Every caller is refused, the server itself (AUTH_DISABLED, the import command) included. The composing code
 * (server/pipeline/context.ts) runs this as a write rule on every write of the `GUIDE_TYPES`.
 */
export function refuseGuideWrite(change: { resourceType: string; id?: string; resource?: Resource }): void {
  const guide = conformanceGuide();
  if (change.id !== undefined && guide.has(change.resourceType, change.id)) {
    throw new FhirError(
      405,
      {
        code: 'not-supported',
        diagnostics: `${change.resourceType}/${change.id} comes from the CCP implementation guide (${guide.implementationGuide.url}) and is read-only: it changes only with the guide's FSH sources (npm run profiles) and a new release of the server`,
      },
      { Allow: 'GET' },
    );
  }
  const url = (change.resource as { url?: unknown } | undefined)?.url;
  if (typeof url === 'string' && url.startsWith(`${guide.canonical}/`)) {
    throw new FhirError(403, {
      code: 'forbidden',
      diagnostics: `canonical URLs under ${guide.canonical}/ belong to the CCP implementation guide, whose resources come from its FSH sources (npm run profiles); give this ${change.resourceType} a URL of your own`,
      expression: [`${change.resourceType}.url`],
    });
  }
}
