import type { AuditEvent, AuditEventAgent } from 'fhir/r4';
import type { Caller } from '../access/caller.js';
import { serverBuilt } from '../search/index/audit-event.js';
import { agentsOf } from './agents.js';
import { outcomeOf } from './rest-event.js';
import {
  AGENT_APPLICATION,
  AGENT_USER_READING,
  AGENT_USER_WRITING,
  CLIENT_ID_SYSTEM,
  ENTITY_SYSTEM_OBJECT,
  LOGIN,
  LOGOUT,
  OBSERVER,
  ROLE_SECURITY_RESOURCE,
  SECURITY_ALERT,
  SECURITY_ATTRIBUTES_CHANGED,
  SOURCE_APPLICATION_SERVER,
  TOKEN_GRANT_SYSTEM,
  USER_AUTHENTICATION,
  USER_ID_SYSTEM,
} from './vocabulary.js';

/**
 * Sign-in (success or failure), sign-out and token issue as AuditEvents (DICOM User Authentication). A failed
 * sign-in names no one: the username typed may be someone else's, or a password typed in the wrong field.
 */
export interface SignInAttempt {
  /** The account signed in to; absent for a failure, whose account is not known. */
  userId?: string;
  /** The app the sign-in was for. */
  clientId?: string;
  method: 'password' | 'federated';
}

export function signInEvent(attempt: SignInAttempt, recorded = new Date()): AuditEvent {
  const agent: AuditEventAgent[] = [userAgent(attempt.userId)];
  if (attempt.clientId) agent.push(appAgent(attempt.clientId));
  return authentication(LOGIN, attempt.userId ? 200 : 401, agent, recorded, attempt.userId ? undefined : `${attempt.method} sign-in failed`);
}

export function signOutEvent(userId: string | undefined, recorded = new Date()): AuditEvent {
  return authentication(LOGOUT, 200, [userAgent(userId)], recorded);
}

/** A token issued by `grantType` to the caller it now stands for (its client, user and organization). */
export function tokenIssuedEvent(caller: Caller, grantType: string, recorded = new Date()): AuditEvent {
  return authentication({ system: TOKEN_GRANT_SYSTEM, code: grantType }, 200, agentsOf(caller, AGENT_USER_READING), recorded);
}

/**
 * A new password for an account, or a new secret for a client, set by `by` (no admin API request: those are
 * not FHIR requests): a caller, or a command run on the server's machine, named as it names itself with whoever
 * ran it (`npm run reset-admin`). The entity names the account or client by identifier, as agents name them;
 * never the secret.
 */
export function credentialsResetEvent(target: { userId: string } | { clientId: string }, by: Caller | { command: string }, recorded = new Date()): AuditEvent {
  const identifier = 'userId' in target ? { system: USER_ID_SYSTEM, value: target.userId } : { system: CLIENT_ID_SYSTEM, value: target.clientId };
  return serverBuilt({
    resourceType: 'AuditEvent',
    type: SECURITY_ALERT,
    subtype: [SECURITY_ATTRIBUTES_CHANGED],
    action: 'U',
    recorded: recorded.toISOString(),
    outcome: outcomeOf(200),
    agent: 'command' in by ? [{ type: { coding: [AGENT_APPLICATION] }, who: { display: by.command }, requestor: true }] : agentsOf(by, AGENT_USER_WRITING),
    source: { observer: OBSERVER, type: [SOURCE_APPLICATION_SERVER] },
    entity: [{ what: { identifier }, type: ENTITY_SYSTEM_OBJECT, role: ROLE_SECURITY_RESOURCE, description: 'userId' in target ? 'password reset' : 'client secret reset' }],
  });
}

function authentication(subtype: AuditEvent['type'], status: number, agent: AuditEventAgent[], recorded: Date, failure?: string): AuditEvent {
  const outcome = outcomeOf(status);
  return serverBuilt({
    resourceType: 'AuditEvent',
    type: USER_AUTHENTICATION,
    subtype: [subtype],
    action: 'E',
    recorded: recorded.toISOString(),
    outcome,
    ...(failure ? { outcomeDesc: failure } : {}),
    agent,
    source: { observer: OBSERVER, type: [SOURCE_APPLICATION_SERVER] },
  });
}

function userAgent(userId: string | undefined): AuditEventAgent {
  return userId
    ? { type: { coding: [AGENT_USER_READING] }, who: { identifier: { system: USER_ID_SYSTEM, value: userId } }, altId: userId, requestor: true }
    : { type: { coding: [AGENT_USER_READING] }, who: { display: 'unidentified user' }, requestor: true };
}

function appAgent(clientId: string): AuditEventAgent {
  return { type: { coding: [AGENT_APPLICATION] }, who: { identifier: { system: CLIENT_ID_SYSTEM, value: clientId } }, requestor: false };
}
