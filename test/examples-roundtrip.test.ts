import { readdirSync, readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Resource } from 'fhir/r4';
import { UNRESTRICTED } from '../server/access/caller.js';
import { DEFAULT_MAX_JSON_DEPTH, parseJsonText, scanJsonText } from '../server/fhir/json-text.js';
import { FhirError, type Issue } from '../server/fhir/outcome.js';
import { isResourceType } from '../server/fhir/resource-types.js';
import { parseBody } from '../server/http/body.js';
import { FHIR_JSON } from '../server/http/negotiation.js';
import { handleFhirRequest } from '../server/pipeline/fhir-request.js';
import { inReadingOrder } from '../server/rest/representation.js';
import type { FhirRequest, FhirResponse } from '../server/rest/types.js';
import type { NewResource } from '../server/store/resource-store.js';
import { sharedProfiles } from '../server/validation/profiles.js';
import { validateResource } from '../server/validation/validate-resource.js';
import { type Backend, BACKENDS, reportBackends } from './support/backends.js';
import { REFUSED_ON_WRITE } from './support/refused-examples.js';
import { openTestServer, schemaValidator, TEST_OPTIONS, type TestServer } from './support/fhir-app.js';

/**
 * Every official R4 example (npm package hl7.fhir.r4.examples@4.0.1: one resource per JSON file, in one flat folder
 * beside its package.json) goes through the server once per run (SERVER_PASS, below); the other database stores
 * and reads back a sample of every resource type and every large example (storageSample).
 *
 * Through the server (the `server` pass, below), on one database: every example but the known invalid ones
 * (KNOWN_INVALID) must come back from create and then read with the same content apart from id, meta.versionId and
 * meta.lastUpdated. Each known invalid one must be refused by create with the status and first issue of the
 * server's own create-time checks (the text checks, then validateResource: JSON rules, the R4 JSON schema, the base
 * StructureDefinition), run here on it in-process, and leave nothing stored. Nothing is skipped: a file that is not
 * an R4 resource fails the test.
 *
 * The requests go through the FHIR request pipeline in-process (handleFhirRequest: route, audit, access, the
 * create and read interactions, as every HTTP request and Bundle entry does), not over a socket: the body is
 * parsed by the transport's own parser (parseBody: the text checks and the parse), and what the server answers is
 * put through what the transport sends (inReadingOrder, JSON text) before it is compared. What HTTP adds (headers,
 * the socket, the OperationOutcome of an error) is the same for every resource and is the HTTP suites' business;
 * over HTTP here it was about a fifth of the suite's CPU.
 *
 * Only the known invalid examples are validated in-process: for the other 5,285 the server's answer is the check (a
 * valid example it refused fails the round trip), and validating them here as well cost 75-100 s of CI time.
 */

const require = createRequire(import.meta.url);
const EXAMPLES_DIR = path.dirname(require.resolve('hl7.fhir.r4.examples/package.json'));

/**
 * Measured on 4.0.1: 5306 example files, of which 5285 pass the text checks and validateResource. The bound is ~95% of that, so a
 * validator that starts rejecting good examples wholesale fails here.
 */
const MIN_VALID = 5020;

/**
 * The official examples the server refuses: those a write refuses (REFUSED_ON_WRITE, from
 * official-examples.expected.json) and, before parsing, Observation-body-height.json, worked out by hand: its value
 * 66.899999999999991 has 17 significant digits that a double does not keep (it would be stored as
 * 66.89999999999999), and the server refuses a number it would change (docs/DEVIATIONS.md, decimal precision).
 */
const KNOWN_INVALID = [...REFUSED_ON_WRITE, 'Observation-body-height.json'].sort();

/**
 * Valid R4 that a domain rule of this server refuses by design, by type (each a 422 OperationOutcome): R4's
 * query-based Subscriptions, whose examples also set a status and an end only the server may (this server takes
 * the Backport IG's topic-based Subscriptions: docs/NOTIFICATIONS.md).
 */
