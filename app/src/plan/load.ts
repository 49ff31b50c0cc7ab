import type { Bundle, Patient } from 'fhir/r4';
import type { Client } from '../launch/smart.js';
import { historyView, type VersionView } from './history.js';
import { missingReferences, planSearch } from './includes.js';
import { plansView, type PlansView } from './view-model.js';

/** Why a plan cannot be shown. `no-access` is said the same way whether or not a plan exists. */
export type LoadFailure = { kind: 'no-access' } | { kind: 'session-ended' } | { kind: 'error'; message: string };

export function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === 'number' ? status : undefined;
}

/** A failed request in the terms the screens use. 403 and 404 are "no access", never "no plan". */
export function failureOf(error: unknown): LoadFailure {
  const status = statusOf(error);
  if (status === 403 || status === 404) return { kind: 'no-access' };
  if (status === 401) return { kind: 'session-ended' };
  return { kind: 'error', message: status ? `The server answered ${status}. Try again; if it happens again, tell your administrator.` : 'The server could not be reached. Check the connection and try again.' };
}

export async function loadPlans(client: Client, target: { carePlan: string } | { patient: string }, today: string): Promise<PlansView | LoadFailure> {
  try {
    const found = await client.request<Bundle>(planSearch(target));
    const bundles: Bundle[] = [found];
    for (const [type, ids] of missingReferences(bundles)) {
      // Names are a courtesy: a type the user may not read leaves the plan's own words (display or reference).
      try {
        bundles.push(await client.request<Bundle>(`${type}?_id=${ids.slice(0, 50).map(encodeURIComponent).join(',')}&_count=50`));
      } catch (error) {
        if (statusOf(error) === 401) return { kind: 'session-ended' };
      }
    }
    const view = plansView(bundles, { wanted: 'carePlan' in target ? target.carePlan : undefined, today });
    return view.plan ? view : { kind: 'no-access' };
  } catch (error) {
    return failureOf(error);
  }
}

export async function loadPatient(client: Client, id: string): Promise<Patient | undefined> {
  try {
    return await client.request<Patient>(`Patient/${encodeURIComponent(id)}`);
  } catch {
    return undefined;
  }
}

export async function loadHistory(client: Client, planId: string): Promise<VersionView[] | LoadFailure> {
  try {
    const history = await client.request<Bundle>(`CarePlan/${encodeURIComponent(planId)}/_history?_count=100`);
    let provenances: Bundle | undefined;
    try {
      provenances = await client.request<Bundle>(`Provenance?target=${encodeURIComponent(`CarePlan/${planId}`)}&_include=Provenance:agent&_count=100`);
    } catch (error) {
      // Who changed it is shown when the user may read the Provenances; the versions are shown either way.
      if (statusOf(error) === 401) return { kind: 'session-ended' };
    }
    const versions = historyView(planId, history, provenances);
    return versions.length ? versions : { kind: 'no-access' };
  } catch (error) {
    return failureOf(error);
  }
}
