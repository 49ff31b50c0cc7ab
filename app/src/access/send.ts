import type { Parameters } from 'fhir/r4';
import type { Client } from '../launch/smart.js';
import { refusalOf, type Refusal } from './request.js';

/**
 * `POST Patient/<id>/$ccp-register` with the signed-in user's token. Sent with fetch rather than fhirclient's
 * request, which reads a refused answer's body into its error message: the form needs the OperationOutcome itself
 * to put each message at its field. The token is renewed first when it is about to end, as fhirclient's requests do.
 */
export async function sendRegistration(client: Client, patientId: string, parameters: Parameters): Promise<{ sent: true } | Refusal> {
  try {
    await client.refreshIfNeeded();
    const authorization = client.getAuthorizationHeader();
    const response = await fetch(`${client.state.serverUrl.replace(/\/$/, '')}/Patient/${encodeURIComponent(patientId)}/$ccp-register`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/fhir+json', Accept: 'application/fhir+json', ...(authorization ? { Authorization: authorization } : {}) },
      body: JSON.stringify(parameters),
    });
    if (response.ok) return { sent: true };
    const body: unknown = await response.json().catch(() => undefined);
    return refusalOf(response.status, body);
  } catch {
    return { message: 'The server could not be reached. Check the connection and try again.', fields: {} };
  }
}
