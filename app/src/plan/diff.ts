/** One difference between two versions of a resource, at a path like `activity[0].detail.status`. */
export interface Change {
  path: string;
  kind: 'added' | 'removed' | 'changed';
  before?: unknown;
  after?: unknown;
}

/**
 * Elements that change on every write and say nothing a reader wants to compare: `meta` (version and time,
 * shown beside the version) and the generated narrative (`text`), which only restates the content.
 */
const IGNORED = new Set(['meta', 'text']);

/**
 * What changed from `before` to `after`, leaf by leaf, in document order. Lists of references (goals,
 * concerns, care teams) are compared as sets by reference, so a goal added first does not show every other
 * goal as changed; other lists by position.
 */
export function diffResources(before: object, after: object): Change[] {
  const changes: Change[] = [];
  compareObjects(before as Record<string, unknown>, after as Record<string, unknown>, '', changes, true);
  return changes;
}

function compareObjects(before: Record<string, unknown>, after: Record<string, unknown>, path: string, changes: Change[], top = false): void {
  const keys = [...Object.keys(before), ...Object.keys(after).filter((key) => !(key in before))];
  for (const key of keys) {
    if (top && IGNORED.has(key)) continue;
    compare(before[key], after[key], path ? `${path}.${key}` : key, changes);
  }
}

function compare(before: unknown, after: unknown, path: string, changes: Change[]): void {
  if (before === undefined && after === undefined) return;
  if (before === undefined) return void changes.push({ path, kind: 'added', after });
  if (after === undefined) return void changes.push({ path, kind: 'removed', before });
  if (Array.isArray(before) && Array.isArray(after)) {
    if (isReferenceList(before) && isReferenceList(after)) return compareReferenceLists(before, after, path, changes);
    for (let n = 0; n < Math.max(before.length, after.length); n++) compare(before[n], after[n], `${path}[${n}]`, changes);
    return;
  }
  if (isObject(before) && isObject(after)) return compareObjects(before, after, path, changes);
  if (!sameValue(before, after)) changes.push({ path, kind: 'changed', before, after });
}

type ReferenceItem = { reference: string; display?: string };

function isReferenceList(list: unknown[]): list is ReferenceItem[] {
  return list.length > 0 && list.every((item) => isObject(item) && typeof item.reference === 'string' && Object.keys(item).every((key) => key === 'reference' || key === 'display'));
}

function compareReferenceLists(before: ReferenceItem[], after: ReferenceItem[], path: string, changes: Change[]): void {
  const had = new Set(before.map((item) => item.reference));
  const has = new Set(after.map((item) => item.reference));
  for (const item of before) if (!has.has(item.reference)) changes.push({ path, kind: 'removed', before: item });
  for (const item of after) if (!had.has(item.reference)) changes.push({ path, kind: 'added', after: item });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) || Array.isArray(b) || isObject(a) || isObject(b)) return JSON.stringify(a) === JSON.stringify(b);
  return a === b;
}

const SECTIONS: Record<string, string> = {
  status: 'Status',
  intent: 'Intent',
  title: 'Title',
  description: 'Description',
  period: 'Period',
  goal: 'Goals',
  addresses: 'Health concerns',
  activity: 'Activities',
  careTeam: 'Care team',
  note: 'Notes',
  extension: 'Review date and other extensions',
  author: 'Author',
  contributor: 'Contributors',
  subject: 'Patient',
  category: 'Category',
};

/** The part of the plan a change is in, in words (the path's first element). */
export function sectionOf(change: Change): string {
  const first = /^[A-Za-z]+/.exec(change.path)?.[0] ?? change.path;
  return SECTIONS[first] ?? first;
}

/**
 * A changed value in short words: strings as they are, references by display or reference, a text-only
 * element by its text, lists item by item, other elements as `name: value` pairs (never raw JSON).
 */
export function valueText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.map(valueText).join('; ');
  if (isObject(value)) {
    if (typeof value.reference === 'string') return typeof value.display === 'string' ? `${value.display} (${value.reference})` : value.reference;
    if (typeof value.text === 'string' && Object.keys(value).length === 1) return value.text;
    return Object.entries(value)
      .map(([key, item]) => (isObject(item) || Array.isArray(item) ? `${key} (${valueText(item)})` : `${key}: ${valueText(item)}`))
      .join(', ');
  }
  return String(value);
}
