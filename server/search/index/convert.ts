import type { CompositeComponent } from '../types.js';
import { toDates } from './date.js';
import { toNumbers } from './number.js';
import { toQuantities } from './quantity.js';
import { toReferences } from './reference.js';
import { toStrings } from './string.js';
import { toTokens } from './token.js';
import { toUris } from './uri.js';
import type { ComponentType, FhirValue } from './values.js';

/** A composite's component as a tagged index value, by the type of the component's own parameter. */
export function toComponents(type: ComponentType, value: FhirValue): CompositeComponent[] | undefined {
  switch (type) {
    case 'token':
      return toTokens(value)?.map((v) => ({ type, ...v }));
    case 'quantity':
      return toQuantities(value)?.map((v) => ({ type, ...v }));
    case 'string':
      return toStrings(value)?.map((v) => ({ type, ...v }));
    case 'date':
      return toDates(value)?.map((v) => ({ type, ...v }));
    case 'number':
      return toNumbers(value)?.map((v) => ({ type, ...v }));
    case 'uri':
      return toUris(value)?.map((v) => ({ type, ...v }));
    case 'reference':
      return toReferences(value)?.map((v) => ({ type, ...v }));
  }
}

export function isComponentType(type: string): type is ComponentType {
  return ['token', 'quantity', 'string', 'date', 'number', 'uri', 'reference'].includes(type);
}
