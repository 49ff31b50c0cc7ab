import type { Bundle, Communication, OperationOutcome, Resource } from 'fhir/r4';
import { ANONYMOUS, type Caller, UNRESTRICTED } from '../../server/access/caller.js';
import { parseResourceScope } from '../../server/access/scopes.js';
import { NOTICE_KIND_SYSTEM, NOTICE_PROFILE, NOTICE_SEVERITY_EXTENSION, NOTICE_WINDOW_EXTENSION } from '../../server/conformance/notice-vocabulary.js';
import { FhirError } from '../../server/fhir/outcome.js';
import { handleFhirRequest } from '../../server/pipeline/fhir-request.js';
import type { FhirContext, FhirRequest, FhirResponse } from '../../server/rest/types.js';
import { TOPIC_BASE } from '../../server/subscriptions/model.js';
import { BACKENDS, reportBackends } from '../support/backends.js';
import { testUser } from '../support/callers.js';
import { openTestServer, type TestServer } from '../support/fhir-app.js';

reportBackends();

/**
 * Service notices through the request pipeline, as callers with tokens would write and read them: administrators
 * only may post (server/notices/notice-rule.ts), every token may read (server/access/notice-access.ts), and each
 * write records its topic events in its own transaction (server/notifications/topic-events.ts).
 */
const BASE = 'https://ccp.example.org/fhir';
const scopes = (...texts: string[]) => texts.map((text) => parseResourceScope(text)!);

const ADMIN = testUser('admin-1', undefined, ['administrator']);
const CONTRIBUTOR = testUser('c-1', 'host', ['contributor']);
const COORDINATOR = testUser('co-1', 'host', ['coordinator']);
/** A partner's viewer: consent holds them back from plans (organization A is not the host). */
const PARTNER = testUser('p-1', 'A', ['viewer']);
/** A privacy auditor reaches AuditEvents and directory types only: no Communication at all but the notices. */
const AUDITOR = testUser('au-1', 'A', ['privacy-auditor']);
/** An EMR's backend client with plan scopes only. */
const EMR: Caller = { kind: 'system', clientId: 'emr', scopes: scopes('system/CarePlan.rs'), organization: 'A' };
const OPS_WITHOUT_ADMIN: Caller = { kind: 'system', clientId: 'ops', scopes: scopes('system/Communication.cruds') };
const OPS: Caller = { ...OPS_WITHOUT_ADMIN, otherScopes: ['admin'] };

function notice(kind: string, extra: Partial<Communication> = {}, window?: { start?: string; end?: string }): Communication {
  return {
    resourceType: 'Communication',
    meta: { profile: [NOTICE_PROFILE] },
    extension: [
      { url: NOTICE_SEVERITY_EXTENSION, valueCode: 'warning' },
      ...(window ? [{ url: NOTICE_WINDOW_EXTENSION, valuePeriod: window }] : []),
    ],
    status: 'in-progress',
    category: [{ coding: [{ system: NOTICE_KIND_SYSTEM, code: kind }] }],
    payload: [{ contentString: `A ${kind} notice.` }],
    ...extra,
  };
}

const DOWNTIME_WINDOW = { start: '2030-01-10T02:00:00Z', end: '2030-01-10T04:00:00Z' };
const ordinary = (): Communication => ({ resourceType: 'Communication', status: 'completed', payload: [{ contentString: 'Call me back.' }] });

