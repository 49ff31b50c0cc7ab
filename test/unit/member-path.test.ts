// The walk over plain member paths (server/search/index/member-path.ts) must select exactly what the FHIRPath
// engine selects, with the same datatypes, for every search parameter of every official R4 example it serves.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Resource } from 'fhir/r4';
import { compileFhirPath } from '../../server/search/index/fhirpath.js';
import { compileMemberPath, ENGINE_FALLBACK } from '../../server/search/index/member-path.js';
import { splitUnion, unwrap } from '../../server/search/index/union.js';
import { repair } from '../../server/search/index/expression.js';
import { R4_REGISTRY } from '../../server/search/registry.js';

const require = createRequire(import.meta.url);
const EXAMPLES = dirname(require.resolve('hl7.fhir.r4.examples/package.json'));
// Every resource type's examples, up to four of each: all the element shapes the examples have, at a quarter of the cost.
const files = new Map<string, string[]>();
for (const file of readdirSync(EXAMPLES).filter((f) => /^[A-Z][A-Za-z]+-.+\.json$/.test(f)).sort()) {
  const type = file.slice(0, file.indexOf('-'));
  const list = files.get(type) ?? [];
  if (list.length < 4) files.set(type, [...list, file]);
}
const examples: Resource[] = [...files.values()].flat().map((f) => JSON.parse(readFileSync(join(EXAMPLES, f), 'utf8')) as Resource);

const plain = (values: { type: string; data: unknown }[]) => values.map(({ type, data }) => ({ type, data }));

describe('member paths walked without the engine', () => {
  it('select what the engine selects, with the same datatypes, over the official examples', () => {
    let compared = 0;
    let walked = 0;
    let parts = 0;
    for (const resource of examples) {
      for (const definition of R4_REGISTRY.forType(resource.resourceType)) {
        if (!definition.expression) continue;
        for (const part of splitUnion(repair(definition.expression))) {
          parts++;
          const walk = compileMemberPath(unwrap(part));
          if (!walk) continue;
          walked++;
          const fromWalk = walk(resource);
          if (fromWalk === ENGINE_FALLBACK) continue;
          const fromEngine = compileFhirPath(part)(resource);
          expect({ part, id: resource.id, values: plain(fromWalk) }).toEqual({ part, id: resource.id, values: plain(fromEngine) });
          if (fromEngine.length) compared++;
        }
      }
    }
    // Most parts are plain paths (otherwise the walk would gain nothing), and many selected something to compare.
    expect(walked / parts).toBeGreaterThan(0.5);
    expect(compared).toBeGreaterThan(1000);
  });

  it('leaves filters, functions, choices followed by a member and decimals to the engine', () => {
    expect(compileMemberPath("Patient.telecom.where(system='phone')")).toBeUndefined();
    expect(compileMemberPath('Observation.value.ofType(Quantity)')).toBeUndefined();
    expect(compileMemberPath('Observation.value.code')).toBeUndefined();
    expect(compileMemberPath('RiskAssessment.prediction.probability')).toBeUndefined();
    expect(compileMemberPath('Patient.unknownMember')).toBeUndefined();
  });

  it('selects nothing from a resource of another type, and types each item as the model does', () => {
    const walk = compileMemberPath('Patient.name.given')!;
    expect(walk({ resourceType: 'Practitioner', name: [{ given: ['A'] }] })).toEqual([]);
    expect(plain(walk({ resourceType: 'Patient', name: [{ given: ['A', null, 'B'] }, { family: 'C' }] }))).toEqual([
      { type: 'string', data: 'A' },
      { type: 'string', data: 'B' },
    ]);
    const choice = compileMemberPath('Observation.effective')!;
    expect(plain(choice({ resourceType: 'Observation', effectivePeriod: { start: '2020' } }))).toEqual([{ type: 'Period', data: { start: '2020' } }]);
  });
});
