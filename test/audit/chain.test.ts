import { readFileSync } from 'node:fs';
import type { AuditEvent, Bundle, CapabilityStatement, OperationDefinition, OperationOutcome } from 'fhir/r4';
import { type Caller, UNRESTRICTED } from '../../server/access/caller.js';
import { purgeAuditTrail } from '../../server/audit/purge.js';
import { moveQueuedAuditIndex } from '../../server/store/audit-index-queue.js';
import { FhirError } from '../../server/fhir/outcome.js';
import { handleFhirRequest } from '../../server/pipeline/fhir-request.js';
import type { FhirRequest, FhirResponse } from '../../server/rest/types.js';
import { BACKENDS, reportBackends } from '../support/backends.js';
import { openTestServer, schemaValidator, type TestServer } from '../support/fhir-app.js';
import { storedEvents } from './audit-support.js';

reportBackends();

const BASE = 'https://fhir.example.org/fhir';

function userOf(organization: string, roles: string[] = []): Caller {
  return {
    kind: 'user',
    userId: `user-of-${organization}-${roles.join('-') || 'staff'}`,
    clientId: 'app',
    organization,
    scopes: [{ context: 'user', resourceType: '*', permissions: ['c', 'r', 'u', 'd', 's'], text: 'user/*.cruds' }],
    ...(roles.length ? { role: { roles, permits: (type: string, permission: string) => type === 'AuditEvent' && (permission === 'r' || permission === 's') } } : {}),
  };
}

