/**
 * Which failures mean "the database is away" (a 503 the client may retry) and which are ordinary errors, on real
 * drivers where the failure can be made for real: a refused connection, a session terminated by the server
 * (57P01, which is also what a server restart sends), a closed PGlite. SQLSTATEs that need a server in trouble to
 * occur (too many connections, starting up) are checked on error values shaped as `pg` delivers them.
 */
import net from 'node:net';
import request from 'supertest';
import type { OperationOutcome } from 'fhir/r4';
import { Availability, type AvailabilityChange } from '../../server/store/availability.js';
import { openPostgres } from '../../server/store/postgres.js';
import { asUnavailable, DatabaseUnavailable } from '../../server/store/unavailable.js';
import { BACKENDS, itWithPostgres, reportBackends } from '../support/backends.js';
import { openTestServer } from '../support/fhir-app.js';
import { freePort } from '../support/server-process.js';
import { TcpProxy } from '../support/tcp-proxy.js';

reportBackends();

/** An error as `pg` builds it from a server's ErrorResponse: the SQLSTATE in `code`. */
const serverError = (code: string, message: string) => Object.assign(new Error(message), { code, severity: 'FATAL' });

describe('asUnavailable', () => {
  it.each([
    ['ECONNREFUSED', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }), 'ECONNREFUSED'],
    ['ECONNRESET', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), 'ECONNRESET'],
    ['ETIMEDOUT', Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT' }), 'ETIMEDOUT'],
    ['EPIPE', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }), 'EPIPE'],
    ['a lost connection', new Error('Connection terminated unexpectedly'), 'Connection terminated unexpectedly'],
    ['the pool waited too long', new Error('timeout exceeded when trying to connect'), 'timeout exceeded when trying to connect'],
    ['connection failure (08006)', serverError('08006', 'connection failure'), 'SQLSTATE 08006'],
    ['admin_shutdown (57P01)', serverError('57P01', 'terminating connection due to administrator command'), 'SQLSTATE 57P01'],
    ['crash_shutdown (57P02)', serverError('57P02', 'terminating connection because of crash of another server process'), 'SQLSTATE 57P02'],
    ['cannot_connect_now (57P03)', serverError('57P03', 'the database system is starting up'), 'SQLSTATE 57P03'],
    ['too_many_connections (53300)', serverError('53300', 'sorry, too many clients already'), 'SQLSTATE 53300'],
    ['a closed PGlite', new Error('PGlite is closed'), 'PGlite is closed'],
    ['both addresses of localhost refused', new AggregateError([Object.assign(new Error('connect ECONNREFUSED ::1:5432'), { code: 'ECONNREFUSED' })]), 'ECONNREFUSED'],
  ])('%s is the database being away', (_name, error, reason) => {
    const unavailable = asUnavailable(error);
    expect(unavailable).toBeInstanceOf(DatabaseUnavailable);
    expect(unavailable?.reason).toBe(reason);
    expect(unavailable?.cause).toBe(error);
  });

  it.each([
    ['unique_violation (23505)', serverError('23505', 'duplicate key value violates unique constraint')],
    ['serialization_failure (40001)', serverError('40001', 'could not serialize access')],
    ['syntax_error (42601)', serverError('42601', 'syntax error at or near "SELEC"')],
    ['query_canceled (57014)', serverError('57014', 'canceling statement due to statement timeout')],
    ['a bug of ours', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['a message merely mentioning a connection', new Error('Connection terminated unexpectedly, said the resource')],
  ])('%s is not', (_name, error) => {
    expect(asUnavailable(error)).toBeUndefined();
  });
});

