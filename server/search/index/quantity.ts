import type { Money, Quantity, Range } from 'fhir/r4';
import { decimalRange, numberText, type DecimalRange } from './decimal.js';
import { isRecord, nonEmptyString, type Converter, type QuantityValue } from './values.js';

/** Quantity and its profiles, which the R4 model types by their own names. */
const QUANTITY_TYPES = new Set(['Quantity', 'SimpleQuantity', 'MoneyQuantity', 'Age', 'Count', 'Distance', 'Duration']);

const ISO_4217 = 'urn:iso:std:iso:4217';

/**
 * quantity parameters. The value's precision gives its range as for numbers. Quantity.comparator (`<5`) is not
 * represented: R4 search says nothing of stored comparators. SampledData (Observation value-quantity) holds a
 * series, not a quantity, and is not indexed.
 */
export const toQuantities: Converter<QuantityValue> = (value) => {
  if (!isRecord(value.data)) return undefined;
  if (QUANTITY_TYPES.has(value.type)) return fromQuantity(value.data as Quantity);
  if (value.type === 'Money') return fromMoney(value.data as Money);
  if (value.type === 'Range') return fromRange(value.data as Range);
  if (value.type === 'SampledData') return [];
  return undefined;
};

function fromQuantity(quantity: Quantity): QuantityValue[] {
  const text = numberText(quantity.value);
  const range = text === undefined ? undefined : decimalRange(text);
  if (!range) return [];
  return [{ ...range, ...units(quantity) }];
}

/** Money is a value in a currency: the currency code is the unit code, in the ISO 4217 system. */
function fromMoney(money: Money): QuantityValue[] {
  const text = numberText(money.value);
  const range = text === undefined ? undefined : decimalRange(text);
  if (!range) return [];
  const currency = nonEmptyString(money.currency) ?? null;
  return [{ ...range, system: currency ? ISO_4217 : null, code: currency, unit: null }];
}

/**
 * A Range covers from its low's lower precision bound to its high's upper one. The index tables hold no NULL
 * bounds, so a missing end is PostgreSQL numeric's `-Infinity`/`Infinity`; `value` is the low (else the high) as
 * written, which only sorting would use.
 */
function fromRange(range: Range): QuantityValue[] {
  const low = rangeEnd(range.low);
  const high = rangeEnd(range.high);
  const given = low ?? high;
  if (!given) return [];
  return [
    {
      value: given.value,
      low: low?.low ?? '-Infinity',
      high: high?.high ?? 'Infinity',
      ...units((low ? range.low : range.high) ?? {}),
    },
  ];
}

function rangeEnd(quantity: Quantity | undefined): DecimalRange | undefined {
  const text = quantity ? numberText(quantity.value) : undefined;
  return text === undefined ? undefined : decimalRange(text);
}

function units(quantity: Quantity): Pick<QuantityValue, 'system' | 'code' | 'unit'> {
  return {
    system: nonEmptyString(quantity.system) ?? null,
    code: nonEmptyString(quantity.code) ?? null,
    unit: nonEmptyString(quantity.unit) ?? null,
  };
}
