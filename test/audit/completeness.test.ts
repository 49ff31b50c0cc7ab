/**
 * Audit completeness against a real server process (`node dist/server/main.js`) on PostgreSQL: under concurrent
 * load every answered request has exactly one AuditEvent, and a SIGKILL in the middle of the load loses the record
 * of no request that got an answer. Needs TEST_DATABASE_URL (a server process cannot share an in-memory PGlite),
 * and says so when it is not set.
 */
import { randomUUID } from 'node:crypto';
import type { AuditEvent } from 'fhir/r4';
import { verifyChain } from '../../server/store/audit-verify.js';
import { createEmptySchema, describeWithPostgres, type EmptySchema } from '../support/backends.js';
import { freePort, type ServerProcess, startServerProcess } from '../support/server-process.js';
import { decodedQuery, storedEvents, untilSteady, whats } from './audit-support.js';

const CLIENTS = 20;
const LOAD_MS = 3000;
const FHIR_JSON = 'application/fhir+json';
const TITLE = 'audit completeness under load (a server process on PostgreSQL)';

describeWithPostgres(TITLE, 'the audit completeness tests against a server process', (baseUrl) => {
    let schema: EmptySchema;
    let server: ServerProcess;

    beforeAll(async () => {
      schema = await createEmptySchema(baseUrl);
      server = startServerProcess('audit', await freePort(), { DATABASE_URL: schema.url });
      await server.ready(45_000);
    }, 60_000);

    afterAll(async () => {
      await server?.stop();
      await schema?.close();
    }, 30_000);

    /** What a client saw of one request: the answer's status (undefined: no answer), and what identifies its record. */
    interface Sent {
      status?: number;
      /** A search's unique marker (its query entity holds it), or a create's `Patient/id/_history/1`. */
      marker?: string;
      created?: string;
    }

    /** One client: creates a Patient, reads it, searches with a unique marker, again and again until `until`. */
    async function client(until: () => boolean, sent: Sent[]): Promise<void> {
      let own: string | undefined;
      for (let i = 0; until(); i++) {
        const record: Sent = {};
        sent.push(record);
        try {
          if (i % 3 === 0 || !own) {
            const response = await fetch(`${server.fhir}/Patient`, {
              method: 'POST',
              headers: { 'Content-Type': FHIR_JSON, Prefer: 'return=minimal' },
              body: JSON.stringify({ resourceType: 'Patient', active: true }),
            });
            await response.arrayBuffer();
            record.status = response.status;
            const id = /Patient\/([^/]+)\/_history\/1$/.exec(response.headers.get('location') ?? '')?.[1];
            if (id) [own, record.created] = [id, `Patient/${id}/_history/1`];
          } else if (i % 3 === 1) {
            const response = await fetch(`${server.fhir}/Patient/${own}`, { headers: { Accept: FHIR_JSON } });
            await response.arrayBuffer();
            record.status = response.status;
          } else {
            record.marker = randomUUID();
            const response = await fetch(`${server.fhir}/Patient?identifier=urn:test|${record.marker}`, { headers: { Accept: FHIR_JSON } });
            await response.arrayBuffer();
            record.status = response.status;
          }
        } catch {
          // No answer (the server was killed): this request need not be on record.
          if (record.status === undefined) return;
        }
      }
    }

    it(`${CLIENTS} concurrent clients for ${LOAD_MS / 1000} s: exactly one AuditEvent per answered request, and the chain verifies`, async () => {
      const before = (await storedEvents(schema.db)).length;
      const sent: Sent[] = [];
      const deadline = Date.now() + LOAD_MS;
      await Promise.all(Array.from({ length: CLIENTS }, () => client(() => Date.now() < deadline, sent)));
      const answered = sent.filter((s) => s.status !== undefined);
      expect(answered.length).toBe(sent.length);
      expect(answered.every((s) => s.status === 200 || s.status === 201)).toBe(true);
      const events = (await storedEvents(schema.db)).slice(before);
      expect(events.length).toBe(answered.length);
      console.log(`audit completeness: ${answered.length} requests answered by ${CLIENTS} clients in ${LOAD_MS} ms, ${events.length} AuditEvents`);
      const report = await verifyChain(schema.db);
      expect(report.broken).toBeUndefined();
      expect(report.links).toBe(before + events.length);
    }, 60_000);

    it('SIGKILL in the middle of the load: every answered request has its AuditEvent, and the chain verifies', async () => {
      const sent: Sent[] = [];
      let killed = false;
      const load = Promise.all(Array.from({ length: CLIENTS }, () => client(() => !killed, sent)));
      await new Promise((resolve) => setTimeout(resolve, 1500));
      killed = true;
      server.child.kill('SIGKILL');
      await load;
      await untilSteady(schema.db, "SELECT (SELECT count(*)::int FROM audit_event) AS events, (SELECT count(*)::int FROM audit_chain) AS links");

      const events: AuditEvent[] = await storedEvents(schema.db);
      const markers = new Set(events.map((event) => decodedQuery(event)).filter((query): query is string => query !== undefined));
      const written = new Set(events.flatMap((event) => whats(event, '4')));
      const answered = sent.filter((s) => s.status !== undefined);
      expect(answered.length).toBeGreaterThan(CLIENTS);
      for (const request of answered) {
        if (request.marker) expect([...markers].some((query) => query.includes(request.marker!))).toBe(true);
        if (request.created) expect(written.has(request.created)).toBe(true);
      }
      const searches = answered.filter((s) => s.marker).length;
      const creates = answered.filter((s) => s.created).length;
      console.log(`after SIGKILL: ${answered.length} answered (${searches} searches, ${creates} creates), each with its AuditEvent; ${sent.length - answered.length} unanswered`);
      const report = await verifyChain(schema.db);
      expect(report.broken).toBeUndefined();
      expect(report.links).toBe(events.length);
    }, 60_000);
});