const REFUSED_BY_RULE: ReadonlySet<string> = new Set(['Subscription']);
const MIN_FILES = 5300;

/** Requests in flight for the ordinary examples (each waits on the database in turn); the few multi-megabyte Bundles go one at a time. */
const CONCURRENCY = 8;
const LARGE_FILE_BYTES = 1024 * 1024;

// Generous: every example is walked against its base definition, in the classification and again by the server,
// and the machine that runs the suite may be shared (a timeout bounds a hang; it asserts nothing about speed).
const CLASSIFY_TIMEOUT_MS = 10 * 60_000;
const BACKEND_TIMEOUT_MS = 20 * 60_000;

type Json = Record<string, unknown>;

interface Example {
  file: string;
  bytes: number;
  resourceType: string;
  /** undefined when validateResource accepts it; otherwise the status and issues it fails with. */
  rejection?: { status: number; issues: Issue[] };
}

interface Catalogue {
  examples: Example[];
  /** Files that are not an R4 resource at all: each one fails the test, none is skipped. */
  unusable: string[];
  millis: number;
}

let catalogue: Catalogue;

reportBackends();

beforeAll(() => {
  catalogue = classifyExamples();
  const { examples, unusable, millis } = catalogue;
  const rejected = examples.filter((e) => e.rejection);
  expect(rejected.map((e) => e.file)).toEqual(KNOWN_INVALID);
  console.log(
    `examples classified in ${(millis / 1000).toFixed(1)} s: ${examples.length + unusable.length} files, ` +
      `${examples.length - rejected.length} valid, ${rejected.length} rejected by the text checks or validateResource, ${unusable.length} not a resource\n` +
      describeRejections(rejected),
  );
}, CLASSIFY_TIMEOUT_MS);

/**
 * The database the examples go through the server on: PostgreSQL when the run has it, else PGlite (a clone without
 * TEST_DATABASE_URL). Each example goes through the server once per run: what the server does above storage (the
 * transport's parse, validation and its verdicts, the write rules, the audit, the create and read interactions) is
 * the same code on either database.
 */
const SERVER_PASS: Backend = BACKENDS.find((backend) => backend.name === 'postgres') ?? BACKENDS[0];

/**
 * What the other database takes (PGlite, beside PostgreSQL): what a database can tell apart is storage, so a sample
 * that holds every resource type and every large example is written by the store (createMany: the statement create
 * runs, 500-odd examples at a time) and read back by it (read: the read interaction's statement), each compared with
 * its file. The sample reaches every table and the largest bodies. The refusals are not repeated here: they come
 * before the database is asked anything (create validates before it opens its transaction). That every stored
 * example passes the server's checks and its write rules unchanged is the server pass's to show.
 */
function storageSample(): Example[] {
  const perType = new Map<string, number>();
  return catalogue.examples.filter((example) => {
    if (example.rejection || REFUSED_BY_RULE.has(example.resourceType)) return false;
    const seen = perType.get(example.resourceType) ?? 0;
    perType.set(example.resourceType, seen + 1);
    return seen < SAMPLE_PER_TYPE || example.bytes > LARGE_FILE_BYTES;
  });
}

/** Examples of each resource type in the storage sample (the first ones by file name). */
const SAMPLE_PER_TYPE = 3;
/** One createMany's examples: at most this many, or this many bytes of files (a large example goes alone). */
const STORE_BATCH = 500;
const STORE_BATCH_BYTES = 4 * 1024 * 1024;

/**
 * Only the valid examples were stored, each exactly once (one current row and one version). The audit trail's own
 * AuditEvents (one per request, observed by this server: server/audit) are not examples; the examples' AuditEvents
 * are counted like any other example: in the trail's own table (migration 007), one row each, their only version.
 */
