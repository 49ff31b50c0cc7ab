import { Writable } from 'node:stream';
import { createLogger, logFormatFor } from '../../server/log/logger.js';

/** What a logger wrote, line by line. */
function collector(): { stream: Writable; lines: () => string[] } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, lines: () => text.split('\n').filter(Boolean) };
}

describe('the log format', () => {
  it('is pretty on a terminal and JSON otherwise, unless LOG_FORMAT says which', () => {
    expect(logFormatFor(undefined, true)).toBe('pretty');
    expect(logFormatFor(undefined, false)).toBe('json');
    expect(logFormatFor('json', true)).toBe('json');
    expect(logFormatFor('pretty', false)).toBe('pretty');
  });

  it('json: one JSON object a line, with the service and the fields', () => {
    const out = collector();
    createLogger('info', 'json', out.stream).info({ port: 8080, database: 'pglite' }, 'FHIR server listening');
    expect(out.lines()).toHaveLength(1);
    expect(JSON.parse(out.lines()[0])).toMatchObject({ level: 30, service: 'ccp-exchange', port: 8080, database: 'pglite', msg: 'FHIR server listening' });
  });

  it('pretty: one readable line an entry (time, level, message, fields), no colour codes, and the redactions still apply', () => {
    const out = collector();
    const logger = createLogger('info', 'pretty', out.stream);
    logger.info({ port: 8080, database: 'pglite' }, 'FHIR server listening');
    logger.warn({ requestId: 'r-1', body: { resourceType: 'Patient', name: [{ family: 'Zyxwvutsrq' }] } }, 'request');
    logger.debug('not at this level');
    const lines = out.lines();
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: FHIR server listening \{"port":8080,"database":"pglite"\}$/);
    expect(lines[1]).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] WARN: request \{"requestId":"r-1"\}$/);
    expect(lines.join('\n')).not.toMatch(/Zyxwvutsrq|\u001b\[|ccp-exchange/);
  });
});
