import type { Bundle } from 'fhir/r4';
import type { Actor } from './requests.js';

/** What the population is asked for: how many patients, whose plans (host) and whose registrations (partners). */
export interface PopulationRequest {
  patients: number;
  host: string;
  partners: string[];
}

/**
 * Where the generated patients come from: transaction Bundles (bench/generate, handed in by scripts/demo.mjs,
 * so that the server's code does not depend on the benchmarks'). Resources with their own ids are PUT.
 */
export type PopulationSource = (request: PopulationRequest) => Iterable<Bundle>;

/** `Type/id` of every resource the Bundles PUT: none may exist yet. */
export function putKeys(bundles: Bundle[]): string[] {
  return bundles.flatMap((bundle) => (bundle.entry ?? []).flatMap((entry) => (entry.request?.method === 'PUT' ? [entry.request.url] : [])));
}

/** The Bundles, one transaction each, as the import command sends them: by the server itself, validated and audited. */
export async function loadPopulation(server: Actor, bundles: Bundle[]): Promise<{ patients: string[]; resources: number }> {
  const patients: string[] = [];
  let resources = 0;
  for (const bundle of bundles) {
    await server.send('POST', '', bundle);
    for (const entry of bundle.entry ?? []) {
      resources++;
      if (entry.resource?.resourceType === 'Patient' && entry.resource.id) patients.push(entry.resource.id);
    }
  }
  return { patients, resources };
}
