import type { Consent } from 'fhir/r4';
import type { Caller } from '../access/caller.js';
import { roleRights } from '../access/roles.js';
import type { Permission } from '../access/scopes.js';
import { FhirError } from '../fhir/outcome.js';
import type { WriteInteraction, WriteRule } from '../rest/write-rules.js';
import { consentKind } from '../conformance/consent-kind.js';
import { CONSENT_SCOPE, PRIVACY_SCOPE } from '../conformance/consent-vocabulary.js';

/**
 * A privacy contact records and ends consent directives, and writes no other Consent (docs/CONSENT.md, "Consent
 * directives"): registrations and overrides have their operations (server/consent/write-rule.ts), and a treatment
 * or research consent is not the privacy office's record. This holds when the privacy-contact role is what lets the
 * user write Consents; a user who is also a coordinator writes as a coordinator. Which patients' directives a
 * partner's privacy contact may write is decided in the SQL like any access (server/search/sql/consent-records.ts).
 */
export const privacyContactWriteRule: WriteRule = {
  name: 'privacy-contacts-write-directives',
  resourceTypes: ['Consent'],
  async check(change) {
    if (!writesAsPrivacyContact(change.caller, change.interaction)) return;
    for (const [version, tense] of [[change.current, 'is'], [change.resource, 'would be']] as const) {
      const kind = version && consentKind(version as Consent);
      if (kind && kind !== 'directive') {
        throw new FhirError(403, {
          code: 'forbidden',
          diagnostics:
            `your role (privacy-contact) records and ends consent directives only, Consents with scope ${CONSENT_SCOPE}|${PRIVACY_SCOPE} ` +
            `that are neither registrations nor overrides: this Consent ${tense} ${kind === 'other' ? 'of another scope' : `a${kind === 'override' ? 'n' : ''} ${kind}`}`,
          expression: ['Consent.scope'],
        });
      }
    }
  },
};

const PERMISSION_OF: Record<WriteInteraction, Permission> = { create: 'c', update: 'u', patch: 'u', delete: 'd' };

/** The user's right to write this Consent comes from the privacy-contact role alone. */
function writesAsPrivacyContact(caller: Caller, interaction: WriteInteraction): boolean {
  const roles = caller.kind === 'user' ? (caller.role?.roles ?? []) : [];
  if (!roles.includes('privacy-contact')) return false;
  return !roleRights(roles.filter((role) => role !== 'privacy-contact')).permits('Consent', PERMISSION_OF[interaction]);
}