describe.each(BACKENDS)('service notices on $name', (backend) => {
  let server: TestServer;
  let context: FhirContext;
  beforeAll(async () => {
    server = await openTestServer(backend, { hostingOrganization: 'host' });
    // The topic-event rule as the server will register it (the lead wires it with the engine).
    context = server.context;
  });
  afterAll(async () => server?.close());

  function call(caller: Caller, method: string, path: string, body?: Resource | object, query: Record<string, string[]> = {}): Promise<FhirResponse> {
    const request: FhirRequest = { method, path, query, headers: {}, baseUrl: BASE, caller, ...(body ? { body } : {}) };
    return handleFhirRequest(request, context);
  }
  /** The status and the outcome's text, whether the pipeline answered or threw. */
  async function outcome(promise: Promise<FhirResponse>): Promise<{ status: number; text: string }> {
    try {
      const response = await promise;
      const body = response.body as OperationOutcome | undefined;
      return { status: response.status, text: body?.resourceType === 'OperationOutcome' ? JSON.stringify(body.issue) : '' };
    } catch (error) {
      if (error instanceof FhirError) return { status: error.status, text: JSON.stringify(error.issues) };
      throw error;
    }
  }
  const post = async (caller: Caller, body: Communication) => {
    const response = await call(caller, 'POST', 'Communication', body);
    expect(response.status).toBe(201);
    return response.body as Communication & { id: string };
  };
  const eventsOf = (id: string) =>
    server.db.query<{ topic: string; trigger: string; patient: string | null; occurred_at: Date }>(
      `SELECT topic, trigger, patient, occurred_at FROM subscription_event WHERE focus_type = 'Communication' AND focus_id = $1 ORDER BY seq`,
      [id],
    );
  const count = async (sql: string) => Number((await server.db.query<{ n: string }>(sql))[0].n);

  describe('who may post', () => {
    it('an administrator posts a notice: 201, with `sent` stamped when not given', async () => {
      const before = Date.now();
      const created = await post(ADMIN, notice('unplanned-outage'));
      expect(Date.parse(created.sent!)).toBeGreaterThanOrEqual(before - 1000);
      const given = await post(ADMIN, notice('new-functionality', { sent: '2026-12-01T09:00:00Z' }));
      expect(given.sent).toBe('2026-12-01T09:00:00Z');
    });

    it('the server itself and an operator backend client with the admin scope may post too', async () => {
      await post(UNRESTRICTED, notice('restored'));
      await post(OPS, notice('new-organization'));
    });

    it.each<[string, Caller]>([
      ['a contributor', CONTRIBUTOR],
      ['a coordinator', COORDINATOR],
      ['a backend client without the admin scope', OPS_WITHOUT_ADMIN],
    ])('%s, who may write Communications, is refused with 403 naming the rule', async (_name, caller) => {
      const refused = await outcome(call(caller, 'POST', 'Communication', notice('unplanned-outage')));
      expect(refused.status).toBe(403);
      expect(refused.text).toContain('service notices are posted, changed and removed by administrators only');
    });

    it('a partner viewer and a privacy auditor, who may not write Communications at all, are refused with 403', async () => {
      for (const caller of [PARTNER, AUDITOR]) expect((await outcome(call(caller, 'POST', 'Communication', notice('restored')))).status).toBe(403);
    });

    it('others may neither change nor remove a notice, nor make their own Communication into one', async () => {
      const posted = await post(ADMIN, notice('unplanned-outage'));
      const changed = { ...posted, payload: [{ contentString: 'All fine, ignore this.' }] };
      expect((await outcome(call(CONTRIBUTOR, 'PUT', `Communication/${posted.id}`, changed))).status).toBe(403);
      expect((await outcome(call(CONTRIBUTOR, 'DELETE', `Communication/${posted.id}`))).status).toBe(403);
      const own = (await call(CONTRIBUTOR, 'POST', 'Communication', ordinary())).body as Communication & { id: string };
      const dressedUp = { ...notice('unplanned-outage'), id: own.id };
      expect((await outcome(call(CONTRIBUTOR, 'PUT', `Communication/${own.id}`, dressedUp))).status).toBe(403);
      // The notice is as the administrator wrote it.
      expect(((await call(ADMIN, 'GET', `Communication/${posted.id}`)).body as Communication).payload).toEqual(posted.payload);
    });

    it('ordinary Communications are untouched by the rule: a contributor writes one', async () => {
      expect((await call(CONTRIBUTOR, 'POST', 'Communication', ordinary())).status).toBe(201);
    });

    it("the profile holds: a planned downtime needs its window (422), a window may not end before it starts (422, R4's per-1)", async () => {
      const without = await outcome(call(ADMIN, 'POST', 'Communication', notice('planned-downtime')));
      expect(without.status).toBe(422);
      expect(without.text).toContain('ccp-notice-1');
      const backwards = await outcome(call(ADMIN, 'POST', 'Communication', notice('planned-downtime', {}, { start: '2030-01-10T04:00:00Z', end: '2030-01-10T02:00:00Z' })));
      expect(backwards.status).toBe(422);
      expect(backwards.text).toContain('per-1');
      expect(backwards.text).toContain('Communication.extension[1].value.ofType(Period)');
      // Required even when the notice does not claim the profile (REQUIRED_PROFILES).
      const { meta: _meta, ...unclaimed } = notice('planned-downtime');
      expect((await outcome(call(ADMIN, 'POST', 'Communication', unclaimed))).status).toBe(422);
    });
  });

  describe('who may read', () => {
    let posted: Communication & { id: string };
    let other: Communication & { id: string };
    beforeAll(async () => {
      posted = await post(ADMIN, notice('planned-downtime', {}, DOWNTIME_WINDOW));
      other = (await call(CONTRIBUTOR, 'POST', 'Communication', ordinary())).body as Communication & { id: string };
    });

    it.each<[string, Caller]>([
      ['a partner viewer held by consent', PARTNER],
      ['a privacy auditor, whose role reaches no Communication', AUDITOR],
      ['a backend client with CarePlan scopes only', EMR],
      ['a contributor', CONTRIBUTOR],
    ])('%s reads a notice by id and finds it by search', async (_name, caller) => {
      const read = await call(caller, 'GET', `Communication/${posted.id}`);
      expect(read.status).toBe(200);
      expect((read.body as Communication).id).toBe(posted.id);
      const found = await call(caller, 'GET', 'Communication', undefined, { category: [`${NOTICE_KIND_SYSTEM}|planned-downtime`], status: ['in-progress'] });
      expect(found.status).toBe(200);
      expect(((found.body as Bundle).entry ?? []).map((entry) => entry.resource?.id)).toContain(posted.id);
    });

    it('the opening is for notices only: the auditor and the EMR get a 404 for another Communication, and searches list notices only', async () => {
      for (const caller of [AUDITOR, EMR]) {
        expect((await outcome(call(caller, 'GET', `Communication/${other.id}`))).status).toBe(404);
        const all = (await call(caller, 'GET', 'Communication', undefined, { _count: ['1000'] })).body as Bundle;
        const ids = (all.entry ?? []).map((entry) => entry.resource?.id);
        expect(ids).toContain(posted.id);
        expect(ids).not.toContain(other.id);
        for (const entry of all.entry ?? []) expect(JSON.stringify((entry.resource as Communication).category)).toContain(NOTICE_KIND_SYSTEM);
      }
      // Whoever may read Communications anyway still reads the other one.
      expect((await call(PARTNER, 'GET', `Communication/${other.id}`)).status).toBe(200);
    });

    it('without a token: 401', async () => {
      expect((await outcome(call(ANONYMOUS, 'GET', `Communication/${posted.id}`))).status).toBe(401);
    });
  });

  describe('topic events, in the write transaction', () => {
    const SERVICE_NOTICE = `${TOPIC_BASE}/service-notice`;

    it('posted at creation (at the version lastUpdated, no patient); changed when what it says changes; nothing for a rewrite saying the same', async () => {
      const posted = await post(ADMIN, notice('planned-downtime', {}, DOWNTIME_WINDOW));
      let events = await eventsOf(posted.id);
      expect(events.map((event) => [event.topic, event.trigger, event.patient])).toEqual([[SERVICE_NOTICE, 'posted', null]]);
      expect(events[0].occurred_at.toISOString()).toBe(new Date(posted.meta!.lastUpdated!).toISOString());

      const same = await call(ADMIN, 'PUT', `Communication/${posted.id}`, posted);
      expect(same.status).toBe(200);
      expect((await eventsOf(posted.id)).length).toBe(1);

      const moved = { ...posted, extension: [posted.extension![0], { url: NOTICE_WINDOW_EXTENSION, valuePeriod: { start: '2030-01-11T02:00:00Z', end: '2030-01-11T04:00:00Z' } }] };
      expect((await call(ADMIN, 'PUT', `Communication/${posted.id}`, moved)).status).toBe(200);
      const ended = { ...moved, status: 'completed' as const };
      expect((await call(ADMIN, 'PUT', `Communication/${posted.id}`, ended)).status).toBe(200);
      events = await eventsOf(posted.id);
      expect(events.map((event) => event.trigger)).toEqual(['posted', 'changed', 'completed']);
    });

    it('a refused write leaves no event', async () => {
      const before = await count(`SELECT count(*)::text AS n FROM subscription_event WHERE focus_type = 'Communication'`);
      expect((await outcome(call(CONTRIBUTOR, 'POST', 'Communication', notice('unplanned-outage')))).status).toBe(403);
      expect(await count(`SELECT count(*)::text AS n FROM subscription_event WHERE focus_type = 'Communication'`)).toBe(before);
    });

    it('a transaction that fails after the notice was written rolls the notice and its event back together', async () => {
      const victim = await post(ADMIN, notice('new-functionality'));
      const notices = `SELECT count(*)::text AS n FROM resource WHERE resource_type = 'Communication'`;
      const events = `SELECT count(*)::text AS n FROM subscription_event WHERE focus_type = 'Communication'`;
      const [resourcesBefore, eventsBefore] = [await count(notices), await count(events)];
      const bundle: Bundle = {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          { resource: notice('unplanned-outage'), request: { method: 'POST', url: 'Communication' } },
          // PUT runs after POST in a transaction: this stale If-Match fails once the notice is written.
          { resource: { ...victim, payload: [{ contentString: 'changed' }] } as Communication, request: { method: 'PUT', url: `Communication/${victim.id}`, ifMatch: 'W/"99"' } },
        ],
      };
      const failed = await outcome(call(ADMIN, 'POST', '', bundle));
      expect(failed.status).toBe(412);
      expect(await count(notices)).toBe(resourcesBefore);
      expect(await count(events)).toBe(eventsBefore);
      // The same transaction without the stale entry commits both.
      const ok = await call(ADMIN, 'POST', '', { ...bundle, entry: [bundle.entry![0]] });
      expect(ok.status).toBe(200);
      expect(await count(events)).toBe(eventsBefore + 1);
    });
  });
});