describe.each(BACKENDS)('the audit hash chain, on $name', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await openTestServer(backend);
    // Some history to verify: ten requests, so ten events and ten links.
    for (let i = 0; i < 5; i++) {
      const created = await call('POST', 'Patient', { body: { resourceType: 'Patient', active: i % 2 === 0 } });
      await call('GET', `Patient/${created.body!.id}`);
    }
  });
  afterAll(async () => server?.close());

  function call(method: string, path: string, init: Partial<FhirRequest> = {}): Promise<FhirResponse> {
    return handleFhirRequest({ method, path, query: {}, headers: {}, baseUrl: BASE, caller: UNRESTRICTED, ...init }, server.context);
  }

  const eventAt = async (seq: number): Promise<string> => (await server.db.query<{ event_id: string }>('SELECT event_id FROM audit_chain WHERE seq = $1', [seq]))[0].event_id;

  /** $verify's verdict: its one issue's severity and text. */
  async function verify(): Promise<{ severity: string; diagnostics: string }> {
    const response = await call('GET', 'AuditEvent/$verify');
    expect(response.status).toBe(200);
    const issue = (response.body as OperationOutcome).issue[0];
    return { severity: issue.severity, diagnostics: issue.diagnostics! };
  }

  it('verifies a sound chain, counting every event stored before the walk', async () => {
    const stored = (await storedEvents(server.db)).length;
    const verdict = await verify();
    expect(verdict.severity).toBe('information');
    expect(verdict.diagnostics).toContain(`The audit chain verifies: ${stored} links from the start`);
    // The walk was itself recorded, after it counted.
    expect((await storedEvents(server.db)).length).toBe(stored + 1);
  });

  it('the CapabilityStatement lists $verify and $sample on AuditEvent, each with a valid type-level OperationDefinition', async () => {
    const statement = (await call('GET', 'metadata')).body as CapabilityStatement;
    const operations = statement.rest![0].resource!.find((r) => r.type === 'AuditEvent')!.operation!;
    expect(operations.map((o) => o.name)).toEqual(['validate', 'verify', 'sample']);
    for (const operation of operations.slice(1)) {
      const definition = JSON.parse(readFileSync(`conformance/operations/${operation.name}.json`, 'utf8')) as OperationDefinition;
      expect(definition).toMatchObject({ url: operation.definition, code: operation.name, resource: ['AuditEvent'], type: true, instance: false });
      expect(schemaValidator().validate(definition as never, 'OperationDefinition')).toEqual([]);
    }
  });

  it('an AuditEvent a client creates joins the chain', async () => {
    const event = { resourceType: 'AuditEvent', type: { code: 'client' }, recorded: '2026-01-01T00:00:00Z', agent: [{ requestor: true }], source: { observer: { display: 'a client' } } };
    const created = (await call('POST', 'AuditEvent', { body: event })).body as AuditEvent;
    const links = await server.db.query('SELECT seq FROM audit_chain WHERE event_id = $1', [created.id]);
    expect(links).toHaveLength(1);
    expect((await verify()).severity).toBe('information');
  });


  it('events stored in groups (one statement each, several groups at once) get consecutive links in their order', async () => {
    const event = (n: number): AuditEvent => ({ resourceType: 'AuditEvent', type: { code: `group-${n}` }, recorded: '2026-01-01T00:00:00Z', agent: [{ requestor: true }], source: { observer: { display: 'a group' } } });
    const [before] = await server.db.query<{ seq: string }>('SELECT seq::text AS seq FROM audit_head');
    // Three groups of four (with a plain resource mixed in, which takes no link) racing for the chain's head.
    const groups = await Promise.all(
      [0, 1, 2].map((g) => server.context.store.createMany([0, 1, 2, 3].map((i) => ({ resource: i === 2 ? { resourceType: 'Basic', code: { text: 'x' } } : event(g * 4 + i) })))),
    );
    const [after] = await server.db.query<{ seq: string }>('SELECT seq::text AS seq FROM audit_head');
    expect(Number(after.seq) - Number(before.seq)).toBe(9);
    for (const stored of groups) {
      const ids = stored.filter((r) => r.resourceType === 'AuditEvent').map((r) => r.id!);
      const seqs = await Promise.all(ids.map(async (id) => Number((await server.db.query<{ seq: string }>('SELECT seq::text AS seq FROM audit_chain WHERE event_id = $1', [id]))[0].seq)));
      // A group's links are consecutive and in the group's order: no other group's link falls between them.
      expect(seqs).toEqual([seqs[0], seqs[0] + 1, seqs[0] + 2]);
    }
    expect((await verify()).severity).toBe('information');
  });
  it('detects a changed event, naming its link, and passes again once it is restored', async () => {
    const id = await eventAt(3);
    const [original] = await server.db.query<{ content: string }>("SELECT content::text AS content FROM audit_event WHERE id = $1", [id]);
    await server.db.query(`UPDATE audit_event SET content = jsonb_set(content, '{outcome}', '"8"') WHERE id = $1`, [id]);
    const verdict = await verify();
    expect(verdict.severity).toBe('error');
    expect(verdict.diagnostics).toContain(`broken at sequence 3 (AuditEvent/${id}): AuditEvent/${id}: content changed`);
    expect(verdict.diagnostics).toContain('2 links before it verified');
    await server.db.query("UPDATE audit_event SET content = $2::jsonb WHERE id = $1", [id, original.content]);
    expect((await verify()).severity).toBe('information');
  });

  it('an event is one row (its only version): what vread answers is what the chain covers', async () => {
    const id = await eventAt(6);
    const [original] = await server.db.query<{ content: string }>('SELECT content::text AS content FROM audit_event WHERE id = $1', [id]);
    await server.db.query(`UPDATE audit_event SET content = jsonb_set(content, '{action}', '"D"') WHERE id = $1`, [id]);
    const read = await server.context.store.vread('AuditEvent', id, '1');
    expect(read.kind === 'found' && (read.resource as AuditEvent).action).toBe('D');
    expect((await server.context.store.vread('AuditEvent', id, '2')).kind).toBe('missing');
    const verdict = await verify();
    expect(verdict.diagnostics).toContain(`broken at sequence 6 (AuditEvent/${id}): AuditEvent/${id}: content changed`);
    await server.db.query('UPDATE audit_event SET content = $2::jsonb WHERE id = $1', [id, original.content]);
    expect((await verify()).severity).toBe('information');
  });

  it('detects a removed link, naming its event, now stored without a link', async () => {
    const id = await eventAt(2);
    const [row] = await server.db.query<{ content_hash: Uint8Array; hash: Uint8Array; last_updated: Date }>('SELECT content_hash, hash, last_updated FROM audit_chain WHERE seq = 2');
    await server.db.query('DELETE FROM audit_chain WHERE seq = 2');
    const verdict = await verify();
    expect(verdict.severity).toBe('error');
    expect(verdict.diagnostics).toContain(`broken at sequence 2 (AuditEvent/${id}): link 2 was removed from the chain (AuditEvent/${id} is stored without a link)`);
    await server.db.query('INSERT INTO audit_chain (seq, event_id, last_updated, content_hash, hash) VALUES (2, $1, $4, $2, $3)', [id, row.content_hash, row.hash, row.last_updated]);
    expect((await verify()).severity).toBe('information');
  });

  it('detects an event whose storage time changed (the link finds its event by id and that time)', async () => {
    const id = await eventAt(3);
    await server.db.query(`UPDATE audit_event SET last_updated = last_updated - interval '1 second' WHERE id = $1`, [id]);
    const verdict = await verify();
    expect(verdict.severity).toBe('error');
    expect(verdict.diagnostics).toContain(`broken at sequence 3 (AuditEvent/${id}): AuditEvent/${id}: its storage time changed since it was recorded`);
    await server.db.query(`UPDATE audit_event SET last_updated = last_updated + interval '1 second' WHERE id = $1`, [id]);
    expect((await verify()).severity).toBe('information');
  });

  it('detects links in another order', async () => {
    const [fourth, fifth] = [await eventAt(4), await eventAt(5)];
    const swap = async () => {
      await server.db.query('UPDATE audit_chain SET seq = -4 WHERE seq = 4');
      await server.db.query('UPDATE audit_chain SET seq = 4 WHERE seq = 5');
      await server.db.query('UPDATE audit_chain SET seq = 5 WHERE seq = -4');
    };
    await swap();
    const verdict = await verify();
    expect(verdict.diagnostics).toContain(`broken at sequence 4 (AuditEvent/${fifth}): AuditEvent/${fifth}: the link does not follow the one before it (links reordered or altered)`);
    await swap();
    expect(await eventAt(4)).toBe(fourth);
    expect((await verify()).severity).toBe('information');
  });

  it('detects a removed event, and links removed from the end', async () => {
    const [last] = await server.db.query<{ seq: string; event_id: string; content_hash: Uint8Array; hash: Uint8Array }>(
      'SELECT seq::text AS seq, event_id, content_hash, hash FROM audit_chain ORDER BY seq DESC LIMIT 1',
    );
    const [content] = await server.db.query<{ content: string }>("SELECT content::text AS content FROM audit_event WHERE id = $1", [last.event_id]);
    await server.db.query('DELETE FROM audit_chain WHERE seq = $1', [last.seq]);
    await server.db.query('DELETE FROM audit_event WHERE id = $1', [last.event_id]);
    // The walk reads the head first, so the events recorded after the deletion do not hide it.
    const verdict = await verify();
    expect(verdict.diagnostics).toContain(`broken at sequence ${last.seq}`);
    expect(verdict.diagnostics).toMatch(/removed/);
    expect(content.content).toContain('AuditEvent');
  });
});

