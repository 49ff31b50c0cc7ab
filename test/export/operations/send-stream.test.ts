import { createServer, get, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sendStream } from '../../../server/http/send.js';

/**
 * The streamed response of a bulk export file (server/http/send.ts) on a real HTTP server: lines as NDJSON,
 * chunked; a failure mid-way cuts the connection; a client that goes away stops the reading.
 */
describe('sendStream', () => {
  let server: Server;
  let lines: () => AsyncIterable<string>;
  let failure: unknown;

  beforeAll(async () => {
    server = createServer((_req, res) => {
      sendStream(res, 200, { contentType: 'application/fhir+ndjson', lines: lines() }).catch((error: unknown) => {
        failure = error;
        // As the pipeline does (server/pipeline/fhir-request.ts): answered, if nothing was sent yet.
        if (!res.headersSent) {
          res.statusCode = 500;
          res.setHeader('Content-Type', 'text/plain');
          res.end('failed');
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const url = () => `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  /** The response and its body, or the error the transfer ended with. */
  const fetchAll = () =>
    new Promise<{ res: IncomingMessage; body: string; error?: Error }>((resolve, reject) => {
      get(url(), (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ res, body }));
        res.on('error', (error) => resolve({ res, body, error }));
        res.on('aborted', () => resolve({ res, body, error: new Error('aborted') }));
      }).on('error', reject);
    });

  it('writes each line with its newline, chunked, without Content-Length', async () => {
    lines = async function* () {
      yield '{"resourceType":"Patient","id":"a"}';
      yield '{"resourceType":"Patient","id":"b"}\n';
    };
    const { res, body, error } = await fetchAll();
    expect(error).toBeUndefined();
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/fhir+ndjson');
    expect(res.headers['content-length']).toBeUndefined();
    expect(res.headers['transfer-encoding']).toBe('chunked');
    expect(body).toBe('{"resourceType":"Patient","id":"a"}\n{"resourceType":"Patient","id":"b"}\n');
  });

  it('a failure after the first line cuts the connection: the client sees a broken transfer, not a short file', async () => {
    failure = undefined;
    lines = async function* () {
      yield '{"resourceType":"Patient","id":"a"}';
      await new Promise((resolve) => setTimeout(resolve, 20));
      throw new Error('the database went away');
    };
    const { error } = await fetchAll();
    expect(error).toBeDefined();
    expect((failure as Error).message).toBe('the database went away');
  });

  it('a failure before the first line is the caller\'s to answer: nothing was sent', async () => {
    failure = undefined;
    lines = async function* () {
      throw new Error('no part could be read');
    };
    const { res, body, error } = await fetchAll();
    expect((failure as Error).message).toBe('no part could be read');
    expect(error).toBeUndefined();
    expect(res.statusCode).toBe(500);
    expect(body).toBe('failed');
  });

  it('a client that goes away stops the reading (the iterator is closed), though the lines never end', async () => {
    let closed!: () => void;
    const stopped = new Promise<void>((resolve) => (closed = resolve));
    let produced = 0;
    lines = async function* () {
      try {
        for (;;) {
          produced++;
          yield `{"resourceType":"Binary","id":"${produced}","data":"${'x'.repeat(64 * 1024)}"}`;
        }
      } finally {
        closed();
      }
    };
    await new Promise<void>((resolve, reject) => {
      const req = get(url(), (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => undefined);
      req.on('timeout', reject);
    });
    await stopped;
    // Backpressure: the server waited for the client instead of producing without end.
    expect(produced).toBeLessThan(10_000);
  });
});
