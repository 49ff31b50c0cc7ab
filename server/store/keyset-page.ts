/**
 * One page of a keyset walk, from the count + 1 rows a page query fetched (in walking order): the rows in
 * display order, and which neighbours exist. Going forward, the extra row means a next page; going back, it
 * means a previous one, and the page we came from is always next. A forward page reached by a cursor has a
 * previous page.
 */
export function keysetPage<Row>(rows: Row[], count: number, direction: 'next' | 'previous' | undefined): { page: Row[]; hasNext: boolean; hasPrevious: boolean } {
  const backwards = direction === 'previous';
  const more = rows.length > count;
  const page = rows.slice(0, count);
  if (backwards) page.reverse();
  return { page, hasNext: page.length > 0 && (backwards || more), hasPrevious: page.length > 0 && (backwards ? more : direction !== undefined) };
}
