import * as resources from './001-resources.js';
import * as searchIndex from './002-search-index.js';
import * as auth from './003-auth.js';
import * as audit from './004-audit.js';
import * as statistics from './005-statistics.js';
import * as references from './006-references.js';
import * as auditTables from './007-audit-tables.js';
import * as accessChanges from './009-access-changes.js';
import * as auditPartitions from './010-audit-partitions.js';
import * as auditIndexQueue from './011-audit-index-queue.js';
import * as consentPermits from './012-consent-permits.js';
import * as subscriptions from './013-subscriptions.js';
import * as noticeOccurrences from './014-notice-occurrences.js';
import * as serverSecrets from './015-server-secrets.js';
import * as bulkExport from './016-bulk-export.js';
import * as bulkFileRows from './017-bulk-file-rows.js';

export interface Migration {
  version: number;
  name: string;
  up: string;
}

/** Applied in order, each once, each in its own transaction. Never edit one that has shipped: add the next. */
export const MIGRATIONS: Migration[] = [
  { version: 1, name: 'resources', up: resources.up },
  { version: 2, name: 'search-index', up: searchIndex.up },
  { version: 3, name: 'auth', up: auth.up },
  { version: 4, name: 'audit', up: audit.up },
  { version: 5, name: 'statistics', up: statistics.up },
  { version: 6, name: 'references', up: references.up },
  { version: 7, name: 'audit-tables', up: auditTables.up },
  { version: 9, name: 'access-changes', up: accessChanges.up },
  { version: 10, name: 'audit-partitions', up: auditPartitions.up },
  { version: 11, name: 'audit-index-queue', up: auditIndexQueue.up },
  { version: 12, name: 'consent-permits', up: consentPermits.up },
  { version: 13, name: 'subscriptions', up: subscriptions.up },
  { version: 14, name: 'notice-occurrences', up: noticeOccurrences.up },
  { version: 15, name: 'server-secrets', up: serverSecrets.up },
  { version: 16, name: 'bulk-export', up: bulkExport.up },
  { version: 17, name: 'bulk-file-rows', up: bulkFileRows.up },
];
