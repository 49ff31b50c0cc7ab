import type { AuditEvent } from 'fhir/r4';
import { FhirError } from '../fhir/outcome.js';
import type { FhirContext, FhirRequest, FhirResponse, RouteParams } from '../rest/types.js';
import type { ResourceStore } from '../store/resource-store.js';
import { DatabaseUnavailable } from '../store/unavailable.js';
import type { AuditedInteraction } from './interaction.js';
import { exportEvent } from './export-events.js';
import { restEvent, type RestEventInput } from './rest-event.js';
import { Touched } from './touched.js';

export interface AuditedRequest {
  request: FhirRequest;
  interaction: AuditedInteraction;
  params?: RouteParams;
  /** Runs the interaction against `context` (a transaction's, for a write). */
  run: (context: FhirContext) => Promise<FhirResponse>;
}

/**
 * Runs a request and records it: no audit, no access (docs/AUDIT.md).
 * - A write commits in one transaction with its AuditEvent: neither exists without the other.
 * - A read is answered only once its AuditEvent is committed; if that fails, the caller gets no data: a 503 when
 *   the database is away (it will answer later), else a 500.
 * - A failed request is recorded after its rollback, with the failure's outcome, so the attempt stays on record
 *   while nothing it wrote does.
 * While the request runs, `context.auditing` gathers what it touched, Bundle entries included.
 */
export async function audited({ request, interaction, params, run }: AuditedRequest, context: FhirContext): Promise<FhirResponse> {
  const touched = new Touched(context.registry);
  const query = interaction.subtype?.startsWith('search') ? queryOf(request) : undefined;
  // A bulk export's status, cancel and download name their job by the path, even when refused (server/audit/export-events.ts).
  const job = interaction.export && interaction.export !== 'kick-off' ? params?.id : undefined;
  const target = interaction.export === 'kick-off' && params?.id !== undefined ? `Group/${params.id}` : targetOf(params);
  const event = (store: ResourceStore | undefined, status: number, failure?: string, what?: Touched) =>
    record(store, context, { interaction, caller: request.caller, recorded: new Date(), status, failure, touched: what, query, target }, job);
  try {
    if (interaction.writes === 'transaction') {
      return await context.store.transaction(async (store) => {
        const response = await run({ ...context, store, auditing: touched });
        touched.add(response, interaction.subtype, request.path);
        await touched.complete(store);
        await event(store, response.status, undefined, touched);
        return response;
      });
    }
    const response = await run({ ...context, auditing: touched });
    touched.add(response, interaction.subtype, request.path);
    await touched.complete(context.store);
    await event(undefined, response.status, undefined, touched).catch((error: unknown) => {
      throw new AuditNotStored(error);
    });
    return response;
  } catch (error) {
    if (error instanceof AuditNotStored) throw error.cause;
    const status = error instanceof FhirError ? error.status : error instanceof DatabaseUnavailable ? 503 : 500;
    const failure =
      error instanceof FhirError ? [...new Set(error.issues.map((issue) => issue.code))].join(' ') : error instanceof DatabaseUnavailable ? 'transient' : 'exception';
    // While the database is away this record fails too, and the caller gets the 503 all the same.
    // Whatever the request touched was rolled back (or never answered): the record names only what it asked for.
    await event(undefined, status, failure);
    throw error;
  }
}

/** A read's AuditEvent could not be stored: the read is not answered (the cause becomes a 503 or a logged 500). */
class AuditNotStored extends Error {
  constructor(override readonly cause: unknown) {
    super('the AuditEvent of a read could not be stored');
  }
}

/**
 * Stores an event; it joins the hash chain in the same statement (server/store/audit-chain.ts). In a write's
 * transaction (`store`) it commits with the write; otherwise (a read, a failure) it is group-committed with the
 * events of concurrent reads, and this resolves once it is committed.
 */
async function record(store: ResourceStore | undefined, context: FhirContext, input: RestEventInput, job?: string): Promise<void> {
  const step = input.interaction.export;
  const event: AuditEvent = step ? exportEvent(input, step, input.touched?.export, job) : restEvent(input);
  if (store) await store.create(event);
  else if (context.auditLog) await context.auditLog.record(event);
  else await context.store.create(event);
}

/** `Type/id` (or `Type`) of the request's route, naming what a failed request was about. */
function targetOf(params: RouteParams | undefined): string | undefined {
  if (!params?.type) return undefined;
  return params.id !== undefined ? `${params.type}/${params.id}` : undefined;
}

/** A search as the client asked it, below the base: `Observation?code=…&date=…`. */
function queryOf(request: FhirRequest): string {
  const pairs = Object.entries(request.query).flatMap(([name, values]) => values.map((value): [string, string] => [name, value]));
  const search = new URLSearchParams(pairs).toString();
  return search ? `${request.path}?${search}` : request.path;
}
