// "update CarePlan with If-Match": every request must name the current version, so each connection updates a plan
// of its own and keeps that plan's version from the ETag of its previous response. No two requests ever race for
// one plan, and a 412 here would be a fault of the server (or of this file), never of the load.
import { call } from './harness.mjs';

/** `count` ordinary (not CCP) CarePlans of `patient`, one per connection, with their current versions. */
export async function createPlans(base, token, patient, count) {
  const plans = [];
  for (let i = 0; i < count; i += 1) {
    const body = { resourceType: 'CarePlan', status: 'draft', intent: 'plan', subject: { reference: `Patient/${patient}` }, description: `benchmark plan ${i}` };
    const created = await call(base, token, 'POST', '/fhir/CarePlan', body, [201]);
    plans.push({ id: created.body.id, version: versionOf(created.etag) ?? created.body.meta.versionId, body: { ...body, id: created.body.id } });
  }
  return plans;
}

/**
 * autocannon's `setupClient`: hands each new connection the next plan, and gives the connection its own request,
 * whose If-Match is rebuilt before every send from the version its last response reported. (autocannon's
 * per-request `context` is reset after each pass through the request list, so the state lives here instead.)
 */
export function planPerConnection(plans) {
  let next = 0;
  return (client) => {
    const plan = plans[next++ % plans.length];
    let edit = 0;
    client.setRequests([
      {
        method: 'PUT',
        path: `/fhir/CarePlan/${plan.id}`,
        // Each version differs from the last, so no update can be taken for a no-op.
        setupRequest: (request) => ({
          ...request,
          headers: { ...request.headers, 'if-match': `W/"${plan.version}"` },
          body: JSON.stringify({ ...plan.body, description: `benchmark plan, edit ${(edit += 1)}` }),
        }),
        onResponse: (status, _body, _context, headers) => {
          const version = versionOf(headerOf(headers, 'etag'));
          if (status === 200 && version) plan.version = version;
        },
      },
    ]);
  };
}

/** The version in an ETag `W/"3"`. */
function versionOf(etag) {
  return /^W\/"([^"]+)"$/.exec(etag ?? '')?.[1];
}

function headerOf(headers, name) {
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  const value = key ? headers[key] : undefined;
  return Array.isArray(value) ? value[0] : value;
}
