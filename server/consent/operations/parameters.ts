import type { Parameters, ParametersParameter, Resource } from 'fhir/r4';
import { parseDateRange } from '../../fhir/date-range.js';
import { badRequest, FhirError } from '../../fhir/outcome.js';
import type { SchemaValidator } from '../../validation/schema-validator.js';
import { validateResource } from '../../validation/validate-resource.js';

/** Where a parameter sits in the request body, as FHIRPath: what every error about it names. */
export function where(name: string): string {
  return `Parameters.parameter.where(name='${name}')`;
}

export function invalidParameter(name: string, diagnostics: string): FhirError {
  return badRequest(`${name}: ${diagnostics}`, [where(name)]);
}

/**
 * The operation's input, checked like any write of a Parameters resource; an operation with only optional
 * parameters may have no body at all. A parameter the operation does not know is refused rather than ignored:
 * a misspelt `consentObtainedBy` must not silently fall back to a default.
 */
export class OperationInput {
  private constructor(private readonly parameters: ParametersParameter[]) {}

  static read(schema: SchemaValidator, body: unknown, known: readonly string[]): OperationInput {
    if (body === undefined) return new OperationInput([]);
    const parameters = named(() => validateResource({ schema }, body, 'Parameters') as Parameters, body);
    const list = parameters.parameter ?? [];
    for (const parameter of list) {
      if (!known.includes(parameter.name)) {
        throw invalidParameter(parameter.name, `this operation has no such parameter (it takes ${known.join(', ')})`);
      }
    }
    return new OperationInput(list);
  }

  private one(name: string): ParametersParameter | undefined {
    const found = this.parameters.filter((p) => p.name === name);
    if (found.length > 1) throw invalidParameter(name, 'given more than once');
    return found[0];
  }

  /** The id of a `valueReference` to a resource of `type` (`Type/id`, or this server's absolute URL of it). */
  reference(name: string, type: string, baseUrl: string): string | undefined {
    const parameter = this.one(name);
    if (!parameter) return undefined;
    const reference = parameter.valueReference?.reference;
    if (reference === undefined) throw invalidParameter(name, `expected a valueReference to a ${type}`);
    const local = reference.startsWith(`${baseUrl}/`) ? reference.slice(baseUrl.length + 1) : reference;
    const match = new RegExp(`^${type}/([A-Za-z0-9\\-.]{1,64})$`).exec(local);
    if (!match) throw invalidParameter(name, `expected a reference to a ${type} on this server (${type}/[id]), not "${reference}"`);
    return match[1];
  }

  code<T extends string>(name: string, allowed: readonly T[]): T | undefined {
    const parameter = this.one(name);
    if (!parameter) return undefined;
    const code = parameter.valueCode;
    if (code === undefined) throw invalidParameter(name, `expected a valueCode (${allowed.join(' | ')})`);
    if (!(allowed as readonly string[]).includes(code)) throw invalidParameter(name, `"${code}" is not one of ${allowed.join(' | ')}`);
    return code as T;
  }

  string(name: string): string | undefined {
    const parameter = this.one(name);
    if (!parameter) return undefined;
    if (parameter.valueString === undefined) throw invalidParameter(name, 'expected a valueString');
    return parameter.valueString;
  }

  /** A `valueDateTime` that has already happened: its earliest possible instant is not after `now`. */
  pastDateTime(name: string, now: Date): string | undefined {
    const parameter = this.one(name);
    if (!parameter) return undefined;
    const value = parameter.valueDateTime;
    const range = value === undefined ? undefined : parseDateRange(value);
    if (value === undefined || !range) throw invalidParameter(name, 'expected a valueDateTime');
    if (range.start.getTime() > now.getTime()) throw invalidParameter(name, `${value} is in the future`);
    return value;
  }

  resource(name: string): Resource | undefined {
    const parameter = this.one(name);
    if (!parameter) return undefined;
    if (!parameter.resource) throw invalidParameter(name, 'expected a resource');
    return parameter.resource;
  }
}

/** Problems inside the body named by parameter (`parameter.where(name='level')`) rather than by position. */
function named<T>(check: () => T, body: unknown): T {
  try {
    return check();
  } catch (error) {
    if (!(error instanceof FhirError)) throw error;
    const list = (body as Partial<Parameters>).parameter;
    const rename = (path: string) =>
      path.replace(/^Parameters\.parameter\[(\d+)\]/, (whole, index: string) => {
        const name = Array.isArray(list) ? list[Number(index)]?.name : undefined;
        return typeof name === 'string' ? where(name) : whole;
      });
    throw new FhirError(error.status, error.issues.map((issue) => ({ ...issue, expression: issue.expression?.map(rename) })), error.headers);
  }
}

export function required<T>(value: T | undefined, name: string, why = 'is required'): T {
  if (value === undefined) throw new FhirError(400, { code: 'required', diagnostics: `${name} ${why}`, expression: [where(name)] });
  return value;
}

/** The operation's answer: named resources and references, in a Parameters resource. */
export function outputParameters(parts: ParametersParameter[]): Parameters {
  return { resourceType: 'Parameters', ...(parts.length ? { parameter: parts } : {}) };
}