async function storedExamples(server: TestServer): Promise<{ current: number; versions: number }> {
  const examples = `(SELECT count(*)::int FROM audit_event WHERE coalesce(content->'source'->'observer'->>'display', '') <> 'CCP Exchange')`;
  const [stored] = await server.db.query<{ current: number; versions: number }>(
    `SELECT (SELECT count(*)::int FROM resource) + ${examples} AS current,
            (SELECT count(*)::int FROM resource_version) + ${examples} AS versions`,
  );
  return stored;
}

describe.each(BACKENDS)('official R4 examples on $name', (backend) => {
  let server: TestServer;

  beforeAll(async () => {
    // Referential integrity is off: the examples refer to many resources that are not among them (and to each
    // other in no order a create of each could follow); what is tested here is the round trip of each one.
    server = await openTestServer(backend, { referentialIntegrity: false });
  });

  afterAll(async () => {
    await server?.close();
  });

  if (backend === SERVER_PASS) {
    it(
      'creates and reads back every valid example unchanged through the server, and refuses every invalid one',
      async () => {
        const started = Date.now();
        const failures: string[] = [...catalogue.unusable.map((file) => `${file}: not an R4 resource, cannot be sent`)];
        let roundTripped = 0;
        let refused = 0;
        let byRule = 0;

        const check = async (example: Example) => {
          const outcome = await exercise(server, example);
          if (outcome === 'round-tripped') roundTripped++;
          else if (outcome === 'refused') refused++;
          else if (outcome === 'refused by rule') byRule++;
          else failures.push(`${example.file}: ${outcome}`);
        };
        const chosen = catalogue.examples;
        const small = chosen.filter((e) => e.bytes <= LARGE_FILE_BYTES);
        const large = chosen.filter((e) => e.bytes > LARGE_FILE_BYTES);
        await inPool(small, CONCURRENCY, check);
        await inPool(large, 1, check);

        const total = chosen.length + catalogue.unusable.length;
        const valid = chosen.filter((e) => !e.rejection).length;
        const invalid = chosen.length - valid;
        const seconds = ((Date.now() - started) / 1000).toFixed(1);
        console.log(
          `examples round-trip through the server on ${backend.name}: ${total} files, ${valid} valid, ${roundTripped} round-tripped, ${byRule} refused by this server's rules, ` +
            `${invalid} rejected by validateResource (${refused} refused by POST as expected), ${failures.length} failures, ${seconds} s` +
            (failures.length ? `\n${failures.slice(0, 50).join('\n')}` : ''),
        );

        expect(await storedExamples(server)).toEqual({ current: roundTripped, versions: roundTripped });
        expect(failures).toEqual([]);
        const ruled = chosen.filter((e) => !e.rejection && REFUSED_BY_RULE.has(e.resourceType)).length;
        expect(ruled).toBeGreaterThan(0);
        expect(byRule).toBe(ruled);
        expect(roundTripped).toBe(valid - ruled);
        expect(refused).toBe(invalid);
        expect(invalid).toBe(KNOWN_INVALID.length);
        expect(total).toBeGreaterThanOrEqual(MIN_FILES);
        expect(valid).toBeGreaterThanOrEqual(MIN_VALID);
      },
      BACKEND_TIMEOUT_MS,
    );
  } else {
    it(
      'stores and reads back unchanged a sample of every resource type and every large example',
      async () => {
        const started = Date.now();
        const failures: string[] = [];
        const chosen = storageSample();
        let batch: { example: Example; text: string }[] = [];
        let batchBytes = 0;
        const flush = async () => {
          if (batch.length) failures.push(...(await storeAndRead(server, batch)));
          batch = [];
          batchBytes = 0;
        };
        for (const example of chosen) {
          if (batch.length && (batch.length >= STORE_BATCH || batchBytes + example.bytes > STORE_BATCH_BYTES)) await flush();
          batch.push({ example, text: await readFile(path.join(EXAMPLES_DIR, example.file), 'utf8') });
          batchBytes += example.bytes;
        }
        await flush();
        const seconds = ((Date.now() - started) / 1000).toFixed(1);
        console.log(
          `examples stored and read back on ${backend.name}: ${chosen.length} of every resource type and every large one, ${failures.length} failures, ${seconds} s` +
            (failures.length ? `\n${failures.slice(0, 50).join('\n')}` : ''),
        );

        expect(failures).toEqual([]);
        expect(await storedExamples(server)).toEqual({ current: chosen.length, versions: chosen.length });
        // The sample: every resource type the server stores examples of, and every large example.
        const storable = catalogue.examples.filter((e) => !e.rejection && !REFUSED_BY_RULE.has(e.resourceType));
        expect(new Set(chosen.map((e) => e.resourceType))).toEqual(new Set(storable.map((e) => e.resourceType)));
        expect(chosen.filter((e) => e.bytes > LARGE_FILE_BYTES)).toEqual(storable.filter((e) => e.bytes > LARGE_FILE_BYTES));
      },
      BACKEND_TIMEOUT_MS,
    );
  }
});

