/** A decimal and the range its precision implies, as exact decimal strings. */
export interface DecimalRange {
  value: string;
  low: string;
  high: string;
}

const DECIMAL = /^([+-]?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/**
 * R4 search, number: the precision of a value is the number of significant digits written, so `100` is
 * [99.5, 100.5), `100.00` is [99.995, 100.005) and `1e2` is [50, 150). Computed on BigInt digits, so no binary
 * rounding enters the bounds.
 */
export function decimalRange(text: string): DecimalRange | undefined {
  const match = DECIMAL.exec(text.trim());
  if (!match) return undefined;
  const [, sign, whole, fraction = '', exponent = '0'] = match;
  const digits = BigInt(whole + fraction);
  const mantissa = sign === '-' ? -digits : digits;
  // value = mantissa × 10^-scale; half a unit of the last digit is 5 × 10^-(scale + 1).
  const scale = fraction.length - Number(exponent);
  return {
    value: format(mantissa, scale),
    low: format(mantissa * 10n - 5n, scale + 1),
    high: format(mantissa * 10n + 5n, scale + 1),
  };
}

/**
 * The text of a JSON number. Resources arrive through JSON.parse, so the digits as written are already gone:
 * `100.0` reads as 100 and gets the precision of `100`. Exact source digits would need a lossless JSON parser.
 */
export function numberText(data: unknown): string | undefined {
  if (typeof data === 'number') return Number.isFinite(data) ? String(data) : undefined;
  if (typeof data === 'string') return DECIMAL.test(data.trim()) ? data.trim() : undefined;
  return undefined;
}

function format(n: bigint, scale: number): string {
  if (scale <= 0) return (n * 10n ** BigInt(-scale)).toString();
  const negative = n < 0n;
  const digits = (negative ? -n : n).toString().padStart(scale + 1, '0');
  const text = `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return negative ? `-${text}` : text;
}
