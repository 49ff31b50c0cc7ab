import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import type { Express } from 'express';
import type { Bundle, Identifier, Resource } from 'fhir/r4';

/**
 * The Synthea R4 sample data (/work/shared/data/synthea-r4): 100 patient transaction Bundles, a hospital and a
 * practitioner information Bundle (Organizations, Practitioners) and one Group (a bare resource, not a Bundle).
 *
 * The search suites load it with `PUT {type}/{id}` entries of transaction Bundles (update-as-create), so ids are
 * known in advance, after rewriting each `urn:uuid:X` reference to `Type/X` and each
 * conditional reference (`Organization?identifier=system|value`) to the one resource it names. The prepared
 * resources are also what the search suites' oracles read: exactly what was written, nothing from the server.
 */

const here = dirname(fileURLToPath(import.meta.url));
const CANDIDATE_DIRS = [resolve(here, '../../../shared/data/synthea-r4'), '/work/shared/data/synthea-r4'];

export function syntheaDir(): string {
  const found = CANDIDATE_DIRS.find((dir) => existsSync(dir));
  if (!found) throw new Error(`Synthea data not found in ${CANDIDATE_DIRS.join(' or ')}`);
  return found;
}

/**
 * Patients the search suites load: small and mid-sized records chosen for what they offer the tests: accents
 * (Ramón, María Teresa), two born in 1972 (Sona, Rene) and one in 1974 (Terence), two named Streich, two named
 * Dillon, a patient with two names (Darcy), a newborn with a tiny record (Fannie), and enough Observations
 * (body height, weight, …) for quantity, date and paging searches. About 2,300 resources.
 */
export const SEARCH_PATIENTS = [
  'Ramón_Sarabia',
  'María_Teresa_Carrasquillo',
  'Terence_Russel',
  'Sona_Sporer',
  'Rene_Hills',
  'Luther_Streich',
  'Carmelo_Streich',
  'Darcy_Schmidt',
  'Dillon_Adams',
  'Dillon_Leuschke',
  'Fannie_Waelchi',
] as const;

/** Every patient file's name part (`Ramón_Sarabia`), for loading more than the search suites do. */
export function syntheaPatientNames(): string[] {
  return readdirSync(syntheaDir())
    .map((f) => /^(.+)_[0-9a-f-]{36}\.json\.gz$/.exec(f.normalize('NFC'))?.[1])
    .filter((name): name is string => name !== undefined)
    .sort();
}

interface Entry {
  fullUrl?: string;
  resource: Resource;
}

interface SourceFile {
  name: string;
  entries: Entry[];
}

function readJsonGz<T>(file: string): T {
  return JSON.parse(gunzipSync(readFileSync(file)).toString('utf8')) as T;
}

/** `Ramón_Sarabia_e6dde18e-….json.gz` → the file of that patient (names compared in NFC). */
function patientFile(dir: string, files: string[], name: string): string {
  const wanted = `${name.normalize('NFC')}_`;
  const matches = files.filter((f) => f.normalize('NFC').startsWith(wanted) && /_[0-9a-f-]{36}\.json\.gz$/.test(f));
  if (matches.length !== 1) throw new Error(`expected one Synthea file for ${name}, found ${matches.length}`);
  return join(dir, matches[0]);
}

export interface SyntheaSet {
  /** Every resource as it is written (references rewritten), each `Type/id` once: the last write of a sequential load. */
  resources: Map<string, Resource>;
  /** Resources in writing order, grouped by dependency level: nothing in level n references anything in a later level. */
  levels: Resource[][];
  /** Patient name (as in SEARCH_PATIENTS) → the Patient's id. */
  patientIds: Map<string, string>;
  /** How many references were rewritten, by kind. */
  rewritten: { uuid: number; conditional: number };
  ofType<T extends Resource = Resource>(type: T['resourceType']): T[];
}

export interface PrepareOptions {
  /** The hospital and practitioner information Bundles (default true). */
  information?: boolean;
  /** The Group of all 100 patients (default true); members not loaded still get a `Patient/X` reference. */
  group?: boolean;
}

