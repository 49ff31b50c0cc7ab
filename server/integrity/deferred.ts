import type { Caller } from '../access/caller.js';
import { FhirError } from '../fhir/outcome.js';
import type { ResourceStore } from '../store/resource-store.js';
import { checkUnreferenced, type DeletedTarget } from './delete-rule.js';
import type { Integrity } from './settings.js';
import { type CheckedReference, unresolvedTargets } from './target-rule.js';

/**
 * A transaction Bundle's integrity checks, held until all its entries are written: a reference then finds what
 * any entry created (by POST, by PUT, in whatever order the entries run), and a delete is judged with the Bundle's
 * other changes made (a Bundle deleting a referrer and its target together succeeds; one deleting a target that
 * an entry refers to fails). All the Bundle's references are resolved in one query, before it commits.
 */
export class DeferredChecks {
  private readonly references: CheckedReference[] = [];
  private readonly deleted: DeletedTarget[] = [];
  /** The entry now running: its index and how a failure names it (`POST CarePlan`). */
  private entry?: { index: number; label: string };

  constructor(private readonly caller: Caller) {}

  enter(index: number, label: string): void {
    this.entry = { index, label };
  }

  addReferences(references: readonly CheckedReference[]): void {
    const entry = this.entry;
    for (const ref of references) {
      this.references.push(
        entry
          ? { ...ref, prefix: `Bundle.entry[${entry.index}] (${entry.label}): `, where: `Bundle.entry[${entry.index}].resource${ref.expression.slice(ref.expression.indexOf('.'))}` }
          : ref,
      );
    }
  }

  addDelete(type: string, id: string): void {
    this.deleted.push({ type, id, ...(this.entry ? { prefix: `Bundle.entry[${this.entry.index}] (${this.entry.label}): ` } : {}) });
  }

  /** After the Bundle's writes, inside its transaction: a failure rolls the whole Bundle back. */
  async verify(store: ResourceStore, integrity: Integrity): Promise<void> {
    const issues = await unresolvedTargets(this.references, store, this.caller, integrity);
    if (issues.length) throw new FhirError(422, issues);
    await checkUnreferenced(this.deleted, store, this.caller, integrity);
  }
}