describe.each(BACKENDS)('random audits ($sample) and retention (purge), on $name', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await openTestServer(backend);
  });
  afterAll(async () => server?.close());

  function call(method: string, path: string, init: Partial<FhirRequest> = {}): Promise<FhirResponse> {
    return handleFhirRequest({ method, path, query: {}, headers: {}, baseUrl: BASE, caller: UNRESTRICTED, ...init }, server.context);
  }

  it('$sample draws at random among the events the caller may see, within the period', async () => {
    for (const [organization, requests] of [['org-a', 3], ['org-b', 4]] as const) {
      for (let i = 0; i < requests; i++) await call('POST', 'Patient', { body: { resourceType: 'Patient' }, caller: userOf(organization) });
    }
    const auditor = userOf('org-a', ['privacy-auditor']);
    const sample = async (query: Record<string, string>) =>
      (await call('GET', 'AuditEvent/$sample', { caller: auditor, query: Object.fromEntries(Object.entries(query).map(([k, v]) => [k, [v]])) })).body as Bundle;
    const ofOrgA = (events: AuditEvent[]) => events.filter((event) => event.agent.some((agent) => agent.who?.reference === 'Organization/org-a')).map((event) => event.id).sort();

    const permitted = ofOrgA(await storedEvents(server.db));
    expect(permitted).toHaveLength(3);
    const everything = await sample({ start: '2000-01-01', end: '2100-01-01', count: '1000' });
    expect(everything.entry!.map((entry) => entry.resource!.id).sort()).toEqual(permitted);

    // The auditor's own searches are their organization's events too: the permitted set grows with each call.
    const seen = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const before = ofOrgA(await storedEvents(server.db));
      const two = await sample({ start: '2000-01-01', end: '2100-01-01', count: '2' });
      expect(two.type).toBe('searchset');
      expect(two.entry).toHaveLength(2);
      for (const entry of two.entry!) {
        expect(before).toContain(entry.resource!.id);
        seen.add(entry.resource!.id!);
      }
    }
    expect(seen.size).toBeGreaterThan(2);

    expect((await sample({ start: '2001-01-01', end: '2001-12-31', count: '5' })).entry).toBeUndefined();
    for (const [query, problem] of [
      [{ start: '2000-01-01', end: '2100-01-01' }, 'count is required'],
      [{ start: '2020-01-01', end: '2019-01-01', count: '1' }, 'start must not be after end'],
      [{ start: 'yesterday', end: '2019-01-01', count: '1' }, 'start must be a date'],
      [{ start: '2000-01-01', end: '2100-01-01', count: '0' }, 'count must be an integer from 1 to 1000'],
    ] as const) {
      const failure = await sample(query).then(
        () => undefined,
        (error: FhirError) => error,
      );
      expect(failure?.status).toBe(400);
      expect(failure?.message).toContain(problem);
    }
  });

  it('purge removes the oldest events and their links; the rest still verifies, and a change to it still fails', async () => {
    const links = async () => (await server.db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_chain'))[0].n;
    const before = await links();
    expect(before).toBeGreaterThan(8);
    const oldIds = (await server.db.query<{ event_id: string }>('SELECT event_id FROM audit_chain WHERE seq <= 5 ORDER BY seq')).map((row) => row.event_id);
    // Aged as stored: the event and its chain link carry the same last_updated (migration 010).
    await server.db.query(
      "UPDATE audit_event SET last_updated = now() - interval '40 days' WHERE id = ANY($1::text[])",
      [oldIds],
    );
    await server.db.query('UPDATE audit_chain c SET last_updated = e.last_updated FROM audit_event e WHERE e.id = c.event_id AND c.event_id = ANY($1::text[])', [oldIds]);
    expect(await purgeAuditTrail(server.db, new Date(Date.now() - 30 * 24 * 3600 * 1000))).toBe(5);
    expect(await links()).toBe(before - 5);
    for (const id of oldIds) expect((await server.context.store.read('AuditEvent', id)).kind).toBe('missing');
    const searched = (await call('GET', 'AuditEvent', { query: { _id: [oldIds.join(',')] } })).body as Bundle;
    expect(searched.entry).toBeUndefined();
    // Nothing more is old enough.
    expect(await purgeAuditTrail(server.db, new Date(Date.now() - 30 * 24 * 3600 * 1000))).toBe(0);

    const remaining = await links();
    const verdict = ((await call('GET', 'AuditEvent/$verify')).body as OperationOutcome).issue[0];
    expect(verdict.severity).toBe('information');
    // Every link left, and only those: the search above added its own.
    expect(verdict.diagnostics).toContain(`verifies: ${remaining} links from the retention anchor after sequence 5`);

    const [{ event_id: sixth }] = await server.db.query<{ event_id: string }>('SELECT event_id FROM audit_chain WHERE seq = 6');
    const [original] = await server.db.query<{ content: string }>('SELECT content::text AS content FROM audit_event WHERE id = $1', [sixth]);
    await server.db.query(`UPDATE audit_event SET content = jsonb_set(content, '{action}', '"D"') WHERE id = $1`, [sixth]);
    const broken = ((await call('GET', 'AuditEvent/$verify')).body as OperationOutcome).issue[0];
    expect(broken.diagnostics).toContain(`broken at sequence 6 (AuditEvent/${sixth}): AuditEvent/${sixth}: content changed`);
    await server.db.query('UPDATE audit_event SET content = $2::jsonb WHERE id = $1', [sixth, original.content]);
  });

  it('purge drops a month wholly before the cutoff as partitions, and deletes the boundary month\'s old rows', async () => {
    // Events 6-8 stored in a month of their own, 100 days ago; event 9 40 days ago, in the DEFAULT partition.
    const [{ month }] = await server.db.query<{ month: string }>(
      `SELECT to_char((now() - interval '100 days') AT TIME ZONE 'UTC', 'YYYYMM') AS month, audit_add_partitions(now() - interval '100 days', now() - interval '100 days')`,
    );
    const partition = `audit_event_p${month}`;
    const ids = async (from: number, to: number) =>
      (await server.db.query<{ event_id: string }>('SELECT event_id FROM audit_chain WHERE seq >= $1 AND seq <= $2 ORDER BY seq', [from, to])).map((row) => row.event_id);
    const [monthOld, daysOld] = [await ids(6, 8), await ids(9, 9)];
    // Their index rows out of the queue (migration 011), to be dated with them.
    await moveQueuedAuditIndex(server.db);
    for (const [events, age] of [[monthOld, '100 days'], [daysOld, '40 days']] as const) {
      const rids = `(SELECT rid FROM audit_event WHERE id = ANY($1::text[]))`;
      for (const table of ['audit_token', 'audit_reference', 'audit_date', 'audit_string', 'audit_uri']) {
        await server.db.query(`UPDATE ${table} SET last_updated = now() - interval '${age}' WHERE rid IN ${rids}`, [events]);
      }
      await server.db.query(`UPDATE audit_event SET last_updated = now() - interval '${age}' WHERE id = ANY($1::text[])`, [events]);
      await server.db.query('UPDATE audit_chain c SET last_updated = e.last_updated FROM audit_event e WHERE e.id = c.event_id AND c.event_id = ANY($1::text[])', [events]);
    }
    const count = async (table: string) => (await server.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`))[0].n;
    expect(await count(partition)).toBe(3);
    expect(await count(`audit_token_p${month}`)).toBeGreaterThan(3);

    expect(await purgeAuditTrail(server.db, new Date(Date.now() - 30 * 24 * 3600 * 1000))).toBe(4);
    const [gone] = await server.db.query<{ gone: boolean }>('SELECT to_regclass($1) IS NULL AS gone', [partition]);
    expect(gone.gone).toBe(true);
    for (const id of [...monthOld, ...daysOld]) expect((await server.context.store.read('AuditEvent', id)).kind).toBe('missing');
    const [{ orphans }] = await server.db.query<{ orphans: number }>(
      `SELECT count(*)::int AS orphans FROM audit_token t WHERE NOT EXISTS (SELECT 1 FROM audit_event e WHERE e.rid = t.rid)`,
    );
    expect(orphans).toBe(0);
    const verdict = ((await call('GET', 'AuditEvent/$verify')).body as OperationOutcome).issue[0];
    expect(verdict.severity).toBe('information');
    expect(verdict.diagnostics).toContain('from the retention anchor after sequence 9');
  });
});
