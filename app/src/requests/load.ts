import type { Bundle } from 'fhir/r4';
import type { Client } from '../launch/smart.js';
import { statusOf } from '../plan/load.js';
import { disengageRequest, errorBody, obtainedBySearch, refusalText, requestRows, requestsSearch, reviewRequest, type RequestRow } from './queue.js';

export type Outcome = { ok: true } | { ok: false; status?: number; message: string };

/** The requests in one state, with the names of who obtained consent where the user may read them. */
export async function loadRequests(client: Client, status: 'requested' | 'completed'): Promise<RequestRow[] | Outcome> {
  try {
    const found = await client.request<Bundle>(requestsSearch(status));
    const bundles: Bundle[] = [found];
    const people = obtainedBySearch(found);
    if (people) {
      try {
        bundles.push(await client.request<Bundle>(people));
      } catch {
        // Names are a courtesy: without them the row shows the reference.
      }
    }
    return requestRows(bundles);
  } catch (error) {
    return { ok: false, status: statusOf(error), message: refusalText('see the registration requests', statusOf(error), errorBody(error)) };
  }
}

async function post(client: Client, action: string, request: { url: string; body: unknown }): Promise<Outcome> {
  try {
    await client.request({ url: request.url, method: 'POST', body: JSON.stringify(request.body), headers: { 'Content-Type': 'application/fhir+json' } });
    return { ok: true };
  } catch (error) {
    return { ok: false, status: statusOf(error), message: refusalText(action, statusOf(error), errorBody(error)) };
  }
}

export const review = (client: Client, taskId: string, decision: 'approve' | 'reject', reason?: string) =>
  post(client, `${decision} registration requests`, reviewRequest(taskId, decision, reason));

export const disengage = (client: Client, patient: string, organization: string) =>
  post(client, 'disengage this organization', disengageRequest(patient, organization));
