/**
 * The database going away under load, for real: a server process (`node dist/server/main.js`) reaches PostgreSQL
 * through a TCP proxy of the test's own, which the test cuts (every connection reset, new ones refused) and then
 * restores. The machine's PostgreSQL is never restarted. While the database is away every request that needs it is
 * a 503 `transient` with Retry-After (never a 500), /readyz is 503 and /healthz 200, and the outage is logged once;
 * afterwards the same process serves again, nothing confirmed is lost, nothing is half-written, and the audit chain
 * verifies. Needs TEST_DATABASE_URL (PGlite is in the process and cannot become unreachable), and says so otherwise.
 */
import { randomUUID } from 'node:crypto';
import type { AuditEvent, Bundle, OperationOutcome, Patient } from 'fhir/r4';
import { createEmptySchema, describeWithPostgres, type EmptySchema } from '../support/backends.js';
import { freePort, type ServerProcess, startServerProcess } from '../support/server-process.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { decodedQuery, storedEvents, untilSteady, whats } from '../audit/audit-support.js';

const CLIENTS = 5;
const FHIR_JSON = 'application/fhir+json';
const MARKER_SYSTEM = 'urn:test:outage';
/** Patients per transaction Bundle: a Bundle cut mid-way must leave all of them or none. */
const BUNDLE_SIZE = 3;
const TITLE = 'a database outage under load (a server process on PostgreSQL behind a TCP proxy)';

const OUTAGES = 3;
type Kind = 'create' | 'bundle' | 'read' | 'search';
const KINDS: Kind[] = ['create', 'read', 'search', 'bundle'];
/** `up n` after the n-th outage (`up 0` before the first), `down n` during it. */
type Phase = `${'up' | 'down'} ${number}`;

/** One request as its client saw it. */
interface Sent {
  kind: Kind;
  /** The phase when it was sent, and when its answer came. */
  sentIn: Phase;
  answeredIn?: Phase;
  status?: number;
  retryAfter?: string | null;
  outcome?: OperationOutcome;
  /** The identifier values of the Patients it creates, or the search's marker. */
  markers: string[];
}

