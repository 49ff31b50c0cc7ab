import request from 'supertest';
import { DEFAULT_MAX_JSON_DEPTH, MAX_JSON_DEPTH_LIMIT } from '../../server/fhir/json-text.js';
import { BACKENDS, reportBackends } from '../support/backends.js';
import { openTestServer, type TestServer } from '../support/fhir-app.js';

reportBackends();

const FHIR_JSON = 'application/fhir+json';

type Issue = { code: string; diagnostics: string; expression?: string[] };

/**
 * A Patient nesting exactly `depth` levels (the Patient object is level 1): complex extensions inside one another,
 * the innermost with a CodeableConcept value; `coding` under it adds two more.
 */
function deepPatient(depth: number): Record<string, unknown> {
  // Extension objects sit at odd levels 3, 5, …; the innermost's valueCodeableConcept one level deeper.
  const extensions = (depth - 2) / 2;
  if (!Number.isInteger(extensions)) throw new Error('an even depth');
  let node: Record<string, unknown> = { url: 'http://example.org/fhir/StructureDefinition/leaf', valueCodeableConcept: { text: 'innermost' } };
  for (let i = 1; i < extensions; i++) node = { url: `level-${i}`, extension: [node] };
  return { resourceType: 'Patient', extension: [{ ...node, url: 'http://example.org/fhir/StructureDefinition/deep' }] };
}

function depthOf(value: unknown): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length) {
    const [node, level] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    deepest = Math.max(deepest, level);
    for (const child of Object.values(node)) stack.push([child, level + 1]);
  }
  return deepest;
}

