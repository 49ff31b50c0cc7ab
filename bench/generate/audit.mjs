// The audit history of one synthetic patient, built by the server's own AuditEvent builder (restEvent), so the
// records have exactly the shape live requests leave: the plan's creation by a hosting coordinator, each
// registration's $ccp-register and $approve, then partner reads and searches of the plan until the anchor day.
import { restEvent } from '../../dist/server/audit/rest-event.js';

const MINUTE = 60 * 1000;

const userOf = (person) => ({ kind: 'user', userId: person.user, practitioner: person.practitioner, organization: person.organization, scopes: [] });
const versioned = (resource) => `${resource.resourceType}/${resource.id}/_history/1`;

/**
 * One event per step. The stored registration Consents and Tasks are written once, in their approved shape, so
 * both the request and the approval name version 1 (the live server would name 1, then 2).
 */
export function auditHistory(rng, { patient, plan, author, registrations, anchor }) {
  const event = (subtype, action, person, recorded, status, resources, query) =>
    restEvent({
      interaction: { subtype, action, writes: action === 'R' || subtype.startsWith('search') ? 'none' : 'transaction' },
      caller: userOf(person),
      recorded: new Date(Math.floor(recorded / 1000) * 1000),
      status,
      touched: { patients: new Set([patient]), resources: new Set(resources), purposes: [] },
      ...(query !== undefined ? { query } : {}),
    });
  const events = [event('create', 'C', author, Date.parse(plan.created) + rng.int(1, 30) * MINUTE, 201, [versioned(plan)])];
  for (const registration of registrations) {
    const written = [versioned(registration.task), versioned(registration.consent)];
    events.push(event('operation', 'E', registration.obtainedBy, registration.requestedAt, 201, written));
    events.push(event('operation', 'E', registration.reviewer, registration.approvedAt, 200, written));
  }
  // Partner staff looking at the plan since their access began.
  const since = Math.min(...registrations.map((r) => r.approvedAt));
  const readers = registrations.map((r) => r.obtainedBy);
  for (let n = rng.int(3, 6); n > 0; n--) {
    const at = since + rng.next() * (anchor - since);
    const reader = rng.pick(readers);
    if (rng.chance(0.5)) events.push(event('read', 'R', reader, at, 200, [versioned(plan)]));
    else events.push(event('search-type', 'E', reader, at, 200, [], `CarePlan?patient=Patient/${patient}&status=active`));
  }
  return events.sort((a, b) => a.recorded.localeCompare(b.recorded));
}
