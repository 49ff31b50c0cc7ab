/** Numbered parameters for one statement, and `WITH … <final>` assembly. */
export class Statement {
  readonly params: unknown[] = [];
  readonly param = (value: unknown): string => `$${this.params.push(value)}`;

  with(ctes: string[], final: string, recursive = false): string {
    return ctes.length ? `WITH ${recursive ? 'RECURSIVE ' : ''}${ctes.join(',\n')}\n${final}` : final;
  }
}
