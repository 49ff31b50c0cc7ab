import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { AuditEvent } from 'fhir/r4';
import { UNRESTRICTED } from '../../server/access/caller.js';
import { credentialsResetEvent, signInEvent, signOutEvent, tokenIssuedEvent } from '../../server/audit/auth-events.js';
import { notificationEvent } from '../../server/audit/notification-events.js';
import { handleFhirRequest } from '../../server/pipeline/fhir-request.js';
import type { FhirRequest, FhirResponse } from '../../server/rest/types.js';
import { auditEventIndexRows, handIndexApplies, isServerBuilt } from '../../server/search/index/audit-event.js';
import { extractIndexRows } from '../../server/search/index/extract.js';
import { R4_REGISTRY } from '../../server/search/registry.js';
import type { IndexRows } from '../../server/search/types.js';
import { BACKENDS } from '../support/backends.js';
import { openTestServer, type TestServer } from '../support/fhir-app.js';
import { storedEvents } from './audit-support.js';

const require = createRequire(import.meta.url);
const EXAMPLES_DIR = path.dirname(require.resolve('hl7.fhir.r4.examples/package.json'));
const BASE = 'https://fhir.example.org/fhir';

/** The FHIRPath extractor's rows: a copy, so that no event counts as built by the server. */
const byFhirPath = (event: AuditEvent): IndexRows => extractIndexRows(structuredClone(event), R4_REGISTRY);

/** Rows of each table in one order, so that the comparison is of sets of rows (with their multiplicity). */
function sorted(rows: IndexRows): Record<string, string[]> {
  return Object.fromEntries(Object.entries(rows).map(([table, list]) => [table, (list as object[]).map((row) => JSON.stringify(row)).sort()]));
}

describe('AuditEvent index rows by hand (server/search/index/audit-event.ts)', () => {
  it('applies under the official parameters', () => {
    expect(handIndexApplies(R4_REGISTRY)).toBe(true);
  });

  const examples = readdirSync(EXAMPLES_DIR).filter((name) => /^AuditEvent-.*\.json$/.test(name));
  it.each(examples)('gives the FHIRPath extractor\'s rows for the official example %s', (name) => {
    const event = JSON.parse(readFileSync(path.join(EXAMPLES_DIR, name), 'utf8')) as AuditEvent;
    const rows = sorted(byFhirPath(event));
    expect(Object.values(rows).flat().length).toBeGreaterThan(3);
    expect(sorted(auditEventIndexRows(event))).toEqual(rows);
  });

  it('the events the server builds are marked as its own (sign-in, sign-out, token, credentials, notifications)', () => {
    const events = [
      signInEvent({ userId: 'u1', clientId: 'app', method: 'password' }),
      signInEvent({ clientId: 'app', method: 'federated' }),
      signOutEvent('u1'),
      signOutEvent(undefined),
      tokenIssuedEvent(UNRESTRICTED, 'client_credentials'),
      credentialsResetEvent({ userId: 'u1' }, { command: 'npm run reset-admin (by root)' }),
      credentialsResetEvent({ clientId: 'c1' }, UNRESTRICTED),
      notificationEvent({ subscriptionId: 's1', channel: 'rest-hook', type: 'event-notification', eventNumbers: [3, 4], focus: [{ type: 'CarePlan', id: 'cp1' }, { type: 'CarePlan', id: 'cp2' }], outcome: 'delivered', recipient: { clientId: 'emr', organization: 'A' } }),
      notificationEvent({ subscriptionId: 'partner:B:ccp-changed', channel: 'email', type: 'handshake', eventNumbers: [], focus: [], outcome: 'failed', reason: 'SMTP 451', gaveUp: true, recipient: { organization: 'B' } }),
      notificationEvent({ subscriptionId: 's3', channel: 'websocket', type: 'event-notification', eventNumbers: [1], focus: [{ type: 'Task', id: 't1' }], outcome: 'dropped', reason: 'access ended', recipient: { clientId: 'app', userId: 'u1' } }),
    ];
    for (const event of events) {
      expect(isServerBuilt(event)).toBe(true);
      expect(sorted(auditEventIndexRows(event))).toEqual(sorted(byFhirPath(event)));
    }
  });
});