describe('Availability', () => {
  const refused = () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));

  it('tells an outage once however many statements fail, and its end once, at the first answer to a statement sent after it began', async () => {
    const availability = new Availability();
    const changes: AvailabilityChange[] = [];
    availability.onChange((change) => changes.push(change));

    let answerEarly!: () => void;
    const early = availability.guard(() => new Promise<void>((resolve) => (answerEarly = resolve)));
    for (let i = 0; i < 5; i++) await expect(availability.guard(refused)).rejects.toBeInstanceOf(DatabaseUnavailable);
    expect(availability.down).toBe(true);
    // A statement sent before the outage began answers late: that says nothing of the database now.
    answerEarly();
    await early;
    expect(availability.down).toBe(true);

    let failLate!: (error: unknown) => void;
    const late = availability.guard(() => new Promise<void>((_resolve, reject) => (failLate = reject)));
    await availability.guard(() => Promise.resolve('answered'));
    expect(availability.down).toBe(false);
    // A statement sent during the outage fails after the recovery: no new outage.
    failLate(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
    await expect(late).rejects.toBeInstanceOf(DatabaseUnavailable);
    expect(availability.down).toBe(false);

    expect(changes).toEqual([{ available: false, reason: 'ECONNREFUSED' }, { available: true, awayMs: expect.any(Number) }]);
  });

  it('work whose success proves nothing (a pool handing out an idle connection) does not end an outage, though its failure starts one', async () => {
    const availability = new Availability();
    await expect(availability.guard(refused, { answers: false })).rejects.toBeInstanceOf(DatabaseUnavailable);
    expect(availability.down).toBe(true);
    await availability.guard(() => Promise.resolve('an idle connection'), { answers: false });
    expect(availability.down).toBe(true);
  });

  it('an error the database itself answered with (a unique violation) is no outage, and ends one', async () => {
    const availability = new Availability();
    await expect(availability.guard(refused)).rejects.toBeInstanceOf(DatabaseUnavailable);
    const violation = serverError('23505', 'duplicate key');
    await expect(availability.guard(() => Promise.reject(violation))).rejects.toBe(violation);
    expect(availability.down).toBe(false);
  });
});

