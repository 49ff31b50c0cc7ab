import type { AuditEventAgent, Coding } from 'fhir/r4';
import type { Caller } from '../access/caller.js';
import { AGENT_APPLICATION, AGENT_ORGANIZATION, CLIENT_ID_SYSTEM, USER_ID_SYSTEM } from './vocabulary.js';

/**
 * The agents of an event: who asked (a user, with their Practitioner when they have one; a backend client; the
 * server itself), the organization they act for, and the app they used. The requestor is the person when there
 * is one, else the app. Privacy auditors find their organization's events by its agent (`agent=Organization/…`).
 */
export function agentsOf(caller: Caller, userType: Coding): AuditEventAgent[] {
  const agents: AuditEventAgent[] = [];
  if (caller.kind === 'user' && caller.userId) {
    agents.push({
      type: { coding: [userType] },
      who: {
        ...(caller.practitioner ? { reference: `Practitioner/${caller.practitioner}` } : {}),
        identifier: { system: USER_ID_SYSTEM, value: caller.userId },
      },
      altId: caller.userId,
      requestor: true,
    });
  } else if (caller.kind === 'unrestricted' || (caller.kind !== 'system' && !caller.clientId)) {
    // The import command or a server without tokens (AUTH_DISABLED): the server answers for the request.
    const who = caller.kind === 'unrestricted' ? 'CCP Exchange (the server itself: import command or AUTH_DISABLED)' : 'anonymous';
    agents.push({ type: { coding: [AGENT_APPLICATION] }, who: { display: who }, requestor: true });
  }
  if (caller.organization) {
    agents.push({ type: { coding: [AGENT_ORGANIZATION] }, who: { reference: `Organization/${caller.organization}` }, requestor: false });
  }
  if (caller.clientId) {
    const requestor = !agents.some((agent) => agent.requestor);
    agents.push({ type: { coding: [AGENT_APPLICATION] }, who: { identifier: { system: CLIENT_ID_SYSTEM, value: caller.clientId } }, requestor });
  }
  // R4 requires an agent: a caller that names no one is recorded as such, never left out.
  if (!agents.some((agent) => agent.requestor)) agents.unshift({ type: { coding: [AGENT_APPLICATION] }, who: { display: 'unidentified caller' }, requestor: true });
  return agents;
}
