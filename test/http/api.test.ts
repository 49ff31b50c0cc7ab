import request from 'supertest';
import { BACKENDS, reportBackends } from '../support/backends.js';
import { openTestServer, schemaValidator, type TestServer } from '../support/fhir-app.js';

reportBackends();

const FHIR_JSON = 'application/fhir+json';

describe.each(BACKENDS)('HTTP API on $name', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await openTestServer(backend, { bodyLimitBytes: 64 * 1024 });
  });
  afterAll(async () => server?.close());

  const post = (path: string, body: unknown, contentType = FHIR_JSON) =>
    request(server.app).post(path).set('Content-Type', contentType).send(typeof body === 'string' ? body : JSON.stringify(body));
  const newPatient = async (body: Record<string, unknown> = {}) =>
    (await post('/fhir/Patient', { resourceType: 'Patient', ...body })).body as { id: string; meta: { versionId: string; lastUpdated: string } };

  /** Every error answer is an OperationOutcome in FHIR JSON, with no trace of the server's internals. */
  const expectOutcome = (res: request.Response, status: number) => {
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/fhir\+json/);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.body.issue.length).toBeGreaterThan(0);
    expect(res.text).not.toMatch(/\bat .+\.(ts|js):\d+/);
    return res.body.issue as { code: string; diagnostics: string; expression?: string[] }[];
  };

  describe('create and read', () => {
    it('answers 201 with Location, ETag and Last-Modified; read answers the same headers', async () => {
      const created = await post('/fhir/Patient', { resourceType: 'Patient', birthDate: '1970-01-01' });
      expect(created.status).toBe(201);
      const { id, meta } = created.body;
      expect(created.headers.location).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:\\d+/fhir/Patient/${id}/_history/1$`));
      expect(created.headers.etag).toBe('W/"1"');
      expect(new Date(created.headers['last-modified']).getTime()).toBe(Math.floor(Date.parse(meta.lastUpdated) / 1000) * 1000);

      const read = await request(server.app).get(`/fhir/Patient/${id}`);
      expect(read.status).toBe(200);
      expect(read.headers['content-type']).toBe('application/fhir+json; charset=utf-8');
      expect(read.headers.etag).toBe('W/"1"');
      expect(read.body).toEqual(created.body);
      expect(Object.keys(read.body).slice(0, 3)).toEqual(['resourceType', 'id', 'meta']);
    });

    it('uses BASE_URL for links when configured, the request host otherwise', async () => {
      const configured = await openTestServer(backend, { baseUrl: 'https://ccp.example.org/fhir' });
      try {
        const res = await request(configured.app)
          .post('/fhir/Patient')
          .set('Content-Type', FHIR_JSON)
          .send({ resourceType: 'Patient' });
        expect(res.headers.location).toMatch(/^https:\/\/ccp\.example\.org\/fhir\/Patient\//);
      } finally {
        await configured.close();
      }
      const res = await post('/fhir/Patient', { resourceType: 'Patient' }).set('Host', 'ehr.hospital.test:9000');
      expect(res.headers.location).toMatch(/^http:\/\/ehr\.hospital\.test:9000\/fhir\/Patient\//);
    });

    it('accepts application/json both ways, and labels the answer as asked', async () => {
      const created = await post('/fhir/Patient', { resourceType: 'Patient' }, 'application/json; charset=utf-8');
      expect(created.status).toBe(201);
      const read = await request(server.app).get(`/fhir/Patient/${created.body.id}`).set('Accept', 'application/json');
      expect(read.headers['content-type']).toBe('application/json; charset=utf-8');
      const viaFormat = await request(server.app).get(`/fhir/Patient/${created.body.id}?_format=json`).set('Accept', 'text/html');
      expect(viaFormat.status).toBe(200);
      expect(viaFormat.headers['content-type']).toMatch(/^application\/fhir\+json/);
    });

    it('_pretty=true indents the JSON', async () => {
      const { id } = await newPatient();
      const pretty = await request(server.app).get(`/fhir/Patient/${id}?_pretty=true`);
      expect(pretty.text).toContain('\n  "resourceType": "Patient"');
      const compact = await request(server.app).get(`/fhir/Patient/${id}`);
      expect(compact.text).not.toContain('\n');
    });
  });

  describe('Prefer: return', () => {
    it('minimal answers headers only; OperationOutcome answers an outcome; representation the resource', async () => {
      const minimal = await post('/fhir/Patient', { resourceType: 'Patient' }).set('Prefer', 'return=minimal');
      expect(minimal.status).toBe(201);
      expect(minimal.text).toBe('');
      expect(minimal.headers.location).toBeDefined();

      const outcome = await post('/fhir/Patient', { resourceType: 'Patient' }).set('Prefer', 'return=OperationOutcome');
      expect(outcome.status).toBe(201);
      expect(outcome.body.resourceType).toBe('OperationOutcome');

      const id = minimal.headers.location.split('/')[5];
      const representation = await request(server.app)
        .put(`/fhir/Patient/${id}`)
        .set('Content-Type', FHIR_JSON)
        .set('Prefer', 'return=representation')
        .send({ resourceType: 'Patient', id, active: true });
      expect(representation.status).toBe(200);
      expect(representation.body).toMatchObject({ resourceType: 'Patient', id, active: true, meta: { versionId: '2' } });
    });
  });

  describe('_summary and _elements on read', () => {
    let id: string;
    beforeAll(async () => {
      ({ id } = await newPatient({
        text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">Pat</div>' },
        name: [{ family: 'Example' }],
        gender: 'other',
        maritalStatus: { text: 'unknown' },
        contact: [{ name: { family: 'Friend' }, gender: 'female' }],
        deceasedBoolean: false,
      }));
    });
    const get = (query: string) => request(server.app).get(`/fhir/Patient/${id}?${query}`);
    const subsetted = (body: { meta: { tag?: { code: string }[] } }) => body.meta.tag?.some((t) => t.code === 'SUBSETTED');

    it('_summary=true keeps only summary elements (Patient.maritalStatus, contact and text are not)', async () => {
      const { body } = await get('_summary=true');
      expect(body).toMatchObject({ resourceType: 'Patient', id, name: [{ family: 'Example' }], gender: 'other', deceasedBoolean: false });
      expect(body.maritalStatus).toBeUndefined();
      expect(body.contact).toBeUndefined();
      expect(body.text).toBeUndefined();
      expect(subsetted(body)).toBe(true);
    });

    it('_summary=true keeps only the summary children of a backbone element', async () => {
      const observation = await post('/fhir/Observation', {
        resourceType: 'Observation',
        status: 'final',
        code: { text: 'blood pressure' },
        // component.code and component.value[x] are summary elements; component.interpretation is not.
        component: [{ code: { text: 'systolic' }, valueQuantity: { value: 120 }, interpretation: [{ text: 'normal' }] }],
        // referenceRange is not a summary element at all.
        referenceRange: [{ text: 'under 140' }],
      });
      const { body } = await request(server.app).get(`/fhir/Observation/${observation.body.id}?_summary=true`);
      expect(body.component).toEqual([{ code: { text: 'systolic' }, valueQuantity: { value: 120 } }]);
      expect(body.referenceRange).toBeUndefined();

      const other = await newPatient();
      const linked = await newPatient({ link: [{ other: { reference: `Patient/${other.id}` }, type: 'seealso' }] });
      expect((await request(server.app).get(`/fhir/Patient/${linked.id}?_summary=true`)).body.link).toEqual([
        { other: { reference: `Patient/${other.id}` }, type: 'seealso' },
      ]);
    });

    it('_summary=text keeps text, id and meta; _summary=data drops text; _summary=false is the whole', async () => {
      const text = (await get('_summary=text')).body;
      expect(Object.keys(text).sort()).toEqual(['id', 'meta', 'resourceType', 'text']);
      const data = (await get('_summary=data')).body;
      expect(data.text).toBeUndefined();
      expect(data.contact).toHaveLength(1);
      expect(subsetted(data)).toBe(true);
      const whole = (await get('_summary=false')).body;
      expect(whole.text).toBeDefined();
      expect(subsetted(whole)).toBeFalsy();
    });

    it('_elements keeps the elements asked for, choice elements by their stem', async () => {
      const { body } = await get('_elements=gender,deceased');
      expect(Object.keys(body).sort()).toEqual(['deceasedBoolean', 'gender', 'id', 'meta', 'resourceType']);
      expect(subsetted(body)).toBe(true);
    });

    it('a bad _summary value or _summary=count on a read is a 400', async () => {
      expectOutcome(await get('_summary=maybe'), 400);
      expectOutcome(await get('_summary=count'), 400);
    });
  });

  describe('errors', () => {
    it('400 for malformed JSON, an empty body, a JSON array, and a schema violation naming the element', async () => {
      expect(expectOutcome(await post('/fhir/Patient', '{"resourceType": "Patient",'), 400)[0].diagnostics).toMatch(/not valid JSON/);
      expectOutcome(await request(server.app).post('/fhir/Patient').set('Content-Type', FHIR_JSON), 400);
      expectOutcome(await post('/fhir/Patient', '[]'), 400);
      const issues = expectOutcome(await post('/fhir/Patient', { resourceType: 'Patient', birthDate: 'yesterday', name: [{ given: [7] }] }), 400);
      const where = issues.flatMap((i) => i.expression ?? []);
      expect(where).toEqual(expect.arrayContaining(['Patient.birthDate', 'Patient.name[0].given[0]']));
    });

    it('400 for an unknown element, an empty object or array, and a null', async () => {
      expect(expectOutcome(await post('/fhir/Patient', { resourceType: 'Patient', favouriteColour: 'blue' }), 400)[0].expression).toEqual([
        'Patient.favouriteColour',
      ]);
      expect(expectOutcome(await post('/fhir/Patient', { resourceType: 'Patient', maritalStatus: {} }), 400)[0].expression).toEqual([
        'Patient.maritalStatus',
      ]);
      expect(expectOutcome(await post('/fhir/Patient', { resourceType: 'Patient', name: [] }), 400)[0].expression).toEqual(['Patient.name']);
      expectOutcome(await post('/fhir/Patient', { resourceType: 'Patient', gender: null }), 400);
    });

    it('a bad resource inside contained is reported at its own path, not as a oneOf failure', async () => {
      const issues = expectOutcome(
        await post('/fhir/Patient', { resourceType: 'Patient', contained: [{ resourceType: 'Organization', id: 'o', active: 'yes' }] }),
        400,
      );
      expect(issues.map((i) => i.expression?.[0])).toEqual(['Patient.contained[0].active']);
    });

    it('422 for a contained resource that breaks dom-2 / dom-4 invariants', async () => {
      const issues = expectOutcome(
        await post('/fhir/Patient', {
          resourceType: 'Patient',
          contained: [{ resourceType: 'Organization', id: 'o', meta: { versionId: '3' } }],
        }),
        422,
      );
      expect(issues[0]).toMatchObject({ code: 'invariant', expression: ['Patient.contained[0]'] });
      expect(issues[0].diagnostics).toMatch(/^dom-4/);
    });

    it('404 for an unknown id, an unknown type and a path outside FHIR', async () => {
      expectOutcome(await request(server.app).get('/fhir/Patient/does-not-exist'), 404);
      expectOutcome(await request(server.app).get('/fhir/Spaceship/1'), 404);
      expect((await request(server.app).get('/nothing-here')).status).toBe(404);
    });

    it('405 for a method the path does not support, naming the allowed ones', async () => {
      const res = await request(server.app).post('/fhir/Patient/1').set('Content-Type', FHIR_JSON).send('{}');
      expectOutcome(res, 405);
      expect(res.headers.allow).toBe('GET, PUT, PATCH, DELETE');
    });

    it('406 when the client accepts only XML, by Accept or by _format', async () => {
      const { id } = await newPatient();
      expectOutcome(await request(server.app).get(`/fhir/Patient/${id}`).set('Accept', 'application/fhir+xml'), 406);
      expectOutcome(await request(server.app).get(`/fhir/Patient/${id}?_format=xml`), 406);
    });

    it('410 for a deleted resource, with its ETag', async () => {
      const { id } = await newPatient();
      expect((await request(server.app).delete(`/fhir/Patient/${id}`)).status).toBe(200);
      const res = await request(server.app).get(`/fhir/Patient/${id}`);
      expectOutcome(res, 410);
      expect(res.headers.etag).toBe('W/"2"');
    });

    it('412 for a stale If-Match on update and delete', async () => {
      const { id } = await newPatient();
      const put = () => request(server.app).put(`/fhir/Patient/${id}`).set('Content-Type', FHIR_JSON).set('If-Match', 'W/"1"');
      expect((await put().send({ resourceType: 'Patient', id })).status).toBe(200);
      expectOutcome(await put().send({ resourceType: 'Patient', id }), 412);
      expectOutcome(await request(server.app).delete(`/fhir/Patient/${id}`).set('If-Match', 'W/"1"'), 412);
      expect((await request(server.app).get(`/fhir/Patient/${id}`)).body.meta.versionId).toBe('2');
    });

    it('413 for a body over the limit; nothing is written', async () => {
      const before = await server.db.query<{ n: string }>('SELECT count(*)::text AS n FROM resource');
      const big = { resourceType: 'Patient', name: [{ text: 'x'.repeat(70 * 1024) }] };
      expectOutcome(await post('/fhir/Patient', big), 413);
      const after = await server.db.query<{ n: string }>('SELECT count(*)::text AS n FROM resource');
      expect(after[0].n).toBe(before[0].n);
    });

    it('415 for a body that is not FHIR JSON', async () => {
      expectOutcome(await post('/fhir/Patient', '<Patient xmlns="http://hl7.org/fhir"/>', 'application/fhir+xml'), 415);
      expectOutcome(await post('/fhir/Patient', 'resourceType=Patient', 'text/plain'), 415);
    });

    it('a failed write leaves no version behind', async () => {
      const { id } = await newPatient();
      const res = await request(server.app)
        .put(`/fhir/Patient/${id}`)
        .set('Content-Type', FHIR_JSON)
        .send({ resourceType: 'Patient', id, gender: 'unknown-gender-code!' });
      expectOutcome(res, 400);
      const versions = await server.db.query('SELECT version_id FROM resource_version WHERE resource_type = $1 AND id = $2', ['Patient', id]);
      expect(versions).toHaveLength(1);
    });
  });

  describe('metadata', () => {
    it('the CapabilityStatement is itself a valid R4 resource, for the base the request came to', async () => {
      const res = await request(server.app).get('/fhir/metadata').set('Host', 'fhir.partner.test');
      expect(res.status).toBe(200);
      expect(schemaValidator().validate(res.body, 'CapabilityStatement')).toEqual([]);
      expect(res.body.implementation.url).toBe('http://fhir.partner.test/fhir');
      const patient = res.body.rest[0].resource.find((r: { type: string }) => r.type === 'Patient');
      expect(patient.updateCreate).toBe(true);
      expect(patient.conditionalCreate).toBe(true);
      expect(patient.conditionalDelete).toBe('single');
    });
  });

  describe('operations endpoints', () => {
    it('/healthz and /readyz answer, and every response carries a request id (the caller’s when given)', async () => {
      expect((await request(server.app).get('/healthz')).body).toEqual({ status: 'ok' });
      const ready = await request(server.app).get('/readyz');
      expect(ready.status).toBe(200);
      expect(ready.body.database).toBe(backend.name);
      const traced = await request(server.app).get('/fhir/metadata').set('X-Request-Id', 'trace-123');
      expect(traced.headers['x-request-id']).toBe('trace-123');
      const fresh = await request(server.app).get('/fhir/metadata').set('X-Request-Id', 'bad id with spaces');
      expect(fresh.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    });
  });
});
