import type { AuditEvent, AuditEventEntity, CodeableConcept } from 'fhir/r4';
import type { Caller } from '../access/caller.js';
import { serverBuilt } from '../search/index/audit-event.js';
import { agentsOf } from './agents.js';
import type { AuditedInteraction } from './interaction.js';
import type { Touched } from './touched.js';
import {
  AGENT_USER_READING,
  AGENT_USER_WRITING,
  ENTITY_PERSON,
  ENTITY_SYSTEM_OBJECT,
  OBSERVER,
  REST,
  RESTFUL_INTERACTION,
  ROLE_DOMAIN_RESOURCE,
  ROLE_PATIENT,
  ROLE_QUERY,
  SOURCE_APPLICATION_SERVER,
} from './vocabulary.js';

export interface RestEventInput {
  interaction: AuditedInteraction;
  caller: Caller;
  recorded: Date;
  /** The HTTP status the request was answered with. */
  status: number;
  /** For a failure: what went wrong, as issue codes (never the diagnostics, which may echo request values). */
  failure?: string;
  touched?: Touched;
  /** The resource a failed request was about (`Type` or `Type/id`), when nothing was answered to name it. */
  target?: string;
  /** A search's query, `path?query` below the base: recorded base64-encoded, as BALP asks. */
  query?: string;
  purposeOfUse?: CodeableConcept[];
}

/** AuditEvent.outcome from the HTTP status: 0 success, 4 minor failure (4xx), 8 serious failure (5xx). */
export function outcomeOf(status: number): '0' | '4' | '8' {
  return status < 400 ? '0' : status < 500 ? '4' : '8';
}

/**
 * A FHIR interaction as an AuditEvent in the BALP shape: type `rest`, the restful-interaction subtype, action,
 * outcome, agents (user, organization, app), this server as observer, and entities: every patient touched, the
 * resources read or written (`Type/id/_history/v`), and a search's query. Only references: no resource content,
 * names or identifiers of patients.
 */
export function restEvent(input: RestEventInput): AuditEvent {
  const { interaction, touched } = input;
  const entity: AuditEventEntity[] = [];
  for (const id of touched?.patients ?? []) entity.push({ what: { reference: `Patient/${id}` }, type: ENTITY_PERSON, role: ROLE_PATIENT });
  const resources = touched?.resources.size ? touched.resources : input.target ? [input.target] : [];
  for (const reference of resources) entity.push({ what: { reference }, type: ENTITY_SYSTEM_OBJECT, role: ROLE_DOMAIN_RESOURCE });
  if (input.query !== undefined) {
    entity.push({ type: ENTITY_SYSTEM_OBJECT, role: ROLE_QUERY, query: Buffer.from(input.query, 'utf8').toString('base64') });
  }
  const writing = interaction.action === 'C' || interaction.action === 'U' || interaction.action === 'D';
  const outcome = outcomeOf(input.status);
  const purposes = [...(input.purposeOfUse ?? []), ...(touched?.purposes ?? []).map((coding) => ({ coding: [coding] }))];
  // Built here, so indexed by hand (server/search/index/audit-event.ts).
  return serverBuilt({
    resourceType: 'AuditEvent',
    type: REST,
    ...(interaction.subtype ? { subtype: [{ system: RESTFUL_INTERACTION, code: interaction.subtype }] } : {}),
    action: interaction.action,
    recorded: input.recorded.toISOString(),
    outcome,
    ...(outcome !== '0' ? { outcomeDesc: `${input.status}${input.failure ? ` ${input.failure}` : ''}` } : {}),
    ...(purposes.length ? { purposeOfEvent: purposes } : {}),
    agent: agentsOf(input.caller, writing ? AGENT_USER_WRITING : AGENT_USER_READING),
    source: { observer: OBSERVER, type: [SOURCE_APPLICATION_SERVER] },
    ...(entity.length ? { entity } : {}),
  });
}