describe('the pg pool', () => {
  it('a server that refuses connections: every method rejects with DatabaseUnavailable, and availability is down', async () => {
    const db = openPostgres(`postgres://postgres@127.0.0.1:${await freePort()}/nothing`, 2);
    try {
      await expect(db.query('SELECT 1')).rejects.toMatchObject({ name: 'DatabaseUnavailable', reason: 'ECONNREFUSED' });
      await expect(db.transaction((tx) => tx.query('SELECT 1'))).rejects.toBeInstanceOf(DatabaseUnavailable);
      await expect(db.exec('SELECT 1')).rejects.toBeInstanceOf(DatabaseUnavailable);
      expect(db.availability.down).toBe(true);
    } finally {
      await db.close();
    }
  });

  it('a server that accepts connections and never answers: the pool gives up after its connect timeout, and the request does not hang', async () => {
    const silent = net.createServer(() => undefined);
    const accepted = new Set<net.Socket>();
    silent.on('connection', (socket) => accepted.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as net.AddressInfo;
    const db = openPostgres(`postgres://postgres@127.0.0.1:${port}/nothing`, 1);
    try {
      const failure = await db.query('SELECT 1').catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(DatabaseUnavailable);
      expect((failure as DatabaseUnavailable).reason).toMatch(/^(timeout exceeded when trying to connect|Connection terminated due to connection timeout)$/);
      expect(accepted.size).toBe(1);
    } finally {
      await db.close();
      for (const socket of accepted) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  }, 20_000);

  itWithPostgres('a session the server terminates mid-transaction (57P01): the transaction is rolled back, the process lives, the pool connects anew', async (url) => {
    const db = openPostgres(url, 1);
    const table = `outage_${process.pid}_${Date.now()}`;
    try {
      await db.exec(`CREATE TABLE ${table} (x int)`);
      const cut = db.transaction(async (tx) => {
        await tx.query(`INSERT INTO ${table} VALUES (1)`);
        await tx.query('SELECT pg_terminate_backend(pg_backend_pid())');
      });
      await expect(cut).rejects.toMatchObject({ name: 'DatabaseUnavailable', reason: 'SQLSTATE 57P01' });
      expect(db.availability.down).toBe(true);
      // The one pooled connection was dropped; the next statement gets a new one, and sees nothing of the insert.
      expect(await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).toEqual([{ n: 0 }]);
      expect(db.availability.down).toBe(false);
    } finally {
      await db.exec(`DROP TABLE IF EXISTS ${table}`);
      await db.close();
    }
  });
});

describe('/readyz', () => {
  itWithPostgres('notices an outage and the return on its own, with no other request (PostgreSQL behind a TCP proxy)', async (url) => {
    const target = new URL(url);
    const proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
    await proxy.listen();
    const proxied = new URL(url);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(proxy.port);
    const db = openPostgres(proxied.toString(), 2);
    const server = await openTestServer(BACKENDS[0], {}, { db, close: () => db.close() });
    const readyz = async () => (await request(server.app).get('/readyz')).status;
    try {
      expect(await readyz()).toBe(200);
      await proxy.cut();
      expect(await readyz()).toBe(503);
      expect(db.availability.down).toBe(true);
      // Known to be away: answered from that knowledge, while a probe looks again.
      expect(await readyz()).toBe(503);
      await proxy.restore();
      // Polling, bounded only so that a broken probe ends the test instead of hanging it.
      let status = await readyz();
      for (let polls = 0; status !== 200 && polls < 500; polls++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        status = await readyz();
      }
      expect(status).toBe(200);
      expect(db.availability.down).toBe(false);
    } finally {
      await db.close();
      await proxy.stop();
    }
  });
});

describe('a closed PGlite (the server stopping)', () => {
  it('a FHIR request is a 503 transient with Retry-After, /readyz 503, /healthz 200', async () => {
    const server = await openTestServer(BACKENDS.find((backend) => backend.name === 'pglite')!);
    expect((await request(server.app).get('/readyz')).status).toBe(200);
    await server.db.close();

    const read = await request(server.app).get('/fhir/Patient/p1').set('Origin', 'https://app.example');
    expect(read.status).toBe(503);
    expect(read.headers['retry-after']).toMatch(/^[1-9]\d*$/);
    // A browser app may read it.
    expect(read.headers['access-control-expose-headers']).toMatch(/\bRetry-After\b/);
    const outcome = read.body as OperationOutcome;
    expect(outcome.issue.map((issue) => issue.code)).toEqual(['transient']);
    expect(outcome.issue[0].diagnostics).not.toMatch(/PGlite|closed/);
    const create = await request(server.app).post('/fhir/Patient').set('Content-Type', 'application/fhir+json').send('{"resourceType":"Patient"}');
    expect(create.status).toBe(503);
    expect((await request(server.app).get('/readyz')).status).toBe(503);
    expect((await request(server.app).get('/healthz')).status).toBe(200);
  });

  it('the token endpoint is a 503 temporarily_unavailable with Retry-After, not a 500', async () => {
    const server = await openTestServer(BACKENDS.find((backend) => backend.name === 'pglite')!, { auth: true });
    await server.db.close();
    const token = await request(server.app)
      .post('/auth/token')
      .type('form')
      .send({ grant_type: 'client_credentials', client_id: 'some-client', client_secret: 'some-secret', scope: 'system/Patient.rs' });
    expect(token.status).toBe(503);
    expect(token.headers['retry-after']).toMatch(/^[1-9]\d*$/);
    expect(token.body.error).toBe('temporarily_unavailable');
    // The FHIR API with a token: the token cannot be checked, which is the same 503, not a 401.
    const read = await request(server.app).get('/fhir/Patient/p1').set('Authorization', 'Bearer abc');
    expect(read.status).toBe(503);
    expect((read.body as OperationOutcome).issue[0].code).toBe('transient');
  });
});