/** Reads and rewrites the chosen bundles; no server involved. */
export function prepareSynthea(patients: readonly string[], options: PrepareOptions = {}): SyntheaSet {
  const dir = syntheaDir();
  const files = readdirSync(dir);
  const sources: SourceFile[] = [];
  if (options.information ?? true) {
    for (const kind of ['hospital', 'practitioner']) {
      const file = files.find((f) => f.startsWith(`${kind}Information`) && f.endsWith('.json.gz'));
      if (!file) throw new Error(`no ${kind}Information bundle in ${dir}`);
      sources.push({ name: file, entries: readJsonGz<Bundle>(join(dir, file)).entry as Entry[] });
    }
  }
  if (options.group ?? true) {
    const file = files.find((f) => f.startsWith('groupInformation') && f.endsWith('.json.gz'));
    if (!file) throw new Error(`no groupInformation file in ${dir}`);
    const group = readJsonGz<Resource>(join(dir, file));
    sources.push({ name: file, entries: [{ resource: group }] });
  }
  const patientIds = new Map<string, string>();
  for (const name of patients) {
    const file = patientFile(dir, files, name);
    const bundle = readJsonGz<Bundle>(file);
    const entries = bundle.entry as Entry[];
    const patient = entries.find((e) => e.resource.resourceType === 'Patient');
    if (!patient?.resource.id) throw new Error(`${file} holds no Patient`);
    patientIds.set(name, patient.resource.id);
    sources.push({ name: file, entries });
  }

  // urn:uuid:X → Type/X, from the fullUrls of everything read; the Group names patients by their uuid, which the
  // patient files carry in their names, so members not loaded still resolve to Patient/X.
  const uuidType = new Map<string, string>();
  for (const file of files) {
    const m = /_([0-9a-f-]{36})\.json\.gz$/.exec(file);
    if (m) uuidType.set(m[1], 'Patient');
  }
  for (const source of sources) {
    for (const entry of source.entries) {
      const uuid = entry.fullUrl?.startsWith('urn:uuid:') ? entry.fullUrl.slice('urn:uuid:'.length) : undefined;
      if (uuid) {
        if (entry.resource.id !== uuid) throw new Error(`${source.name}: fullUrl ${entry.fullUrl} but id ${entry.resource.id}`);
        uuidType.set(uuid, entry.resource.resourceType);
      }
    }
  }

  // The final content of each Type/id in a sequential load: a later bundle's copy replaces an earlier one's
  // (patient bundles repeat the Organizations and Practitioners of the information bundles, without extensions).
  const resources = new Map<string, Resource>();
  for (const source of sources) {
    for (const entry of source.entries) {
      const resource = structuredClone(entry.resource);
      if (!resource.id) throw new Error(`${source.name}: an entry without id`);
      const key = `${resource.resourceType}/${resource.id}`;
      resources.delete(key); // keep Map order = order of the final write
      resources.set(key, resource);
    }
  }
  const rewritten = { uuid: 0, conditional: 0 };
  for (const resource of resources.values()) {
    rewriteReferences(resource, (reference) => {
      if (reference.startsWith('urn:uuid:')) {
        const uuid = reference.slice('urn:uuid:'.length);
        const type = uuidType.get(uuid);
        if (!type) throw new Error(`${resource.resourceType}/${resource.id}: ${reference} resolves to nothing read`);
        rewritten.uuid++;
        return `${type}/${uuid}`;
      }
      const conditional = /^([A-Z][A-Za-z]+)\?(.+)$/.exec(reference);
      if (conditional) {
        rewritten.conditional++;
        return resolveConditional(conditional[1], conditional[2], resources, `${resource.resourceType}/${resource.id}`);
      }
      return reference;
    });
  }

  const levels = dependencyLevels(resources);
  return {
    resources,
    levels,
    patientIds,
    rewritten,
    ofType<T extends Resource>(type: T['resourceType']): T[] {
      return [...resources.values()].filter((r) => r.resourceType === type) as T[];
    },
  };
}

/** Applies `rewrite` to every `reference` string of every Reference in the resource, in place. */
function rewriteReferences(node: unknown, rewrite: (reference: string) => string): void {
  if (Array.isArray(node)) {
    for (const item of node) rewriteReferences(item, rewrite);
  } else if (node !== null && typeof node === 'object') {
    const record = node as Record<string, unknown>;
    for (const [key, value] of Object.entries(record)) {
      if (key === 'reference' && typeof value === 'string') record[key] = rewrite(value);
      else rewriteReferences(value, rewrite);
    }
  }
}

/**
 * `Organization?identifier=system|value` (the form Synthea uses for hospitals and practitioners in some versions)
 * → `Organization/id` of the one resource that matches; anything else, or no single match, is an error.
 */