/**
 * Writes a batch of examples with the store's createMany, as parsed by the server's parser, then reads each back
 * with the store's read: the failures, one line each (none when each comes back as written and as its file).
 */
async function storeAndRead(server: TestServer, batch: { example: Example; text: string }[]): Promise<string[]> {
  const { store } = server.context;
  const written = await store.createMany(batch.map(({ text }): NewResource => ({ resource: parseJsonText(text, DEFAULT_MAX_JSON_DEPTH) as Resource })));
  const failures: string[] = [];
  for (const [i, { example, text }] of batch.entries()) {
    const stored = written[i];
    const read = await store.read(example.resourceType, stored.id!);
    if (read.kind !== 'found') {
      failures.push(`${example.file}: read of ${example.resourceType}/${stored.id} found it ${read.kind}`);
      continue;
    }
    const body = JSON.parse(JSON.stringify(inReadingOrder(read.resource))) as Json;
    const meta = body.meta as Json | undefined;
    const problem =
      body.id !== stored.id
        ? `read returned id ${String(body.id)}, stored ${stored.id}`
        : meta?.versionId !== '1'
          ? `read returned meta.versionId ${String(meta?.versionId)}, expected "1"`
          : typeof meta.lastUpdated !== 'string' || Number.isNaN(Date.parse(meta.lastUpdated))
            ? `read returned meta.lastUpdated ${String(meta.lastUpdated)}`
            : differsAt('the stored copy and the read differ', firstDifference(body, JSON.parse(JSON.stringify(stored)), '')) ??
              differsAt('read differs from the example', firstDifference(withoutServerElements(body), withoutServerElements(JSON.parse(text) as Json), ''));
    if (problem) failures.push(`${example.file}: ${problem}`);
  }
  return failures;
}

/**
 * Reads every example once; for the known invalid ones, works out with the server's own create-time checks the
 * status and issues their POST must be refused with (a known invalid example these checks accept fails the test).
 */
function classifyExamples(): Catalogue {
  const started = Date.now();
  const validation = { schema: schemaValidator(), profiles: sharedProfiles(TEST_OPTIONS.requiredProfiles) };
  const examples: Example[] = [];
  const unusable: string[] = [];
  const files = readdirSync(EXAMPLES_DIR)
    .filter((file) => file.endsWith('.json') && file !== 'package.json')
    .sort();
  for (const file of files) {
    const full = path.join(EXAMPLES_DIR, file);
    const bytes = statSync(full).size;
    let resource: unknown;
    const text = readFileSync(full, 'utf8');
    try {
      resource = JSON.parse(text);
    } catch {
      unusable.push(file);
      continue;
    }
    const resourceType = (resource as Json | null)?.resourceType;
    if (typeof resourceType !== 'string' || !isResourceType(resourceType)) {
      unusable.push(file);
      continue;
    }
    const example: Example = { file, bytes, resourceType };
    // The others are left to the server: a refusal of one of them fails its round trip.
    if (!KNOWN_INVALID.includes(file)) {
      examples.push(example);
      continue;
    }
    // The checks of the body's text come first on the server too (server/http/body.ts).
    const textIssues = scanJsonText(text, DEFAULT_MAX_JSON_DEPTH);
    if (textIssues.length) {
      example.rejection = { status: 400, issues: textIssues };
      examples.push(example);
      continue;
    }
    try {
      validateResource(validation, resource, resourceType);
    } catch (error) {
      if (!(error instanceof FhirError)) throw error;
      example.rejection = { status: error.status, issues: error.issues };
    }
    examples.push(example);
  }
  return { examples, unusable, millis: Date.now() - started };
}

