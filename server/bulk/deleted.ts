import type { Bundle } from 'fhir/r4';

/**
 * A line of a `_since` export's `deleted` file (Bulk Data 2.0.0, "Response - Complete Status", `deleted`): a Bundle
 * of type transaction whose entries each DELETE a resource removed since `_since`, by `Type/id`. The entries have
 * no resource: a client replays the Bundle against its copy to bring it up to date.
 */
export function deletedBundle(deleted: ReadonlyArray<{ type: string; id: string }>): Bundle {
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: deleted.map(({ type, id }) => ({ request: { method: 'DELETE', url: `${type}/${id}` } })),
  };
}
