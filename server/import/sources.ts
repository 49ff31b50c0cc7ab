import { createReadStream, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip, gunzipSync } from 'node:zlib';
import type { Bundle, BundleEntry, Resource } from 'fhir/r4';
import { DEFAULT_MAX_JSON_DEPTH, scanJsonText } from '../fhir/json-text.js';
import { decodeUtf8 } from '../fhir/text-rules.js';

/** Resources per transaction when an NDJSON file is cut into Bundles. */
export const NDJSON_BATCH = 500;

const IMPORTABLE = /\.(json|ndjson)(\.gz)?$/i;

/** The files named on the command line, a folder standing for the importable files in it (sorted by name). */
export function expandPaths(paths: string[]): string[] {
  return paths.flatMap((path) => {
    if (!statSync(path).isDirectory()) return [path];
    return readdirSync(path)
      .filter((name) => IMPORTABLE.test(name))
      .sort()
      .map((name) => join(path, name));
  });
}

/**
 * The transaction Bundles a file holds, one at a time: a `.json` file is one Bundle (sent as it is when it is a
 * transaction or batch) or one resource; an `.ndjson` file holds one resource (or Bundle) per line, cut into
 * transactions of NDJSON_BATCH resources. `.gz` files are decompressed on the way.
 */
export async function* bundlesOf(file: string): AsyncGenerator<Bundle> {
  if (/\.json(\.gz)?$/i.test(file)) {
    const raw = readFileSync(file);
    const text = decodeUtf8(/\.gz$/i.test(file) ? gunzipSync(raw) : raw, file);
    yield asTransaction(parseJson(text, file));
    return;
  }
  if (!/\.ndjson(\.gz)?$/i.test(file)) throw new Error(`${file}: only .json, .json.gz, .ndjson and .ndjson.gz files can be imported`);
  const input = createReadStream(file);
  const lines = createInterface({ input: /\.gz$/i.test(file) ? input.pipe(createGunzip()) : input, crlfDelay: Infinity });
  let pending: Resource[] = [];
  let number = 0;
  for await (const line of lines) {
    number++;
    if (!line.trim()) continue;
    const item = parseJson(line, `${file}:${number}`);
    if (item.resourceType === 'Bundle') {
      yield asTransaction(item);
      continue;
    }
    pending.push(item);
    if (pending.length === NDJSON_BATCH) {
      yield transactionOf(pending);
      pending = [];
    }
  }
  if (pending.length) yield transactionOf(pending);
}

/** A transaction or batch Bundle goes as it is; any other resource becomes a one-entry transaction. */
function asTransaction(item: Resource): Bundle {
  const bundle = item as Bundle;
  if (bundle.resourceType === 'Bundle' && (bundle.type === 'transaction' || bundle.type === 'batch')) return bundle;
  return transactionOf([item]);
}

/**
 * Resources that carry an id keep it (`PUT Type/id`, which needs update-as-create on the server): exports refer
 * to each other by `Type/id`, and a second import of the same file then updates instead of duplicating.
 */
function transactionOf(resources: Resource[]): Bundle {
  const entry: BundleEntry[] = resources.map((resource) =>
    resource.id
      ? { resource, request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` } }
      : { resource, request: { method: 'POST', url: resource.resourceType } },
  );
  return { resourceType: 'Bundle', type: 'transaction', entry };
}

function parseJson(text: string, where: string): Resource {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`${where}: not JSON (${(error as Error).message})`);
  }
  // The checks a body gets over HTTP (server/fhir/json-text.ts): an imported value is not changed either.
  const problems = scanJsonText(text, DEFAULT_MAX_JSON_DEPTH);
  if (problems.length) throw new Error(`${where}: ${problems.map((problem) => problem.diagnostics).join('; ')}`);
  if (typeof value !== 'object' || value === null || typeof (value as Resource).resourceType !== 'string') {
    throw new Error(`${where}: not a FHIR resource (no resourceType)`);
  }
  return value as Resource;
}