describe.each(BACKENDS)('hostile input over HTTP on $name', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await openTestServer(backend);
  });
  afterAll(async () => server?.close());

  // superagent would serialize a Buffer as JSON or as a form: bytes go as they are.
  const send = (method: 'post' | 'put' | 'patch', path: string, body: string | Buffer, contentType = FHIR_JSON) =>
    request(server.app)[method](path).set('Content-Type', contentType).serialize((data: unknown) => data as string).send(body);
  const post = (path: string, body: string | Buffer | object, contentType = FHIR_JSON) =>
    send('post', path, typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body), contentType);

  /** A 400 OperationOutcome; its issues. */
  const refused = (res: request.Response, status = 400): Issue[] => {
    expect(res.status).toBe(status);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.text).not.toMatch(/\bat .+\.(ts|js):\d+/);
    return res.body.issue as Issue[];
  };

  describe('numbers', () => {
    const observation = (value: string) =>
      `{"resourceType":"Observation","status":"final","code":{"text":"weight"},"valueQuantity":{"value":${value},"unit":"kg"}}`;

    it.each(['1e400', '-1e400', '12345678901234567890', '0.12345678901234567890123', '1e-400'])('%s is a 400 naming the element, nothing stored', async (value) => {
      const before = await request(server.app).get('/fhir/Observation?_summary=count');
      const issues = refused(await post('/fhir/Observation', observation(value)));
      expect(issues).toHaveLength(1);
      expect(issues[0].expression).toEqual(['Observation.valueQuantity.value']);
      expect(issues[0].code).toBe('value');
      const after = await request(server.app).get('/fhir/Observation?_summary=count');
      expect(after.body.total).toBe(before.body.total);
    });

    it('1e2 is stored as 100 and 1.10 as 1.1: the same values (trailing zeros are the documented deviation)', async () => {
      const hundred = await post('/fhir/Observation', observation('1e2'));
      expect(hundred.status).toBe(201);
      expect(hundred.body.valueQuantity.value).toBe(100);
      const read = await request(server.app).get(`/fhir/Observation/${hundred.body.id}`);
      expect(read.text).toContain('"value":100');
      const decimal = await post('/fhir/Observation', observation('1.10'));
      expect(decimal.status).toBe(201);
      expect((await request(server.app).get(`/fhir/Observation/${decimal.body.id}`)).text).toMatch(/"value":1\.1[,}]/);
    });
  });

  describe('strings', () => {
    it.each([
      ['\\u0000', 'U+0000'],
      ['a\\u001fb', 'U+001F'],
      ['\\ud800', 'U+D800'],
      ['x\\udfff', 'U+DFFF'],
    ])('%s in a value is a 400 naming the element', async (escaped, named) => {
      const issues = refused(await post('/fhir/Patient', `{"resourceType":"Patient","name":[{"family":"Doe","given":["Ann","${escaped}"]}]}`));
      expect(issues[0].expression).toEqual(['Patient.name[0].given[1]']);
      expect(issues[0].diagnostics).toContain(named);
    });

    it('tab, CR, LF and characters beyond the BMP are stored and read back unchanged', async () => {
      const text = 'line one\r\n\tline two 😀 é 中';
      const created = await post('/fhir/Patient', { resourceType: 'Patient', name: [{ text }] });
      expect(created.status).toBe(201);
      const read = await request(server.app).get(`/fhir/Patient/${created.body.id}`);
      expect(read.body.name[0].text).toBe(text);
    });

    it('bytes that are not UTF-8 are a 400, not U+FFFD', async () => {
      const body = Buffer.concat([Buffer.from('{"resourceType":"Patient","name":[{"family":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}]}')]);
      const issues = refused(await post('/fhir/Patient', body));
      expect(issues[0].diagnostics).toBe('The body is not valid UTF-8');
      refused(await post('/fhir/Patient', Buffer.from([0x7b, 0xff, 0x7d])));
    });

    it('a key that reaches the prototype is a 400 and pollutes nothing', async () => {
      const issues = refused(await post('/fhir/Patient', '{"resourceType":"Patient","__proto__":{"polluted":"yes"},"name":[{"constructor":{"prototype":1}}]}'));
      expect(issues.map((issue) => issue.expression?.[0])).toEqual(['Patient.__proto__', 'Patient.name[0].constructor', 'Patient.name[0].constructor.prototype']);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it('JSON Patch values and FHIRPath Patch parameters are checked like any body', async () => {
      const created = await post('/fhir/Patient', { resourceType: 'Patient', active: true });
      const id = created.body.id as string;
      const jsonPatch = refused(await send('patch', `/fhir/Patient/${id}`, '[{"op":"add","path":"/gender","value":"\\u0000"}]', 'application/json-patch+json'));
      expect(jsonPatch[0].expression).toEqual(['$[0].value']);
      const fhirPathPatch = refused(
        await send(
          'patch',
          `/fhir/Patient/${id}`,
          '{"resourceType":"Parameters","parameter":[{"name":"operation","part":[{"name":"type","valueCode":"add"},{"name":"path","valueString":"Patient"},{"name":"name","valueString":"gender"},{"name":"value","valueCode":"\\ud83d"}]}]}',
        ),
      );
      expect(fhirPathPatch[0].expression).toEqual(['Parameters.parameter[0].part[3].valueCode']);
      const read = await request(server.app).get(`/fhir/Patient/${id}`);
      expect(read.body.meta.versionId).toBe('1');
    });

    it('a transaction entry, its request URL and a JSON Patch Binary are checked too', async () => {
      const bundle = (entry: object) => ({ resourceType: 'Bundle', type: 'transaction', entry: [entry] });
      const inEntry = refused(await post('/fhir', JSON.stringify(bundle({ request: { method: 'POST', url: 'Patient' }, resource: { resourceType: 'Patient', name: [{ family: '\u0000' }] } }))));
      expect(inEntry[0].expression).toEqual(['Bundle.entry[0].resource.name[0].family']);
      const inUrl = refused(await post('/fhir', bundle({ request: { method: 'GET', url: 'Patient?name=%00' } })));
      expect(inUrl[0].diagnostics).toContain('U+0000');
      const created = await post('/fhir/Patient', { resourceType: 'Patient', active: true });
      const data = Buffer.from('[{"op":"add","path":"/multipleBirthInteger","value":1e400}]').toString('base64');
      const inBinary = refused(
        await post('/fhir', bundle({ request: { method: 'PATCH', url: `Patient/${created.body.id}` }, resource: { resourceType: 'Binary', contentType: 'application/json-patch+json', data } })),
      );
      expect(inBinary[0].diagnostics).toContain('too large');
    });

    it('$validate with Parameters holding forbidden text is a 400 before validation', async () => {
      const issues = refused(await post('/fhir/Patient/$validate', '{"resourceType":"Parameters","parameter":[{"name":"resource","resource":{"resourceType":"Patient","gender":"\\u0007"}}]}'));
      expect(issues[0].expression).toEqual(['Parameters.parameter[0].resource.gender']);
    });
  });

  describe('query strings, forms and headers', () => {
    it.each(['name=%00', 'name=%ED%A0%80', 'name=%FF', 'name%00=x', '_id=a%1Fb', '__proto__=x', 'constructor=x'])('GET /fhir/Patient?%s is a 400', async (query) => {
      refused(await request(server.app).get(`/fhir/Patient?${query}`));
    });

    it('a path segment that is not UTF-8 is a 400; one that cannot be an id is not found', async () => {
      refused(await request(server.app).get('/fhir/Patient/%ED%A0%80'));
      refused(await request(server.app).get('/fhir/Patient/%00'), 404);
      refused(await request(server.app).get('/fhir/%00'), 404);
    });

    it('a search form and an operation\'s URL parameters get the same checks', async () => {
      const form = 'application/x-www-form-urlencoded';
      refused(await send('post', '/fhir/Patient/_search', 'name=%ED%A0%80', form));
      expect(refused(await send('post', '/fhir/Patient/_search', Buffer.from([0x6e, 0x3d, 0xff]), form))[0].diagnostics).toBe('The search form is not valid UTF-8');
      refused(await request(server.app).get('/fhir/ValueSet/$expand?url=http%3A%2F%2Fhl7.org%2Ffhir%2FValueSet%2Fadministrative-gender%00'));
    });

    it('encoded UTF-8 in a search value is read as UTF-8', async () => {
      const created = await post('/fhir/Patient', { resourceType: 'Patient', name: [{ family: 'Zoë-Ünal' }] });
      expect(created.status).toBe(201);
      const found = await request(server.app).get(`/fhir/Patient?family:exact=${encodeURIComponent('Zoë-Ünal')}`);
      expect(found.status).toBe(200);
      expect(found.body.entry.map((e: { resource: { id: string } }) => e.resource.id)).toEqual([created.body.id]);
    });

    it('a parsed header that is not UTF-8 is a 400 naming it; one that is, is read as UTF-8', async () => {
      const created = await post('/fhir/Patient', { resourceType: 'Patient' });
      const id = created.body.id as string;
      // Without a body Node sends a header character up to U+00FF as that one byte: 0xFF alone is not UTF-8.
      const noneMatch = await request(server.app).get(`/fhir/Patient/${id}`).set('If-None-Match', 'W/"1\u00ff"');
      expect(refused(noneMatch)[0].diagnostics).toBe('The if-none-match header is not valid UTF-8');
      const prefer = await request(server.app).get(`/fhir/Patient/${id}`).set('Prefer', 'handling=strict\u00e9');
      expect(refused(prefer)[0].diagnostics).toBe('The prefer header is not valid UTF-8');
      // With a string body Node writes the headers as UTF-8 too: ÿ arrives as C3 BF and is read back as ÿ, not Ã¿.
      const put = await request(server.app).put(`/fhir/Patient/${id}`).set('Content-Type', FHIR_JSON).set('If-Match', 'W/"1\u00ff"').send(JSON.stringify({ resourceType: 'Patient', id }));
      expect(refused(put, 412)[0].diagnostics).toContain('not 1\u00ff:');
    });

    it('If-None-Exist is decoded strictly, and its values must be FHIR text', async () => {
      const body = JSON.stringify({ resourceType: 'Patient' });
      refused(await request(server.app).post('/fhir/Patient').set('Content-Type', FHIR_JSON).set('If-None-Exist', 'identifier=%00').send(body));
      refused(await request(server.app).post('/fhir/Patient').set('Content-Type', FHIR_JSON).set('If-None-Exist', 'identifier=a%ED%A0%80').send(body));
      refused(await request(server.app).post('/fhir/Patient').set('Content-Type', FHIR_JSON).set('If-None-Exist', '__proto__=x').send(body));
    });
  });

  describe(`nesting depth (limit ${DEFAULT_MAX_JSON_DEPTH})`, () => {
    it('a resource at the limit is stored, read back equal, searched, validated, patched and sent in a transaction', async () => {
      const patient = deepPatient(DEFAULT_MAX_JSON_DEPTH);
      expect(depthOf(patient)).toBe(DEFAULT_MAX_JSON_DEPTH);
      const created = await post('/fhir/Patient', patient);
      expect(created.status).toBe(201);
      const id = created.body.id as string;
      const read = await request(server.app).get(`/fhir/Patient/${id}`);
      expect(read.status).toBe(200);
      expect(read.body.extension).toEqual(patient.extension);

      const searched = await request(server.app).get(`/fhir/Patient?_id=${id}&_elements=extension`);
      expect(searched.status).toBe(200);
      expect(searched.body.entry[0].resource.extension).toEqual(patient.extension);
      expect((await request(server.app).get(`/fhir/Patient?_id=${id}&_summary=true`)).status).toBe(200);
      expect((await request(server.app).get(`/fhir/Patient/${id}/_history`)).status).toBe(200);

      const validated = await post('/fhir/Patient/$validate', patient);
      expect(validated.status).toBe(200);

      const patched = await send('patch', `/fhir/Patient/${id}`, JSON.stringify([{ op: 'add', path: '/active', value: true }]), 'application/json-patch+json');
      expect(patched.status).toBe(200);
      expect(patched.body.extension).toEqual(patient.extension);

      // A Bundle adds three levels (Bundle, entry, entry[0]; `resource` is the Patient), so its Patient is shallower.
      const inBundle = deepPatient(DEFAULT_MAX_JSON_DEPTH - 4);
      const transaction = await post('/fhir', { resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'POST', url: 'Patient' }, resource: inBundle }] });
      expect(transaction.status).toBe(200);
      expect(transaction.body.entry[0].response.status).toMatch(/^201/);
    });

    it('one level more is a 400 naming where, before anything else runs', async () => {
      const patient = deepPatient(DEFAULT_MAX_JSON_DEPTH);
      let node = (patient.extension as Array<Record<string, unknown>>)[0];
      while (node.extension) node = (node.extension as Array<Record<string, unknown>>)[0];
      node.valueCodeableConcept = { coding: [{ code: 'x' }] };
      const issues = refused(await post('/fhir/Patient', patient));
      expect(issues).toHaveLength(1);
      expect(issues[0].code).toBe('too-costly');
      expect(issues[0].expression?.[0]).toMatch(/^Patient(\.extension\[0\]){49}\.valueCodeableConcept\.coding$/);
    });

    it('a body of 400,000 brackets is a 400, and the server answers afterwards', async () => {
      const issues = refused(await post('/fhir/Patient', '['.repeat(400_000) + ']'.repeat(400_000)));
      expect(issues[0].diagnostics).toContain('nests deeper');
      expect((await request(server.app).get('/fhir/metadata')).status).toBe(200);
    });
  });

  it(`at the largest MAX_JSON_DEPTH (${MAX_JSON_DEPTH_LIMIT}) no recursive walker overflows: every interaction answers`, async () => {
    const deepest = await openTestServer(backend, { maxJsonDepth: MAX_JSON_DEPTH_LIMIT }, { db: server.db, close: async () => {} });
    const app = deepest.app;
    const patient = deepPatient(MAX_JSON_DEPTH_LIMIT);
    const created = await request(app).post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(JSON.stringify(patient));
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect((await request(app).get(`/fhir/Patient/${id}`)).body.extension).toEqual(patient.extension);
    for (const query of [`_id=${id}`, `_id=${id}&_elements=extension`, `_id=${id}&_summary=true`, `_id=${id}&_summary=text`, `_id=${id}&_revinclude=Provenance:target`]) {
      expect((await request(app).get(`/fhir/Patient?${query}`)).status).toBe(200);
    }
    expect((await request(app).get(`/fhir/Patient/${id}/_history`)).status).toBe(200);
    expect((await request(app).post('/fhir/Patient/$validate').set('Content-Type', FHIR_JSON).send(JSON.stringify(patient))).status).toBe(200);
    // The patch document adds a level of its own: its `test` compares from the second level of extensions down.
    const inner = (patient.extension as Array<{ extension: unknown }>)[0].extension;
    const jsonPatch = [{ op: 'test', path: '/extension/0/extension', value: inner }, { op: 'add', path: '/active', value: true }];
    expect((await request(app).patch(`/fhir/Patient/${id}`).set('Content-Type', 'application/json-patch+json').send(JSON.stringify(jsonPatch))).status).toBe(200);
    const fhirPathPatch = { resourceType: 'Parameters', parameter: [{ name: 'operation', part: [{ name: 'type', valueCode: 'delete' }, { name: 'path', valueString: 'Patient.active' }] }] };
    expect((await request(app).patch(`/fhir/Patient/${id}`).set('Content-Type', FHIR_JSON).send(JSON.stringify(fhirPathPatch))).status).toBe(200);
    const entry = { request: { method: 'PUT', url: `Patient/${id}` }, resource: { ...deepPatient(MAX_JSON_DEPTH_LIMIT - 4), id } };
    const transaction = await request(app).post('/fhir').set('Content-Type', FHIR_JSON).send(JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: [entry] }));
    expect(transaction.status).toBe(200);
    expect((await request(app).delete(`/fhir/Patient/${id}`)).status).toBe(200);
  });

  it('the audit chain verifies after all of it', async () => {
    const verdict = await request(server.app).get('/fhir/AuditEvent/$verify');
    expect(verdict.status).toBe(200);
    expect(verdict.body.issue[0].severity).toBe('information');
    expect(verdict.body.issue[0].diagnostics).toContain('The audit chain verifies');
  });
});
