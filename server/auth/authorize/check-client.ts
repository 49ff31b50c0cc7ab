import type { ClientStore } from '../clients.js';
import { OAuthError } from '../oauth-error.js';
import type { AuthorizationDraft } from './authorization-request.js';

/** The client is registered, active, and one that users authorize (a SMART app, not a backend service). */
export async function checkClient(draft: AuthorizationDraft, clients: ClientStore): Promise<void> {
  const clientId = draft.params.client_id;
  if (!clientId) throw new OAuthError('invalid_request', 'client_id is required');
  const client = await clients.find(clientId);
  if (!client || !client.active) throw new OAuthError('invalid_client', 'unknown client');
  if (client.kind === 'backend') throw new OAuthError('unauthorized_client', 'a backend service client cannot take part in a user authorization');
  draft.client = client;
  draft.request.clientId = clientId;
}