describe.each(BACKENDS)('the events a server records, on $name', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await openTestServer(backend);
  });
  afterAll(async () => server?.close());

  function call(method: string, path: string, init: Partial<FhirRequest> = {}): Promise<FhirResponse> {
    return handleFhirRequest({ method, path, query: {}, headers: {}, baseUrl: BASE, caller: UNRESTRICTED, ...init }, server.context).catch(
      (error: { status?: number }) => ({ status: error.status ?? 500, headers: {} }) as FhirResponse,
    );
  }

  it('are indexed by hand exactly as by FHIRPath, and searchable by their parameters', async () => {
    const patient = (await call('POST', 'Patient', { body: { resourceType: 'Patient', name: [{ family: 'Indexed' }] } })).body!;
    const plan = { resourceType: 'CarePlan', status: 'active', intent: 'plan', subject: { reference: `Patient/${patient.id}` } };
    await call('POST', 'CarePlan', { body: plan });
    await call('GET', `Patient/${patient.id}`);
    await call('GET', 'CarePlan', { query: { patient: [`Patient/${patient.id}`], status: ['active'] } });
    await call('GET', `Patient/${patient.id}/_history/1`);
    await call('GET', 'Patient/missing-one');
    await call('DELETE', `AuditEvent/whatever`);
    await call('POST', '', { body: { resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'POST', url: 'Patient' }, resource: { resourceType: 'Patient' } }] } });
    const events = await storedEvents(server.db);
    expect(events.length).toBeGreaterThanOrEqual(8);
    for (const event of events) expect({ id: event.id, rows: sorted(auditEventIndexRows(event)) }).toEqual({ id: event.id, rows: sorted(byFhirPath(event)) });

    // What the trail's readers search by finds them, from the audit tables.
    const search = async (query: Record<string, string[]>) => ((await call('GET', 'AuditEvent', { query })).body as { entry?: unknown[] }).entry?.length ?? 0;
    expect(await search({ patient: [`Patient/${patient.id}`] })).toBeGreaterThanOrEqual(3);
    expect(await search({ entity: [`Patient/${patient.id}`], subtype: ['read'] })).toBe(1);
    expect(await search({ outcome: ['4'] })).toBeGreaterThanOrEqual(2);
    expect(await search({ date: [`ge${new Date(Date.now() - 3600_000).toISOString()}`], action: ['C'] })).toBeGreaterThanOrEqual(2);

    // Stored apart (migration 007): a clinical search reaches the trail only when it asks for AuditEvents.
    const revincluded = (await call('GET', 'Patient', { query: { _id: [patient.id!], _revinclude: ['AuditEvent:entity'] } })).body as { entry?: { resource: { resourceType: string } }[] };
    expect(revincluded.entry!.filter((entry) => entry.resource.resourceType === 'AuditEvent').length).toBeGreaterThanOrEqual(3);
    const compartment = (await call('GET', `Patient/${patient.id}/*`)).body as { entry?: { resource: { resourceType: string } }[] };
    expect(compartment.entry!.map((entry) => entry.resource.resourceType).sort()).toEqual(['CarePlan', 'Patient']);
    const trail = (await call('GET', `Patient/${patient.id}/AuditEvent`)).body as { entry?: unknown[] };
    expect(trail.entry!.length).toBeGreaterThanOrEqual(3);
    expect((await call('GET', '', { query: { _type: ['AuditEvent,Patient'] } })).status).toBe(400);
    expect((await call('GET', '', { query: { _type: ['AuditEvent'], outcome: ['4'] } })).status).toBe(200);
  });
});
