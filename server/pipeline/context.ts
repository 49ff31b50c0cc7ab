import { AuditLog } from '../store/audit-log.js';
import { CCP_RULES } from '../ccp/rules.js';
import { GUIDE_TYPES } from '../conformance/guide.js';
import { refuseGuideWrite } from '../conformance/guide-write-rule.js';
import { privacyContactWriteRule } from '../consent/directive-rule.js';
import { consentWriteRule } from '../consent/write-rule.js';
import { partnerEmailRule } from '../notifications/partner-email-rule.js';
import { subscriptionWriteRule } from '../notifications/subscription-rule.js';
import { topicEventRule } from '../notifications/topic-event-rule.js';
import { createAccessCheck } from '../notifications/access-check.js';
import { serviceNoticeRule } from '../notices/notice-rule.js';
import type { FhirContext, FhirOptions } from '../rest/types.js';
import { type WriteRule, WriteRules } from '../rest/write-rules.js';
import type { SearchParameterRegistry } from '../search/registry.js';
import type { Database } from '../store/database.js';
import { type Indexer, SqlResourceStore } from '../store/sql-resource-store.js';
import { sharedTerminology } from '../terminology/shared.js';
import { sharedProfiles } from '../validation/profiles.js';
import type { SchemaValidator } from '../validation/schema-validator.js';
import { handleFhirRequest } from './fhir-request.js';

/** The guide's resources and canonical URLs are read-only (server/conformance/guide-write-rule.ts). */
const guideWriteRule: WriteRule = {
  name: 'guide-read-only',
  resourceTypes: GUIDE_TYPES,
  async check(change) {
    refuseGuideWrite(change);
  },
};

/**
 * The domain rules every REST write runs, in the order they run: consent first, then the CCP's, the guide's, the
 * service notices' (administrators only), the Subscriptions', the partners' emails (before the topic events: a new
 * partner's email records predate its own event), and last the topic events of what the rules above let through.
 */
export const SERVER_WRITE_RULES: readonly WriteRule[] = [
  consentWriteRule,
  privacyContactWriteRule,
  ...CCP_RULES,
  guideWriteRule,
  serviceNoticeRule,
  subscriptionWriteRule,
  partnerEmailRule,
  topicEventRule,
];

/**
 * The one place the interactions' context is assembled, for the server, the import, the demo and the tests alike:
 * storage, the audit log, terminology and profiles, the domain write rules, and the pipeline itself (for Bundle
 * entries), so that the REST layer below needs to import none of them.
 */
export function createFhirContext(
  db: Database,
  schema: SchemaValidator,
  registry: SearchParameterRegistry,
  index: Indexer,
  options: FhirOptions,
): FhirContext {
  const store = new SqlResourceStore(db, index);
  // The terminology loads its definitions on first use, so the server starts without waiting for them.
  const context: FhirContext = {
    store,
    schema,
    registry,
    options,
    writeRules: new WriteRules(SERVER_WRITE_RULES),
    dispatch: handleFhirRequest,
    auditLog: new AuditLog(db, store),
    terminology: sharedTerminology(),
    profiles: sharedProfiles(options.requiredProfiles),
  };
  // Decided as a read by id through this very context: the same storage, registry and options as the API's.
  context.subscriptionAccess = createAccessCheck(db, context);
  return context;
}
