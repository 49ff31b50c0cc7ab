import type { Resource } from 'fhir/r4';
import type { Caller } from '../access/caller.js';
import type { DeferredChecks } from '../integrity/deferred.js';
import type { AuditLog } from '../store/audit-log.js';
import type { SearchParameterRegistry } from '../search/registry.js';
import type { ResourceStore } from '../store/resource-store.js';
import type { Terminology } from '../terminology/service.js';
import type { Profiles } from '../validation/profiles.js';
import type { RequiredProfiles } from '../conformance/required-profiles.js';
import type { SchemaValidator } from '../validation/schema-validator.js';
import type { WriteRules } from './write-rules.js';
import type { AccessCheck } from '../subscriptions/model.js';
import type { BulkExports } from '../bulk/model.js';
import type { ExportDisclosure } from '../bulk/disclosure.js';

/** A FHIR RESTful request, free of any HTTP framework: what an interaction needs and nothing more. */
export interface FhirRequest {
  method: string;
  /** The path below the FHIR base, without leading slash: `Patient/123/_history/2`. */
  path: string;
  /** Query (and form) parameters; a repeated parameter keeps every value in order. */
  query: Record<string, string[]>;
  body?: unknown;
  /** Request headers, lower-cased names. */
  headers: Record<string, string | undefined>;
  /** The FHIR base URL links in the response are built from, e.g. `http://localhost:8080/fhir`. */
  baseUrl: string;
  /** The server id a create must use: a transaction assigns ids before it writes, to resolve references. */
  assignedId?: string;
  /** Who asks, and what their token and role allow (server/access). */
  caller: Caller;
}

export interface FhirResponse {
  status: number;
  body?: Resource;
  headers?: Record<string, string>;
  /** A body that is not a FHIR resource: the bulk export manifest, sent as `application/json`. */
  json?: unknown;
  /** A body streamed line by line (a bulk export file): no Content-Length, written as the client takes it. */
  stream?: { contentType: string; lines: AsyncIterable<string> };
}

export interface FhirOptions {
  allowUpdateCreate: boolean;
  /** Whether a conditional delete may remove several matches (otherwise several are a 412). */
  allowMultipleDelete: boolean;
  /** The most entries a transaction or batch Bundle may hold (413 past it). */
  maxBundleEntries: number;
  /** The deepest nesting a JSON body may have (MAX_JSON_DEPTH; server/fhir/json-text.ts has the default). */
  maxJsonDepth?: number;
  defaultPageSize: number;
  maxPageSize: number;
  /** Whether the API requires SMART access tokens: only the CapabilityStatement needs to know. */
  secured?: boolean;
  /** The Organization (id) hosting the CCP service (server/consent: its staff are not held by registrations). */
  hostingOrganization?: string;
  /** Days an approved registration lasts; hours a break-the-glass override lasts. */
  registrationDays?: number;
  overrideHours?: number;
  /** The profiles resources must conform to, by type and condition (REQUIRED_PROFILES); absent: only those they claim. */
  requiredProfiles?: RequiredProfiles;
  /** Whether local references must resolve on write, and deletes of referenced resources are refused (REFERENTIAL_INTEGRITY). */
  referentialIntegrity: boolean;
  /** Whether a resource others refer to may be deleted all the same (DELETE_REFERENCED). */
  deleteReferenced: boolean;
  /** Notifications (docs/NOTIFICATIONS.md); absent: Subscriptions are checked as without these allowances. */
  subscriptions?: SubscriptionOptions;
  /** Bulk export (docs/BULK.md): the least seconds between two status polls, as `Retry-After` says it. */
  bulkExportPollSeconds?: number;
}

/** What the Subscription checks and operations need of the configuration (server/config). */
export interface SubscriptionOptions {
  /** `http:` rest-hook endpoints and loopback addresses allowed (SUBSCRIPTION_ALLOW_LOOPBACK): local tests only. */
  allowHttpLoopback: boolean;
  /** The key websocket binding tokens are signed with (server/delivery/channels/binding-token.ts): at least 32 bytes. */
  bindingSecret: string;
  /** Seconds a websocket binding token stays valid. */
  bindingTokenSeconds: number;
  /** Whether this server sends email (SMTP_URL): without it, email subscriptions are refused. */
  email: boolean;
}

/** What interactions work with: storage, validation and the server's options. */
export interface FhirContext {
  store: ResourceStore;
  schema: SchemaValidator;
  registry: SearchParameterRegistry;
  options: FhirOptions;
  /** The domain rules writes run (CCP, consent, guide), handed in by the place that composes the server. */
  writeRules: WriteRules;
  /**
   * The whole FHIR request pipeline (server/pipeline/fhir-request.ts), for what dispatches requests of its own: a
   * Bundle's entries go through every step a request does.
   */
  dispatch: (request: FhirRequest, context: FhirContext) => Promise<FhirResponse>;
  /**
   * Set while a request is being recorded in the audit trail (server/audit/audited.ts): what it touched so far.
   * A request dispatched with it set (a Bundle entry) is part of that request, not a request of its own.
   */
  auditing?: Auditing;
  /** The audit trail's group commit, chain walk and random samples (server/store/audit-log.ts). */
  auditLog?: AuditLog;
  /** ValueSet expansion and code checks over the R4 core and the CCP guide (server/terminology). */
  terminology?: Terminology;
  /** Profile validation of writes and `$validate` (server/validation/profiles.ts); absent: no profile is checked. */
  profiles?: Profiles;
  /** Inside a transaction Bundle: its referential integrity checks, run once all its entries are written. */
  deferredIntegrity?: DeferredChecks;
  /**
   * Set by the consent gate (server/pipeline/steps/consent-gate.ts) for a read by id under a restricted grant: the
   * current version of `type`/`id`, found by the statement that checked the grant and consent, so that the read
   * answers from it instead of asking the database a second time.
   */
  reached?: { type: string; id: string; resource: Resource };
  /**
   * Whether a Subscription's owner may read a focus now (server/notifications/access-check.ts), for `$events`, which
   * leaves out the events whose focus its owner may no longer see; absent, `$events` is refused (deny by default).
   */
  subscriptionAccess?: AccessCheck;
  /**
   * The bulk export jobs (server/export/engine), which the `$export` operations start, report on, serve and
   * cancel; absent, the operations answer 501.
   */
  bulkExports?: BulkExports;
}

/**
 * What a request being recorded has touched (server/audit/touched.ts keeps it): each response of the request, a
 * Bundle entry's or an operation's, is added to it. The audit trail sits above this layer and alone reads it.
 */
export interface Auditing {
  add(response: FhirResponse, subtype: string | undefined, path: string): void;
  /** A bulk export request says what it disclosed: its event takes IHE BALP's export shape (server/audit/export-events.ts). */
  exported?(disclosure: ExportDisclosure): void;
}

/** `member` is the resource type (or `*`) searched within the compartment of `type`/`id`. */
/** `file` is a bulk export file's number within its job (`$export-file/[job]/[file]`). */
export type RouteParams = { type?: string; id?: string; vid?: string; member?: string; file?: string };

export type Interaction = (request: FhirRequest, params: RouteParams, context: FhirContext) => Promise<FhirResponse>;
