import { readdirSync, readFileSync } from 'node:fs';
import type { Bundle, CapabilityStatement, Resource, StructureDefinition } from 'fhir/r4';
import { ANONYMOUS, type Caller, UNRESTRICTED } from '../../server/access/caller.js';
import { roleRights } from '../../server/access/roles.js';
import { parseResourceScope } from '../../server/access/scopes.js';
import { loadGuide } from '../../server/conformance/guide.js';
import { seedGuide } from '../../server/store/guide-seed.js';
import { rejection } from '../support/thrown.js';
import { handleFhirRequest } from '../../server/pipeline/fhir-request.js';
import type { FhirRequest, FhirResponse } from '../../server/rest/types.js';
import { extractIndexRows } from '../../server/search/index/extract.js';
import { R4_REGISTRY } from '../../server/search/registry.js';
import { SqlResourceStore } from '../../server/store/sql-resource-store.js';
import { BACKENDS, reportBackends } from '../support/backends.js';
import { openTestServer, type TestServer } from '../support/fhir-app.js';

reportBackends();

const BASE = 'http://ccp.test/fhir';
const FHIR_JSON = 'application/fhir+json';
const CANONICAL = 'http://ccp-exchange.org/fhir';
const GUIDE_DIR = new URL('../../conformance/profiles/', import.meta.url);

/** The guide's files as committed, read here without the server's loader: `Type/id` → resource. */
const FILES = new Map(
  readdirSync(GUIDE_DIR)
    .filter((name) => name.endsWith('.json'))
    .map((name) => JSON.parse(readFileSync(new URL(name, GUIDE_DIR), 'utf8')) as Resource & { id: string })
    .map((resource) => [`${resource.resourceType}/${resource.id}`, resource]),
);
const file = (key: string) => FILES.get(key)!;

const scopes = (...texts: string[]) => texts.map((text) => parseResourceScope(text)!);
/** Callers whose scopes or role reach no definitional type: a patient app, a privacy auditor, a narrow backend. */
const PATIENT_APP: Caller = { kind: 'user', clientId: 'app', userId: 'u-pat', patient: 'p1', scopes: scopes('patient/Observation.rs'), role: roleRights(['viewer']) };
const AUDITOR: Caller = { kind: 'user', clientId: 'app', userId: 'u-aud', organization: 'org-a', scopes: scopes('user/*.cruds'), role: roleRights(['privacy-auditor']) };
const NARROW_BACKEND: Caller = { kind: 'system', clientId: 'emr', scopes: scopes('system/Patient.r') };
const ADMIN: Caller = { kind: 'user', clientId: 'app', userId: 'u-admin', scopes: scopes('user/*.cruds'), role: roleRights(['administrator']) };

const withoutMeta = ({ meta: _meta, ...rest }: Resource) => rest;