describeWithPostgres(
  TITLE,
  'the database outage tests (they need a PostgreSQL server to put a TCP proxy in front of; the embedded PGlite cannot become unreachable)',
  (baseUrl) => {
    let schema: EmptySchema;
    let proxy: TcpProxy;
    let server: ServerProcess;
    let seedId: string;
    let phase: Phase = 'up 0';

    beforeAll(async () => {
      schema = await createEmptySchema(baseUrl);
      const target = new URL(baseUrl);
      proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
      await proxy.listen();
      const proxied = new URL(schema.url);
      proxied.hostname = '127.0.0.1';
      proxied.port = String(proxy.port);
      server = startServerProcess('outage', await freePort(), { DATABASE_URL: proxied.toString(), LOG_LEVEL: 'info' });
      await server.ready(45_000);
      const seed = await fhir('POST', 'Patient', { resourceType: 'Patient', active: true });
      expect(seed.status).toBe(201);
      seedId = ((await seed.json()) as Patient).id!;
    }, 60_000);

    afterAll(async () => {
      await server?.stop();
      await proxy?.stop();
      await schema?.close();
    }, 30_000);

    function fhir(method: string, path: string, body?: unknown): Promise<Response> {
      return fetch(`${server.fhir}/${path}`, {
        method,
        headers: { Accept: FHIR_JSON, ...(body ? { 'Content-Type': FHIR_JSON } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
    }

    const patient = (marker: string): Patient => ({ resourceType: 'Patient', identifier: [{ system: MARKER_SYSTEM, value: marker }] });

    /** Sends one request of `kind`, and keeps what the client saw of it. */
    async function send(kind: Kind, sent: Sent[]): Promise<void> {
      const record: Sent = { kind, sentIn: phase, markers: [] };
      sent.push(record);
      let response: Response;
      if (kind === 'create') {
        record.markers = [randomUUID()];
        response = await fhir('POST', 'Patient', patient(record.markers[0]));
      } else if (kind === 'bundle') {
        record.markers = Array.from({ length: BUNDLE_SIZE }, () => randomUUID());
        const bundle: Bundle = {
          resourceType: 'Bundle',
          type: 'transaction',
          entry: record.markers.map((marker) => ({ resource: patient(marker), request: { method: 'POST', url: 'Patient' } })),
        };
        response = await fhir('POST', '', bundle);
      } else if (kind === 'read') {
        response = await fhir('GET', `Patient/${seedId}`);
      } else {
        record.markers = [randomUUID()];
        response = await fhir('GET', `Patient?identifier=${encodeURIComponent(`${MARKER_SYSTEM}|${record.markers[0]}`)}`);
      }
      record.answeredIn = phase;
      record.status = response.status;
      record.retryAfter = response.headers.get('retry-after');
      const body = (await response.json()) as { resourceType?: string };
      if (body.resourceType === 'OperationOutcome') record.outcome = body as OperationOutcome;
    }

    /** A client sending every kind of request in turn until `until` says stop, or the server is gone. */
    async function client(offset: number, until: () => boolean, sent: Sent[]): Promise<void> {
      for (let i = offset; until(); i++) {
        try {
          await send(KINDS[i % KINDS.length], sent);
        } catch {
          // No answer: the record keeps no status, which the assertions refuse; the waits report a dead server.
          if (server.child.exitCode !== null || server.child.signalCode !== null) return;
        }
      }
    }

    /** How many of `kind` were sent and answered within `phase` with `status`. */
    const answered = (sent: Sent[], kind: Kind, status: number, within: Phase) =>
      sent.filter((s) => s.kind === kind && s.status === status && s.sentIn === within && s.answeredIn === within).length;
    const everyKind = (test: (kind: Kind) => boolean) => KINDS.every(test);
    const success = (kind: Kind) => (kind === 'create' ? 201 : 200);

    async function probe(path: string): Promise<{ status: number; retryAfter: string | null }> {
      const response = await fetch(`${server.origin}${path}`);
      await response.arrayBuffer();
      return { status: response.status, retryAfter: response.headers.get('retry-after') };
    }

    /**
     * Waits, polling, until `condition` holds. Not a timing assertion: the bound only ends a run that would
     * otherwise poll forever (the server died, or never answers as expected) with what it was waiting for.
     */
    async function until(what: string, condition: () => boolean | Promise<boolean>): Promise<void> {
      for (let polls = 0; !(await condition()); polls++) {
        if (server.child.exitCode !== null || server.child.signalCode !== null) throw new Error(`the server exited while waiting until ${what}:\n${server.output()}`);
        if (polls > 3000) throw new Error(`gave up waiting until ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }

    it(`answers 503 transient with Retry-After while the database is away (${OUTAGES} outages), logs each outage once, and serves again after each without losing or half-writing anything`, async () => {
      const sent: Sent[] = [];
      let stop = false;
      const load = Promise.all(Array.from({ length: CLIENTS }, (_, offset) => client(offset, () => !stop, sent)));
      const probes: { readyz: number; retryAfter: string | null; healthz: number }[] = [];
      try {
        phase = 'up 0';
        await until('every kind is served before the first outage', () => everyKind((kind) => answered(sent, kind, success(kind), phase) >= 2));
        for (let outage = 1; outage <= OUTAGES; outage++) {
          // The phase changes in the same turn as the cut resets the connections, so that no answer falls between.
          phase = `down ${outage}`;
          await proxy.cut();
          await until(`every kind is refused during outage ${outage}`, () => everyKind((kind) => answered(sent, kind, 503, phase) >= 2));
          const readyz = await probe('/readyz');
          probes.push({ readyz: readyz.status, retryAfter: readyz.retryAfter, healthz: (await probe('/healthz')).status });

          await proxy.restore();
          phase = `up ${outage}`;
          await until(`/readyz answers 200 after outage ${outage}`, async () => (await probe('/readyz')).status === 200);
          await until(`every kind is served after outage ${outage}`, () => everyKind((kind) => answered(sent, kind, success(kind), phase) >= 1));
        }
      } finally {
        stop = true;
        await load;
      }

      // The same process served throughout; /readyz said 503 during each outage, /healthz 200.
      expect(server.child.exitCode).toBeNull();
      expect(probes).toEqual(Array.from({ length: OUTAGES }, () => ({ readyz: 503, retryAfter: expect.stringMatching(/^[1-9]\d*$/), healthz: 200 })));

      // Every request was answered; never a 500: each answer is the kind's success or a 503, and each 503 is an honest "try again".
      expect(sent.filter((s) => s.status === undefined)).toEqual([]);
      const statuses = new Set(sent.map((s) => `${s.kind} ${s.status}`));
      expect([...statuses].filter((s) => !['create 201', 'bundle 200', 'read 200', 'search 200'].includes(s) && !s.endsWith(' 503'))).toEqual([]);
      const refused = sent.filter((s) => s.status === 503);
      for (const s of refused) {
        expect(s.retryAfter).toMatch(/^[1-9]\d*$/);
        expect(s.outcome?.issue.map((issue) => issue.code)).toEqual(['transient']);
        expect(s.outcome?.issue[0].diagnostics).toMatch(/database/);
        expect(s.outcome?.issue[0].diagnostics).not.toMatch(/ECONN|terminated|SQLSTATE|\bat .+:\d+/);
      }
      // Nothing sent while the database was away was answered with data.
      expect(sent.filter((s) => s.sentIn.startsWith('down') && s.answeredIn === s.sentIn && s.status !== 503)).toEqual([]);

      // Each outage is logged once when it starts and once when it ends; no request logged an error or a stack.
      const log = server.output().split('\n').filter(Boolean).map((line) => parsed(line));
      expect(log.filter((line) => line.msg?.startsWith('database unavailable'))).toHaveLength(OUTAGES);
      const back = log.filter((line) => line.msg === 'database answers again');
      expect(back).toHaveLength(OUTAGES);
      for (const line of back) expect(line.awayMs).toBeGreaterThan(0);
      expect(log.filter((line) => (line.level ?? 0) >= 50 || line.err !== undefined || line.stack !== undefined)).toEqual([]);
      expect(server.output()).not.toMatch(/\n\s+at /);
      expect(log.filter((line) => line.msg === 'request' && line.status === 503 && line.path !== '/readyz').length).toBe(refused.length);

      // Nothing confirmed is lost; nothing is half-written: a transaction Bundle is there whole or not at all, and
      // every stored Patient has its one version, its index rows and the AuditEvent of the request that made it.
      await untilSteady(schema.db, 'SELECT (SELECT count(*)::int FROM resource) AS resources, (SELECT count(*)::int FROM audit_chain) AS links');
      const stored = await storedPatients(schema);
      const confirmed = sent.filter((s) => (s.kind === 'create' && s.status === 201) || (s.kind === 'bundle' && s.status === 200));
      for (const s of confirmed) for (const marker of s.markers) expect(stored.has(marker)).toBe(true);
      for (const s of sent.filter((s) => s.kind === 'bundle')) {
        expect([0, BUNDLE_SIZE]).toContain(s.markers.filter((marker) => stored.has(marker)).length);
      }
      const attempted = new Map(sent.filter((s) => s.kind === 'create' || s.kind === 'bundle').flatMap((s) => s.markers.map((marker) => [marker, s])));
      const unconfirmed = [...stored.keys()].filter((marker) => !confirmed.some((s) => s.markers.includes(marker)));
      // A write whose COMMIT reached the database just before the cut, but whose answer did not, is stored although
      // the client was told 503: a client cannot know, and retries (conditional create makes that safe).
      // Such a write was in flight when the cut came: sent before it, answered during it. One sent while the
      // database was away is never stored.
      for (const marker of unconfirmed) {
        const write = attempted.get(marker)!;
        expect({ status: write.status, sentIn: write.sentIn.split(' ')[0], answeredIn: write.answeredIn?.split(' ')[0] }).toEqual({ status: 503, sentIn: 'up', answeredIn: 'down' });
      }
      const confirmedCount = confirmed.reduce((sum, s) => sum + s.markers.length, 0);
      expect(stored.size).toBe(confirmedCount + unconfirmed.length);

      const events: AuditEvent[] = await storedEvents(schema.db);
      const written = new Set(events.flatMap((event) => whats(event, '4')));
      for (const [marker, id] of stored) {
        const [{ versions, tokens }] = await schema.db.query<{ versions: number; tokens: number }>(
          `SELECT (SELECT count(*)::int FROM resource_version WHERE resource_type = 'Patient' AND id = $1) AS versions,
                  (SELECT count(*)::int FROM search_token t JOIN resource r ON r.rid = t.rid
                    WHERE r.resource_type = 'Patient' AND r.id = $1 AND t.param = 'identifier' AND t.code = $2) AS tokens`,
          [id, marker],
        );
        expect({ versions, tokens }).toEqual({ versions: 1, tokens: 1 });
        expect(written.has(`Patient/${id}/_history/1`)).toBe(true);
      }
      // A search answered 200 has its AuditEvent: no read was answered without its record.
      const queries = events.map((event) => decodedQuery(event) ?? '');
      for (const s of sent.filter((s) => s.kind === 'search' && s.status === 200)) {
        expect(queries.some((query) => query.includes(s.markers[0]))).toBe(true);
      }

      const verify = await fhir('GET', 'AuditEvent/$verify');
      expect(verify.status).toBe(200);
      const verdict = ((await verify.json()) as OperationOutcome).issue[0];
      expect(verdict.severity).toBe('information');
      expect(verdict.diagnostics).toMatch(/^The audit chain verifies: \d+ links/);

      const count = (kind: Kind, status: number) => sent.filter((s) => s.kind === kind && s.status === status).length;
      console.log(
        `database outage: ${sent.length} requests by ${CLIENTS} clients; 503: ${refused.length} (creates ${count('create', 503)}, ` +
          `bundles ${count('bundle', 503)}, reads ${count('read', 503)}, searches ${count('search', 503)}); ` +
          `${confirmedCount} Patients confirmed, ${stored.size} stored (${unconfirmed.length} stored though answered 503); ` +
          `away ${back.map((line) => line.awayMs).join(', ')} ms`,
      );
    }, 120_000);
  },
);

interface LogLine {
  level?: number;
  msg?: string;
  path?: string;
  status?: number;
  awayMs?: number;
  err?: unknown;
  stack?: unknown;
}

/** A JSON log line; anything else the process printed counts as an error line. */
function parsed(line: string): LogLine {
  try {
    return JSON.parse(line) as LogLine;
  } catch {
    return { level: 60, msg: line };
  }
}

/** The test's Patients as stored: identifier value → id (read straight from the table, not through the proxy). */
async function storedPatients(schema: EmptySchema): Promise<Map<string, string>> {
  const rows = await schema.db.query<{ id: string; content: Patient }>(
    "SELECT id, content FROM resource WHERE resource_type = 'Patient' AND NOT deleted",
  );
  const stored = new Map<string, string>();
  for (const row of rows) {
    const marker = row.content.identifier?.find((identifier) => identifier.system === MARKER_SYSTEM)?.value;
    if (marker) stored.set(marker, row.id);
  }
  return stored;
}