type Outcome = 'round-tripped' | 'refused' | 'refused by rule' | string;

const BASE = 'http://localhost/fhir';

/** A request as the transport hands it to the pipeline: no token needed (the test server takes none), so unrestricted. */
function fhirRequest(method: string, requestPath: string, body?: unknown): FhirRequest {
  return { method, path: requestPath, query: {}, headers: body === undefined ? {} : { 'content-type': FHIR_JSON }, body, baseUrl: BASE, caller: UNRESTRICTED };
}

/** What a client of the HTTP API gets: the status, and the body as the transport writes it (server/http/send.ts). */
async function answer(server: TestServer, call: () => FhirRequest): Promise<{ status: number; body?: Json; issues?: Issue[] }> {
  let response: FhirResponse;
  try {
    response = await handleFhirRequest(call(), server.context);
  } catch (error) {
    // What the transport turns into an OperationOutcome (server/http/errors.ts); anything else would be a 500.
    if (error instanceof FhirError) return { status: error.status, issues: error.issues };
    return { status: 500, issues: [{ severity: 'fatal', code: 'exception', diagnostics: String(error) }] };
  }
  const body = response.body === undefined ? undefined : (JSON.parse(JSON.stringify(inReadingOrder(response.body))) as Json);
  return { status: response.status, body };
}

/** Sends one example as its file's bytes; 'round-tripped' or 'refused' when it behaves, else what went wrong. */
async function exercise(server: TestServer, example: Example): Promise<Outcome> {
  const raw = await readFile(path.join(EXAMPLES_DIR, example.file));
  // The transport's parse of the body (its text checks first) is part of the request: its refusal is create's.
  const created = await answer(server, () => fhirRequest('POST', example.resourceType, parseBody('POST', FHIR_JSON, raw, DEFAULT_MAX_JSON_DEPTH)));

  if (example.rejection) {
    const { status, issues } = example.rejection;
    if (created.status !== status) return `invalid example: POST gave ${created.status}, expected ${status} (${issues[0]?.diagnostics})`;
    if (!created.issues?.length) return `invalid example: POST ${created.status} without issues`;
    const first = created.issues[0]?.diagnostics;
    if (first !== issues[0]?.diagnostics) return `invalid example: POST gave issue "${first}", the validator "${issues[0]?.diagnostics}"`;
    return 'refused';
  }

  if (REFUSED_BY_RULE.has(example.resourceType)) {
    return created.status === 422 && created.issues?.length ? 'refused by rule' : `valid example of a type this server's rules refuse: POST gave ${created.status}, expected 422`;
  }
  if (created.status !== 201) return `valid example: POST gave ${created.status}: ${created.issues?.[0]?.diagnostics ?? abridge(created.body)}`;
  const id: unknown = created.body?.id;
  if (typeof id !== 'string') return 'valid example: the created resource has no id';
  const read = await answer(server, () => fhirRequest('GET', `${example.resourceType}/${id}`));
  if (read.status !== 200 || !read.body) return `valid example: GET ${example.resourceType}/${id} gave ${read.status}: ${read.issues?.[0]?.diagnostics ?? abridge(read.body)}`;

  const body = read.body;
  const meta = body.meta as Json | undefined;
  if (body.id !== id) return `read returned id ${String(body.id)}, created ${id}`;
  if (meta?.versionId !== '1') return `read returned meta.versionId ${String(meta?.versionId)}, expected "1"`;
  if (typeof meta.lastUpdated !== 'string' || Number.isNaN(Date.parse(meta.lastUpdated))) {
    return `read returned meta.lastUpdated ${String(meta.lastUpdated)}`;
  }
  const createdVsRead = firstDifference(created.body, body, '');
  if (createdVsRead) return `the create response and the read differ at ${createdVsRead}`;

  const original = JSON.parse(raw.toString('utf8')) as Json;
  const difference = firstDifference(withoutServerElements(body), withoutServerElements(original), '');
  return difference ? `read differs from the example at ${difference}` : 'round-tripped';
}

