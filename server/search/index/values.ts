import type {
  CompositeComponent,
  DateRow,
  NumberRow,
  QuantityRow,
  ReferenceRow,
  StringRow,
  TokenRow,
  UriRow,
} from '../types.js';

/** One item a FHIRPath expression selected, with its FHIR datatype (`HumanName`, `dateTime`, `boolean`…). */
export interface FhirValue {
  type: string;
  /** The JSON value: an object for complex types, a string/number/boolean for primitives. */
  data: unknown;
  /** The engine's node, kept so that a composite can evaluate its components relative to it. */
  node: unknown;
}

export type StringValue = Omit<StringRow, 'param'>;
export type TokenValue = Omit<TokenRow, 'param'>;
export type DateValue = Omit<DateRow, 'param'>;
export type NumberValue = Omit<NumberRow, 'param'>;
export type QuantityValue = Omit<QuantityRow, 'param'>;
export type ReferenceValue = Omit<ReferenceRow, 'param'>;
export type UriValue = Omit<UriRow, 'param'>;

/**
 * Turns one selected item into index values. `undefined` means the parameter type cannot index this datatype at
 * all (reported, so that gaps show); an empty array means the item simply holds nothing to index.
 */
export type Converter<T> = (value: FhirValue) => T[] | undefined;

export type ComponentType = CompositeComponent['type'];

export function isRecord(data: unknown): data is Record<string, unknown> {
  return typeof data === 'object' && data !== null && !Array.isArray(data);
}

export function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}