export function resolveConditional(type: string, query: string, resources: Map<string, Resource>, from: string): string {
  const params = new URLSearchParams(query);
  const names = [...new Set(params.keys())];
  if (names.length !== 1 || names[0] !== 'identifier') throw new Error(`${from}: cannot resolve conditional reference ${type}?${query}`);
  const wanted = params.get('identifier')!;
  const [system, value] = wanted.includes('|') ? wanted.split('|') : [undefined, wanted];
  const matches = [...resources.values()].filter(
    (r) =>
      r.resourceType === type &&
      ((r as { identifier?: Identifier[] }).identifier ?? []).some((i) => i.value === value && (system === undefined || (i.system ?? '') === system)),
  );
  if (matches.length !== 1) throw new Error(`${from}: ${type}?${query} matches ${matches.length} resources`);
  return `${type}/${matches[0].id}`;
}

/** The `reference` strings of every Reference in a resource. */
export function referencesOf(resource: Resource): string[] {
  const found: string[] = [];
  rewriteReferences(structuredClone(resource), (reference) => {
    found.push(reference);
    return reference;
  });
  return found;
}

/** Level 0 references nothing in the set; level n only lower levels (a reference cycle, if any, is cut). */
export function dependencyLevels(resources: Map<string, Resource>): Resource[][] {
  const level = new Map<string, number>();
  const visiting = new Set<string>();
  const visit = (key: string): number => {
    const known = level.get(key);
    if (known !== undefined) return known;
    if (visiting.has(key)) return -1;
    visiting.add(key);
    let mine = 0;
    for (const target of referencesOf(resources.get(key)!)) {
      if (target !== key && resources.has(target)) mine = Math.max(mine, visit(target) + 1);
    }
    visiting.delete(key);
    level.set(key, mine);
    return mine;
  };
  const levels: Resource[][] = [];
  for (const key of resources.keys()) {
    const n = visit(key);
    (levels[n] ??= []).push(resources.get(key)!);
  }
  return levels.filter(Boolean);
}

export interface LoadResult {
  written: number;
  milliseconds: number;
}

/** Entries per transaction Bundle when loading (the import cuts NDJSON into transactions of 500 too). */
const TRANSACTION_ENTRIES = 500;

/**
 * Writes the set with `PUT {type}/{id}` entries (update-as-create: the ids are known) of transaction Bundles
 * posted over real HTTP, level by level (so every reference points to a resource already written or written in
 * the same transaction), each level in transactions of up to TRANSACTION_ENTRIES entries. Every resource goes
 * through the server's write path (validation, the write rules, the search index) as a PUT of its own would;
 * a transaction commits and is audited once for its entries, where 2,650 single PUTs were most of the search
 * suite's time. Fails on the first transaction that is not a 200, or an entry that is not 200 or 201.
 */
export async function loadSynthea(app: Express, set: SyntheaSet): Promise<LoadResult> {
  const started = performance.now();
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((ok) => server.once('listening', () => ok()));
  const { port } = server.address() as AddressInfo;
  let written = 0;
  try {
    for (const level of set.levels) {
      for (let at = 0; at < level.length; at += TRANSACTION_ENTRIES) {
        const resources = level.slice(at, at + TRANSACTION_ENTRIES);
        const bundle: Bundle = {
          resourceType: 'Bundle',
          type: 'transaction',
          entry: resources.map((resource) => ({
            resource,
            request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` },
          })),
        };
        const response = await fetch(`http://127.0.0.1:${port}/fhir`, {
          method: 'POST',
          headers: { 'content-type': 'application/fhir+json', prefer: 'return=minimal' },
          body: JSON.stringify(bundle),
        });
        const text = await response.text();
        if (response.status !== 200) throw new Error(`transaction of ${resources.length} PUTs: ${response.status} ${text.slice(0, 500)}`);
        const entries = (JSON.parse(text) as Bundle).entry ?? [];
        if (entries.length !== resources.length) throw new Error(`transaction of ${resources.length} PUTs answered ${entries.length} entries`);
        entries.forEach((entry, i) => {
          if (!/^20[01]\b/.test(entry.response?.status ?? '')) {
            throw new Error(`PUT ${resources[i].resourceType}/${resources[i].id}: ${entry.response?.status}`);
          }
        });
        written += resources.length;
      }
    }
  } finally {
    server.closeAllConnections();
    await new Promise<void>((ok) => server.close(() => ok()));
  }
  return { written, milliseconds: Math.round(performance.now() - started) };
}