function differsAt(what: string, difference: string | undefined): string | undefined {
  return difference === undefined ? undefined : `${what} at ${difference}`;
}

/** The resource minus what the server owns (id, meta.versionId, meta.lastUpdated); a meta left empty goes too. */
function withoutServerElements(resource: Json): Json {
  const { id: _id, meta, ...rest } = resource;
  if (!meta || typeof meta !== 'object') return rest;
  const { versionId: _versionId, lastUpdated: _lastUpdated, ...kept } = meta as Json;
  return Object.keys(kept).length ? { ...rest, meta: kept } : rest;
}

/**
 * Deep equality of parsed JSON, as toEqual would judge it, but cheap on multi-megabyte Bundles and telling
 * where two values part: undefined when equal, else the path and both values (abridged).
 */
function firstDifference(actual: unknown, expected: unknown, at: string): string | undefined {
  if (Object.is(actual, expected)) return undefined;
  const here = at || '(root)';
  if (Array.isArray(actual) && Array.isArray(expected)) {
    for (let i = 0; i < Math.max(actual.length, expected.length); i++) {
      const d = firstDifference(actual[i], expected[i], `${at}[${i}]`);
      if (d) return d;
    }
    return undefined;
  }
  if (isObject(actual) && isObject(expected)) {
    const keys = new Set([...Object.keys(actual), ...Object.keys(expected)]);
    for (const key of [...keys].sort()) {
      if (!(key in actual)) return `${at}.${key}: missing, expected ${abridge(expected[key])}`;
      if (!(key in expected)) return `${at}.${key}: unexpected ${abridge(actual[key])}`;
      const d = firstDifference(actual[key], expected[key], `${at}.${key}`);
      if (d) return d;
    }
    return undefined;
  }
  return `${here}: got ${abridge(actual)}, expected ${abridge(expected)}`;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function abridge(value: unknown): string {
  const text = JSON.stringify(value) ?? 'undefined';
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/** Runs `work` over `items` with at most `width` running at once, in order of start. */
async function inPool<T>(items: T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
}

/**
 * The rejected examples grouped by reason (the first issue, with indices and the element path's instance
 * detail reduced so that alike failures fall together), then the first ten with their first issue.
 */
function describeRejections(rejected: Example[]): string {
  if (!rejected.length) return 'no example is rejected';
  const groups = new Map<string, string[]>();
  for (const example of rejected) {
    const reason = reasonOf(example);
    groups.set(reason, [...(groups.get(reason) ?? []), example.file]);
  }
  const grouped = [...groups].map(
    ([reason, files]) => `  ${files.length} × ${reason}: ${files.slice(0, 4).join(', ')}${files.length > 4 ? ', …' : ''}`,
  );
  const first = rejected
    .slice(0, 10)
    .map((e) => `  ${e.file} → ${e.rejection!.status} ${e.rejection!.issues[0]?.diagnostics} (${e.rejection!.issues.length} issues)`);
  return `rejected, by reason:\n${grouped.join('\n')}\nfirst ${first.length} rejected:\n${first.join('\n')}`;
}

function reasonOf(example: Example): string {
  const diagnostics = example.rejection!.issues[0]?.diagnostics ?? 'no issue given';
  // `Bundle.entry[55].resource.url is not a known element here` → `….url is not a known element here`
  return diagnostics.replace(/^\S*?([._]?[A-Za-z_]+)\s/, '…$1 ').replace(/\[\d+\]/g, '[n]');
}
