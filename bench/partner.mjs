// The consent-held partner of the partner scenarios, made the way docs/CONSENT.md and docs/SECURITY.md describe:
// a host Organization (the server runs with HOSTING_ORGANIZATION set to it) with a backend client of its own, a
// partner Organization with a backend client bound to it (admin API), and the partner registered for some
// patients through `$ccp-register`, each registration approved by the host's client through `$approve`.
import { accessToken, call } from './harness.mjs';

export const HOST_ORGANIZATION = 'bench-host';
const PARTNER_ORGANIZATION = 'bench-partner';
const HOST_SCOPE = 'system/*.cruds';
// What a partner's system needs here: read and search plans, and ask for registrations (a Task).
const PARTNER_SCOPE = 'system/Patient.rs system/CarePlan.rs system/Task.c';

/**
 * Sets the partner up on a freshly started server and checks, once, that it sees what the scenarios measure:
 * the registered patient's plan by id and by search, and nothing for the patient it is not registered for.
 * Resolves with a function giving a fresh partner token (they live five minutes).
 */
export async function setUpPartner(server, ids) {
  const adminToken = await accessToken(server.base, 'local-admin', server.secret, 'system/*.cruds admin');
  for (const [id, name] of [[HOST_ORGANIZATION, 'Benchmark host'], [PARTNER_ORGANIZATION, 'Benchmark partner']]) {
    await call(server.base, adminToken, 'PUT', `/fhir/Organization/${id}`, { resourceType: 'Organization', id, active: true, name });
  }
  const practitioner = (await call(server.base, adminToken, 'POST', '/fhir/Practitioner', { resourceType: 'Practitioner', active: true, name: [{ text: 'Benchmark nurse' }] })).body.id;
  const host = await backendClient(server.base, adminToken, 'bench-host-system', HOST_ORGANIZATION, HOST_SCOPE);
  const partner = await backendClient(server.base, adminToken, 'bench-partner-system', PARTNER_ORGANIZATION, PARTNER_SCOPE);
  const hostToken = await accessToken(server.base, host.clientId, host.secret, HOST_SCOPE);
  const partnerToken = () => accessToken(server.base, partner.clientId, partner.secret, PARTNER_SCOPE);

  const token = await partnerToken();
  const consentObtainedAt = new Date(Date.now() - 3_600_000).toISOString();
  for (const patient of ids.registeredPatients) {
    const registration = await call(server.base, token, 'POST', `/fhir/Patient/${patient}/$ccp-register`, {
      resourceType: 'Parameters',
      parameter: [
        { name: 'level', valueCode: 'view' },
        { name: 'consentObtainedBy', valueReference: { reference: `Practitioner/${practitioner}` } },
        { name: 'consentObtainedAt', valueDateTime: consentObtainedAt },
        { name: 'consentMethod', valueCode: 'verbal' },
      ],
    }, [201]);
    const task = registration.body.parameter.find((p) => p.name === 'task').resource.id;
    await call(server.base, hostToken, 'POST', `/fhir/Task/${task}/$approve`, {
      resourceType: 'Parameters',
      parameter: [{ name: 'reason', valueString: 'benchmark: in the circle of care' }],
    });
  }

  await expectPlans(server.base, token, `/fhir/CarePlan/${ids.carePlan}`, 1, 'the registered patient\'s plan by id');
  await expectPlans(server.base, token, `/fhir/CarePlan?patient=Patient/${ids.carePlanPatient}&status=active`, 1, 'the registered patient\'s active plans');
  // The same search by the host finds plans, so the partner's empty answer is the consent decision.
  await expectPlans(server.base, hostToken, `/fhir/CarePlan?patient=Patient/${ids.unregisteredPatient}&status=active`, 1, 'the unregistered patient\'s active plans, as the host');
  await expectPlans(server.base, token, `/fhir/CarePlan?patient=Patient/${ids.unregisteredPatient}&status=active`, 0, 'the unregistered patient\'s active plans, as the partner');
  return partnerToken;
}

async function backendClient(base, adminToken, clientId, organization, scope) {
  const registered = await call(base, adminToken, 'POST', '/auth/admin/clients', {
    client_id: clientId,
    client_name: `Benchmark ${organization}`,
    kind: 'backend',
    token_endpoint_auth_method: 'client_secret_basic',
    scope,
    organization: `Organization/${organization}`,
  }, [201]);
  return { clientId, secret: registered.body.client_secret };
}

/** A 200 with at least `least` CarePlans (exactly 0 when `least` is 0); anything else stops the run. */
async function expectPlans(base, token, route, least, what) {
  const { body } = await call(base, token, 'GET', route, undefined, [200]);
  const plans = body.resourceType === 'Bundle' ? (body.entry ?? []).filter((e) => e.resource?.resourceType === 'CarePlan').length : Number(body.resourceType === 'CarePlan');
  const total = body.resourceType === 'Bundle' && body.total !== undefined ? body.total : plans;
  if (least === 0 ? plans !== 0 || total !== 0 : plans < least) {
    throw new Error(`partner set-up: ${what} (${route}): ${plans} CarePlans, total ${total}`);
  }
}
