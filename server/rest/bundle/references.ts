/**
 * Every `reference` string in a resource (Reference.reference, at any depth, contained resources included),
 * replaced by what `resolve` returns for it (undefined keeps it).
 */
export function rewriteReferences(node: unknown, resolve: (reference: string) => string | undefined): void {
  if (Array.isArray(node)) {
    for (const item of node) rewriteReferences(item, resolve);
    return;
  }
  if (!node || typeof node !== 'object') return;
  const record = node as Record<string, unknown>;
  for (const [key, value] of Object.entries(record)) {
    if (key === 'reference' && typeof value === 'string') {
      const replaced = resolve(value);
      if (replaced !== undefined) record[key] = replaced;
    } else {
      rewriteReferences(value, resolve);
    }
  }
}
