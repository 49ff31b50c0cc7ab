/**
 * The distinct rows of one parameter. Duplicates are common (a name's given name also under `name`, a repeated
 * identifier) but a parameter rarely has many rows, so a scan compares them; past a few rows, hashed keys do.
 */
export class UniqueRows<T extends object> {
  readonly rows: T[] = [];
  private keys?: Set<string>;

  add(row: T): void {
    if (this.keys) {
      const key = JSON.stringify(row);
      if (this.keys.has(key)) return;
      this.keys.add(key);
    } else if (this.rows.some((kept) => sameRow(kept, row))) {
      return;
    }
    this.rows.push(row);
    if (!this.keys && this.rows.length >= 16) this.keys = new Set(this.rows.map((kept) => JSON.stringify(kept)));
  }
}

/** Index rows hold primitives, or (composites) arrays of rows of primitives. */
function sameRow(a: object, b: object): boolean {
  const aKeys = Object.keys(a);
  if (aKeys.length !== Object.keys(b).length) return false;
  for (const key of aKeys) {
    const x: unknown = (a as Record<string, unknown>)[key];
    const y: unknown = (b as Record<string, unknown>)[key];
    if (x === y) continue;
    if (!Array.isArray(x) || !Array.isArray(y) || x.length !== y.length) return false;
    if (!x.every((item, i) => sameRow(item as object, y[i] as object))) return false;
  }
  return true;
}
