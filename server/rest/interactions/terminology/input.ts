import type { CodeableConcept, Coding, Parameters, ParametersParameter, Resource } from 'fhir/r4';
import { badRequest, FhirError } from '../../../fhir/outcome.js';
import type { FhirContext, FhirRequest } from '../../types.js';
import type { Terminology } from '../../../terminology/service.js';
import type { SchemaValidator } from '../../../validation/schema-validator.js';
import { checkStructure } from '../../../validation/validate-resource.js';

/**
 * An operation's input parameters (R4 Operations §3.1.0.1): from the URL on GET, from a Parameters body on POST (with
 * any URL parameters too). Each getter checks the type and the cardinality the OperationDefinition gives and throws a
 * 400 naming the parameter. Complex values (Coding, CodeableConcept, resources) exist only in a Parameters body.
 */
export class OperationInput {
  private readonly body: ParametersParameter[];

  constructor(
    private readonly request: FhirRequest,
    private readonly operation: string,
    schema: SchemaValidator,
  ) {
    const body = request.body as Resource | undefined;
    if (request.method === 'POST' && body !== undefined && body.resourceType !== 'Parameters') {
      throw badRequest(`${operation} takes a Parameters resource as its body (got ${body.resourceType ?? 'no resourceType'})`);
    }
    // The body, and any ValueSet, CodeSystem or Coding in it, must be valid R4 before anything reads it: a 400
    // naming the element, never a terminology walk over a malformed compose.
    if (body !== undefined) checkStructure(schema, body, 'Parameters');
    this.body = (body as Parameters | undefined)?.parameter ?? [];
  }

  private where(name: string): string[] {
    return this.fromBody(name).length ? [`Parameters.parameter.where(name='${name}')`] : [name];
  }

  private fromBody(name: string): ParametersParameter[] {
    return this.body.filter((p) => p.name === name);
  }

  /** Every value of a primitive parameter, as text (URL values and `value[x]` of the body's parameters). */
  all(name: string): string[] {
    const values = [...(this.request.query[name] ?? [])];
    for (const parameter of this.fromBody(name)) {
      const value = primitive(parameter);
      if (value === undefined) throw badRequest(`${this.operation}: the parameter ${name} needs a primitive value`, this.where(name));
      values.push(value);
    }
    return values;
  }

  string(name: string): string | undefined {
    const values = this.all(name);
    if (values.length > 1) throw badRequest(`${this.operation}: the parameter ${name} may be given once (it was given ${values.length} times)`, this.where(name));
    if (values[0] === '') throw badRequest(`${this.operation}: the parameter ${name} is empty`, this.where(name));
    return values[0];
  }

  boolean(name: string): boolean | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    if (value !== 'true' && value !== 'false') throw badRequest(`${this.operation}: the parameter ${name} is a boolean, true or false (got ${value})`, this.where(name));
    return value === 'true';
  }

  /** A non-negative integer (offset, count). */
  count(name: string): number | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    if (!/^[0-9]{1,9}$/.test(value)) throw badRequest(`${this.operation}: the parameter ${name} is a whole number of 0 or more (got ${value})`, this.where(name));
    return Number(value);
  }

  coding(name: string): Coding | undefined {
    return this.complex(name, 'valueCoding');
  }

  codeableConcept(name: string): CodeableConcept | undefined {
    return this.complex(name, 'valueCodeableConcept');
  }

  resource<T extends Resource>(name: string, type: T['resourceType']): T | undefined {
    const parameter = this.single(name);
    if (!parameter) return undefined;
    if (parameter.resource?.resourceType !== type) throw badRequest(`${this.operation}: the parameter ${name} is a ${type} resource`, this.where(name));
    return parameter.resource as T;
  }

  private complex<K extends 'valueCoding' | 'valueCodeableConcept'>(name: string, key: K): ParametersParameter[K] | undefined {
    const parameter = this.single(name);
    if (!parameter) return undefined;
    const value = parameter[key];
    if (value === undefined) throw badRequest(`${this.operation}: the parameter ${name} needs ${key}`, this.where(name));
    return value;
  }

  private single(name: string): ParametersParameter | undefined {
    if (this.request.query[name]?.length) {
      throw badRequest(`${this.operation}: ${name} is not a simple value: send it in a Parameters body with POST`, [name]);
    }
    const found = this.fromBody(name);
    if (found.length > 1) throw badRequest(`${this.operation}: the parameter ${name} may be given once`, this.where(name));
    return found[0];
  }

  /** A 400 for an input rule spanning parameters ("one of code, coding, codeableConcept"). */
  invalid(diagnostics: string, names: string[]): FhirError {
    return badRequest(`${this.operation}: ${diagnostics}`, names);
  }
}

function primitive(parameter: ParametersParameter): string | undefined {
  for (const [key, value] of Object.entries(parameter)) {
    if (key.startsWith('value') && (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')) return String(value);
  }
  return undefined;
}

/** The server's terminology, or 501 if this context was built without one. */
export function terminologyOf(context: FhirContext): Terminology {
  if (!context.terminology) throw new FhirError(501, { code: 'not-supported', diagnostics: 'This server has no terminology service' });
  return context.terminology;
}