describe.each(BACKENDS)('the implementation guide in the store, on $name', (backend) => {
  let server: TestServer;
  const store = () => new SqlResourceStore(server.db, (resource) => extractIndexRows(resource, R4_REGISTRY));
  const as = (caller: Caller, fields: Partial<FhirRequest> & { method: string; path: string }): Promise<FhirResponse> =>
    handleFhirRequest({ query: {}, headers: { 'content-type': FHIR_JSON }, baseUrl: BASE, caller, ...fields }, server.context);
  const versionOf = async (key: string) => {
    const [type, id] = key.split('/');
    const found = await server.context.store.read(type, id);
    return found.kind === 'found' ? found.resource.meta?.versionId : found.kind;
  };

  beforeAll(async () => {
    server = await openTestServer(backend);
  });
  afterAll(async () => server?.close());

  describe('seeding', () => {
    it('the first start writes every guide resource: ImplementationGuide, profiles, extensions, value sets, code systems', async () => {
      // 1 ImplementationGuide, 18 StructureDefinitions (13 profiles, 5 extensions), 12 ValueSets, 12 CodeSystems.
      expect(FILES.size).toBe(43);
      const result = await seedGuide(store(), R4_REGISTRY);
      expect(result.created.sort()).toEqual([...FILES.keys()].sort());
      expect(result.updated).toEqual([]);
      for (const key of FILES.keys()) expect(await versionOf(key)).toBe('1');
    });

    it('a second start writes nothing', async () => {
      expect(await seedGuide(store(), R4_REGISTRY)).toEqual({ created: [], updated: [], retired: [] });
      for (const key of FILES.keys()) expect(await versionOf(key)).toBe('1');
    });

    it('a stored copy that differs from the guide (an older release) gets one new version with the guide content', async () => {
      const older = { ...(file('ValueSet/override-reason') as Resource & { id: string }), title: 'Older title' };
      await server.context.store.update(older, { allowCreate: false });
      expect(await versionOf('ValueSet/override-reason')).toBe('2');
      const result = await seedGuide(store(), R4_REGISTRY);
      expect(result).toEqual({ created: [], updated: ['ValueSet/override-reason'], retired: [] });
      const found = await server.context.store.read('ValueSet', 'override-reason');
      expect(found.kind === 'found' && found.resource.meta?.versionId).toBe('3');
      expect(found.kind === 'found' && withoutMeta(found.resource)).toEqual(withoutMeta(file('ValueSet/override-reason')));
    });

    it('a resource deleted from the store comes back; one under the guide canonical that the guide dropped is retired', async () => {
      await server.context.store.delete('CodeSystem', 'task-code');
      const dropped: StructureDefinition = { ...(file('StructureDefinition/ccp-goal') as StructureDefinition), id: 'ccp-dropped', url: `${CANONICAL}/StructureDefinition/ccp-dropped` };
      await server.context.store.update({ ...dropped, id: 'ccp-dropped' }, { allowCreate: true });
      // Someone else's definition, under another canonical, is not the guide's business.
      const foreign: StructureDefinition = { ...dropped, id: 'foreign', url: 'http://example.org/fhir/StructureDefinition/foreign' };
      await server.context.store.update({ ...foreign, id: 'foreign' }, { allowCreate: true });

      const result = await seedGuide(store(), R4_REGISTRY);
      expect(result).toEqual({ created: ['CodeSystem/task-code'], updated: [], retired: ['StructureDefinition/ccp-dropped'] });
      expect(await versionOf('StructureDefinition/ccp-dropped')).toBe('deleted');
      expect(await versionOf('StructureDefinition/foreign')).toBe('1');
      expect(await versionOf('CodeSystem/task-code')).toBe('3');
    });

    it('two processes starting at once on an empty database write each resource once', async () => {
      const fresh = await openTestServer(backend);
      try {
        const storeOf = () => new SqlResourceStore(fresh.db, (resource) => extractIndexRows(resource, R4_REGISTRY));
        const [a, b] = await Promise.all([seedGuide(storeOf(), R4_REGISTRY), seedGuide(storeOf(), R4_REGISTRY)]);
        expect([...a.created, ...b.created].sort()).toEqual([...FILES.keys()].sort());
        expect([...a.updated, ...b.updated]).toEqual([]);
        const versions = await fresh.db.query<{ n: string }>("SELECT count(*)::text AS n FROM resource_version WHERE resource_type IN ('ImplementationGuide', 'StructureDefinition', 'ValueSet', 'CodeSystem')");
        expect(versions[0].n).toBe(String(FILES.size));
      } finally {
        await fresh.close();
      }
    });

    it('loadGuide reads the same resources the test reads from the folder', () => {
      const guide = loadGuide();
      expect(guide.resources.map((resource) => `${resource.resourceType}/${resource.id}`).sort()).toEqual([...FILES.keys()].sort());
      expect(guide.canonical).toBe(CANONICAL);
    });
  });

  describe('served as ordinary resources to any caller with a token', () => {
    const readers: Array<[string, Caller]> = [
      ['a patient app with patient/Observation.rs', PATIENT_APP],
      ['a privacy auditor (role: AuditEvent, Practitioner, PractitionerRole, Organization)', AUDITOR],
      ['a backend with system/Patient.r', NARROW_BACKEND],
    ];

    it.each(readers)('read by id: %s', async (_name, caller) => {
      for (const key of ['StructureDefinition/ccp-careplan', 'ValueSet/override-reason', 'CodeSystem/override-reason', 'ImplementationGuide/ccp-exchange']) {
        const response = await as(caller, { method: 'GET', path: key });
        expect(response.status).toBe(200);
        expect(withoutMeta(response.body!)).toEqual(withoutMeta(file(key)));
      }
    });

    it.each(readers)('search by url: %s', async (_name, caller) => {
      const url = `${CANONICAL}/StructureDefinition/ccp-careplan`;
      const response = await as(caller, { method: 'GET', path: 'StructureDefinition', query: { url: [url] } });
      expect(response.status).toBe(200);
      const bundle = response.body as Bundle;
      expect(bundle.entry?.map((entry) => entry.resource?.id)).toEqual(['ccp-careplan']);
      // The value sets of the guide, by the canonical base.
      const valueSets = (await as(caller, { method: 'GET', path: 'ValueSet', query: { 'url:below': [`${CANONICAL}/`], _count: ['100'] } })).body as Bundle;
      expect(valueSets.entry?.map((entry) => entry.resource?.id).sort()).toEqual(
        [...FILES.keys()].filter((key) => key.startsWith('ValueSet/')).map((key) => key.slice('ValueSet/'.length)).sort(),
      );
    });

    it('the same callers still get nothing else their scopes or role do not allow', async () => {
      expect((await rejection(as(PATIENT_APP, { method: 'GET', path: 'Organization', query: {} }))).status).toBe(403);
      expect((await rejection(as(AUDITOR, { method: 'GET', path: 'CarePlan', query: {} }))).status).toBe(403);
      expect((await rejection(as(NARROW_BACKEND, { method: 'GET', path: 'Observation', query: {} }))).status).toBe(403);
    });

    it('anonymous callers get 401: only the CapabilityStatement is public', async () => {
      expect((await rejection(as(ANONYMOUS, { method: 'GET', path: 'StructureDefinition/ccp-careplan' }))).status).toBe(401);
      expect((await rejection(as(ANONYMOUS, { method: 'GET', path: 'ValueSet', query: {} }))).status).toBe(401);
    });

    it('reading gives no right to write a definition: the patient app cannot create a ValueSet', async () => {
      const body = { resourceType: 'ValueSet', status: 'draft', url: 'http://example.org/fhir/ValueSet/mine' };
      expect((await rejection(as(PATIENT_APP, { method: 'POST', path: 'ValueSet', body }))).status).toBe(403);
    });
  });

  describe('read-only for everyone', () => {
    const careplan = () => file('StructureDefinition/ccp-careplan') as StructureDefinition & { id: string };

    it.each([
      ['the administrator', ADMIN],
      ['the server itself (AUTH_DISABLED, import)', UNRESTRICTED],
    ])('PUT, PATCH and DELETE of a guide resource are refused with 405 by %s, saying it comes from the guide', async (_name, caller) => {
      const attempts: Array<Partial<FhirRequest> & { method: string; path: string }> = [
        { method: 'PUT', path: 'StructureDefinition/ccp-careplan', body: { ...careplan(), title: 'Mine now' } },
        { method: 'PATCH', path: 'ValueSet/override-reason', headers: { 'content-type': 'application/json-patch+json' }, body: [{ op: 'replace', path: '/title', value: 'x' }] },
        { method: 'DELETE', path: 'CodeSystem/careplan-category' },
        { method: 'DELETE', path: 'ImplementationGuide/ccp-exchange' },
      ];
      for (const attempt of attempts) {
        const error = await rejection(as(caller, attempt));
        expect({ attempt: `${attempt.method} ${attempt.path}`, status: error.status, allow: error.headers.Allow }).toEqual({
          attempt: `${attempt.method} ${attempt.path}`,
          status: 405,
          allow: 'GET',
        });
        expect(error.outcome.issue[0]).toMatchObject({ severity: 'error', code: 'not-supported' });
        expect(error.outcome.issue[0].diagnostics).toContain('comes from the CCP implementation guide');
      }
      // Nothing was written.
      expect(await versionOf('StructureDefinition/ccp-careplan')).toBe('1');
      expect(await versionOf('CodeSystem/careplan-category')).toBe('1');
      expect(await versionOf('ImplementationGuide/ccp-exchange')).toBe('1');
    });

    it('a PUT to a guide id that is not stored (update as create) is refused as well', async () => {
      const body = { ...careplan(), id: 'ccp-careplan' };
      await server.context.store.delete('StructureDefinition', 'ccp-careplan');
      try {
        expect((await rejection(as(ADMIN, { method: 'PUT', path: 'StructureDefinition/ccp-careplan', body }))).status).toBe(405);
      } finally {
        await seedGuide(store(), R4_REGISTRY);
      }
    });

    it('a new definition under the guide canonical is refused with 403 naming url; one under another canonical is stored', async () => {
      const claiming = { resourceType: 'ValueSet', status: 'draft', url: `${CANONICAL}/ValueSet/my-own` };
      const error = await rejection(as(ADMIN, { method: 'POST', path: 'ValueSet', body: claiming }));
      expect(error.status).toBe(403);
      expect(error.outcome.issue[0]).toMatchObject({ code: 'forbidden', expression: ['ValueSet.url'] });
      const own = await as(ADMIN, { method: 'POST', path: 'ValueSet', body: { ...claiming, url: 'http://example.org/fhir/ValueSet/my-own' } });
      expect(own.status).toBe(201);
      // Nor may that one be moved under the guide canonical afterwards.
      const moved = { ...(own.body as Resource), url: `${CANONICAL}/ValueSet/moved` };
      expect((await rejection(as(ADMIN, { method: 'PUT', path: `ValueSet/${own.body!.id}`, body: moved }))).status).toBe(403);
    });

    it('a transaction Bundle cannot slip a change in either', async () => {
      const bundle: Bundle = {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [{ request: { method: 'PUT', url: 'CodeSystem/override-reason' }, resource: { ...(file('CodeSystem/override-reason') as Resource), id: 'override-reason', title: 'x' } as Resource }],
      };
      const error = await rejection(as(ADMIN, { method: 'POST', path: '', body: bundle }));
      expect(error.status).toBe(405);
      expect(await versionOf('CodeSystem/override-reason')).toBe('1');
    });
  });

  describe('the CapabilityStatement', () => {
    const BACKPORT_SUBSCRIPTION = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-subscription';
    let statement: CapabilityStatement;
    beforeAll(async () => {
      statement = (await as(ANONYMOUS, { method: 'GET', path: 'metadata' })).body as CapabilityStatement;
    });
    const resource = (type: string) => statement.rest![0].resource!.find((entry) => entry.type === type)!;

    it('names the guide', () => {
      expect(statement.implementationGuide).toEqual([`${CANONICAL}/ImplementationGuide/ccp-exchange`]);
    });

    it('lists each profile under the type it constrains (as written in profiles/input/fsh); profile stays the base', () => {
      const expected: Record<string, string[]> = {
        CarePlan: ['ccp-careplan'],
        Goal: ['ccp-goal'],
        CareTeam: ['ccp-careteam'],
        Task: ['ccp-registration-task'],
        Consent: ['ccp-consent-directive', 'ccp-express-consent', 'ccp-override-consent'],
        Organization: ['ccp-partner-organization'],
        AuditEvent: ['ccp-audit-create', 'ccp-audit-query', 'ccp-audit-read', 'ccp-rest-audit-event'],
        Communication: ['ccp-service-notice'],
      };
      for (const [type, ids] of Object.entries(expected)) {
        expect({ type, supported: [...(resource(type).supportedProfile ?? [])].sort() }).toEqual({ type, supported: ids.map((id) => `${CANONICAL}/StructureDefinition/${id}`) });
        expect(resource(type).profile).toBe(`http://hl7.org/fhir/StructureDefinition/${type}`);
      }
      // No other type has a profile of the guide, and extensions are no resource type's profile. (Subscription lists
      // the Subscriptions Backport IG's profile alone: test/capability/subscriptions-backport.test.ts.)
      const others = statement.rest![0].resource!.filter((entry) => !(entry.type in expected) && entry.supportedProfile);
      expect(others.map((entry) => [entry.type, ...entry.supportedProfile!])).toEqual([['Subscription', BACKPORT_SUBSCRIPTION]]);
    });

    it('lists only profiles the server serves', async () => {
      // But the Backport IG's Subscription profile: HL7 publishes it, the server checks Subscriptions by its rules.
      for (const url of statement.rest![0].resource!.flatMap((entry) => entry.supportedProfile ?? []).filter((url) => url !== BACKPORT_SUBSCRIPTION)) {
        const found = (await as(PATIENT_APP, { method: 'GET', path: 'StructureDefinition', query: { url: [url] } })).body as Bundle;
        expect({ url, count: found.entry?.length ?? 0 }).toEqual({ url, count: 1 });
      }
    });
  });
});
