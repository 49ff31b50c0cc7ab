import type { Bundle, OperationOutcome, Parameters } from 'fhir/r4';
import { consentGateFor } from '../access/consent-gate.js';
import { rowAccess } from '../access/search-access.js';
import { parseDateRange } from '../fhir/date-range.js';
import { badRequest, FhirError, notFound, operationOutcome } from '../fhir/outcome.js';
import type { FhirContext, FhirRequest, Interaction } from '../rest/types.js';
import { parseSearch } from '../search/query/parse.js';
import { AUDIT_EVENT } from '../store/audit-chain.js';

/** The largest sample one request may draw. */
export const MAX_SAMPLE = 1000;

/**
 * `GET|POST [base]/AuditEvent/$verify`: walks the hash chain and answers an OperationOutcome: information with
 * the number of links when all is sound, else an error naming the first broken link (sequence, AuditEvent id)
 * and what is wrong with it. The walk itself succeeded either way, hence 200.
 */
export const verifyOperation: Interaction = async (_request, params, context) => {
  onAuditEvents(params.type);
  const report = await auditLogOf(context).verify();
  const head = `head: sequence ${report.head.seq}, hash ${report.head.hash}`;
  const from = report.anchorSeq === '0' ? 'from the start' : `from the retention anchor after sequence ${report.anchorSeq}`;
  const body: OperationOutcome = report.broken
    ? operationOutcome([
        {
          severity: 'error',
          code: 'processing',
          diagnostics: `The audit chain is broken at sequence ${report.broken.seq}${report.broken.eventId ? ` (AuditEvent/${report.broken.eventId})` : ''}: ${report.broken.problem}. ${report.links} links before it verified ${from}; ${head}.`,
        },
      ])
    : operationOutcome([{ severity: 'information', code: 'informational', diagnostics: `The audit chain verifies: ${report.links} links ${from}; ${head}.` }]);
  return { status: 200, body };
};

/**
 * `GET|POST [base]/AuditEvent/$sample?start=…&end=…&count=…`: a privacy auditor's random audit, a searchset of
 * `count` AuditEvents recorded in [start, end] drawn at random among those the caller may see (a privacy auditor:
 * their organization's), with the restrictions inside the SQL like any search's.
 */
export const sampleOperation: Interaction = async (request, params, context) => {
  onAuditEvents(params.type);
  const input = inputOf(request);
  const start = dateParameter(input, 'start');
  const end = dateParameter(input, 'end');
  if (parseDateRange(start)!.start > parseDateRange(end)!.end) throw badRequest('start must not be after end', ['start']);
  const count = countParameter(input);

  const reach = rowAccess(request.caller, [AUDIT_EVENT], 's', context.registry, true);
  const query = parseSearch({ date: [`ge${start}`, `le${end}`] }, reach.types, context.registry, { defaultCount: count, maxCount: MAX_SAMPLE });
  query.access = reach.access;
  query.consent = consentGateFor(request.caller, 's', context.options);
  query.total = 'none';
  const events = await auditLogOf(context).sample(query, count);
  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'searchset',
    ...(events.length ? { entry: events.map((event) => ({ fullUrl: `${request.baseUrl}/AuditEvent/${event.id}`, resource: event, search: { mode: 'match' as const } })) } : {}),
  };
  return { status: 200, body: bundle };
};

function onAuditEvents(type: string | undefined): void {
  if (type !== AUDIT_EVENT) throw notFound(`This operation is defined on AuditEvent only, not on ${type}`);
}

function auditLogOf(context: FhirContext) {
  if (!context.auditLog) throw new FhirError(501, { code: 'not-supported', diagnostics: 'This server has no audit trail to read' });
  return context.auditLog;
}

/** Operation parameters from the query (GET) or a Parameters body (POST), one value each. */
function inputOf(request: FhirRequest): Record<string, string | undefined> {
  const input: Record<string, string | undefined> = {};
  for (const [name, values] of Object.entries(request.query)) input[name] = values[0];
  const body = request.body as Parameters | undefined;
  if (body?.resourceType === 'Parameters') {
    for (const parameter of body.parameter ?? []) {
      const value = parameter.valueDate ?? parameter.valueDateTime ?? parameter.valueInstant ?? parameter.valueString ?? parameter.valueInteger ?? parameter.valuePositiveInt;
      if (value !== undefined) input[parameter.name] = String(value);
    }
  } else if (body !== undefined) {
    throw badRequest('POST takes a Parameters resource (or no body, with the parameters in the URL)');
  }
  return input;
}

function dateParameter(input: Record<string, string | undefined>, name: string): string {
  const value = input[name];
  if (value === undefined) throw badRequest(`${name} is required: a date or dateTime, such as 2026-01-01`, [name]);
  if (!parseDateRange(value)) throw badRequest(`${name} must be a date or dateTime, such as 2026-01-01 (got ${value})`, [name]);
  return value;
}

function countParameter(input: Record<string, string | undefined>): number {
  const value = input.count;
  if (value === undefined) throw badRequest(`count is required: how many events to draw (1 to ${MAX_SAMPLE})`, ['count']);
  const count = Number(value);
  if (!Number.isInteger(count) || count < 1 || count > MAX_SAMPLE) throw badRequest(`count must be an integer from 1 to ${MAX_SAMPLE} (got ${value})`, ['count']);
  return count;
}
