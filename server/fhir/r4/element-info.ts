/** What the server needs to know about one resource type's elements (paths are below the type, e.g. `contact.name`). */
export interface ElementInfo {
  /** Elements marked isSummary: what `_summary=true` keeps. */
  summary: string[];
  /** Top-level elements with a minimum cardinality of 1: always returned. */
  mandatory: string[];
  /** Elements whose children the resource itself defines (backbone elements). */
  backbone: string[];
  /** Choice elements without their `[x]`: `value` stands for `valueQuantity`, `valueString`… */
  choice: string[];
}
