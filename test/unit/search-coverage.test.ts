import type { Resource } from 'fhir/r4';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { compileExpression } from '../../server/search/index/expression.js';
import { extractIndexRows } from '../../server/search/index/extract.js';
import { R4_REGISTRY } from '../../server/search/registry.js';
import type { IndexRows } from '../../server/search/types.js';
import { EXAMPLES_DIR } from '../support/search-examples.js';

/**
 * Parameters whose expressions select, in some official example, an item their type cannot index, and why that
 * is right. Anything new here means a datatype the converters do not know.
 */
const KNOWN_UNINDEXED: Record<string, string> = {
  'Bundle.composition': 'Bundle.entry[0].resource is a resource, not a reference: a chained search into the Bundle',
  'Bundle.message': 'Bundle.entry[0].resource is a resource, not a reference: a chained search into the Bundle',
  'CarePlan.activity-date': 'activity.detail.scheduledString is free text, not a date',
  'Immunization.date': 'occurrenceString is free text, not a date',
  'Consent.source-reference': 'Consent.source may be an Attachment, which no reference matches',
  'Group.characteristic-value': 'a characteristic valued by a Reference has no token for the Group-value component',
};

function allExamples(): { file: string; resource: Resource }[] {
  return readdirSync(EXAMPLES_DIR)
    .filter((file) => file.endsWith('.json') && file !== 'package.json' && !file.startsWith('.'))
    .map((file) => ({ file, resource: JSON.parse(readFileSync(path.join(EXAMPLES_DIR, file), 'utf8')) as Resource }))
    .filter(({ resource }) => typeof resource.resourceType === 'string');
}

/**
 * One pass over every example does all the checking: each is indexed once, its rows counted, anything its types
 * cannot index noted, and its JSON compared before and after (it is stored after indexing). A second, warm pass
 * that only timed extraction and a third that indexed every example again for the before/after comparison were
 * two thirds of the suite's time; speed is the benchmarks' business (bench/), never a test's.
 */
interface Pass {
  examples: number;
  counts: Record<string, number>;
  unindexed: Map<string, Set<string>>;
  failures: string[];
  changed: string[];
}

function indexEveryExample(): Pass {
  const examples = allExamples();
  const pass: Pass = { examples: examples.length, counts: {}, unindexed: new Map(), failures: [], changed: [] };
  const started = performance.now();
  for (const { file, resource } of examples) {
    const before = JSON.stringify(resource);
    try {
      const rows = extractIndexRows(resource, R4_REGISTRY, {
        onUnindexed: (definition, valueType) => {
          const key = `${definition.base}.${definition.code}`;
          pass.unindexed.set(key, (pass.unindexed.get(key) ?? new Set()).add(valueType));
        },
      });
      for (const [table, list] of Object.entries(rows) as [keyof IndexRows, unknown[]][]) {
        pass.counts[table] = (pass.counts[table] ?? 0) + list.length;
      }
    } catch (error) {
      pass.failures.push(`${file}: ${(error as Error).message}`);
    }
    if (JSON.stringify(resource) !== before) pass.changed.push(file);
  }
  console.log(
    `search index extraction: ${examples.length} examples, rows per type ${JSON.stringify(pass.counts)}; ` +
      `one pass (compiling included) ${(performance.now() - started).toFixed(0)} ms`,
  );
  return pass;
}

describe('index extraction over every official R4 example', () => {
  let pass: Pass;
  beforeAll(() => {
    pass = indexEveryExample();
  });

  it('runs without throwing and indexes only datatypes it knows', () => {
    expect(pass.examples).toBeGreaterThan(5000);
    expect(pass.failures).toEqual([]);
    const unexpected = [...pass.unindexed].filter(([key]) => !(key in KNOWN_UNINDEXED)).map(([k, t]) => `${k} <- ${[...t]}`);
    expect(unexpected).toEqual([]);
  });

  it('compiles each expression once', () => {
    const expression = R4_REGISTRY.get('Patient', 'name')?.expression ?? '';
    expect(compileExpression(expression)).toBe(compileExpression(expression));
  });

  it('leaves the resource as it was (it is stored after indexing)', () => {
    expect(pass.examples).toBeGreaterThan(5000);
    expect(pass.changed).toEqual([]);
  });
});
