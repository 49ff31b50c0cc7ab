import { decimalRange, numberText } from './decimal.js';
import type { Converter, NumberValue } from './values.js';

const NUMBER_TYPES = new Set(['integer', 'decimal', 'positiveInt', 'unsignedInt']);

/** number parameters: integers take the same precision rule as decimals (`5` is [4.5, 5.5)). */
export const toNumbers: Converter<NumberValue> = (value) => {
  if (!NUMBER_TYPES.has(value.type)) return undefined;
  const text = numberText(value.data);
  const range = text === undefined ? undefined : decimalRange(text);
  return range ? [range] : [];
};
