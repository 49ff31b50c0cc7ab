/** A value for use inside a LIKE pattern, its wildcards taken literally (PostgreSQL's default escape is `\`). */
export function likeLiteral(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}
