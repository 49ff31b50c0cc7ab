import type { Annotation, CarePlan, Provenance, ProvenanceAgent } from 'fhir/r4';
import type { Caller } from '../access/caller.js';

export const DATA_OPERATION = 'http://terminology.hl7.org/CodeSystem/v3-DataOperation';
export const ACT_REASON = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';
/**
 * v3-ActReason EIE (entered in error, under _ControlActNullificationReasonCode): "the information was recorded
 * incorrectly or was recorded in the wrong record". FIXDATA would say the data is being corrected in place;
 * a CCP marked entered-in-error is withdrawn, not fixed.
 */
export const ENTERED_IN_ERROR_REASON = 'EIE';
export const PARTICIPANT_TYPE = 'http://terminology.hl7.org/CodeSystem/provenance-participant-type';
/** Who an agent is when it has no FHIR resource: a backend client, or a user account without a Practitioner. */
export const CLIENT_ID_SYSTEM = 'http://ccp-exchange.org/fhir/sid/client-id';
export const USER_ID_SYSTEM = 'http://ccp-exchange.org/fhir/sid/user-id';

/**
 * The trail of a correction: who marked which version of the plan entered-in-error, when, and why. Targets
 * are the new version and the patient (so the consent rules know whose record it is); the version before is
 * the entity revised. R4 Provenance has no note: the reason's text carries the note's words.
 */
export function correctionProvenance(written: CarePlan, patient: string, why: Annotation[], caller: Caller): Provenance {
  const version = Number(written.meta!.versionId);
  return {
    resourceType: 'Provenance',
    target: [{ reference: `CarePlan/${written.id}/_history/${version}` }, { reference: patient }],
    recorded: written.meta!.lastUpdated!,
    activity: { coding: [{ system: DATA_OPERATION, code: 'UPDATE', display: 'revise' }] },
    reason: [{ coding: [{ system: ACT_REASON, code: ENTERED_IN_ERROR_REASON, display: 'entered in error' }], text: why.map((note) => note.text).join('\n\n') }],
    agent: [agentOf(caller)],
    ...(version > 1 ? { entity: [{ role: 'revision' as const, what: { reference: `CarePlan/${written.id}/_history/${version - 1}` } }] } : {}),
  };
}

function agentOf(caller: Caller): ProvenanceAgent {
  const type = { coding: [{ system: PARTICIPANT_TYPE, code: 'author', display: 'Author' }] };
  const onBehalfOf = caller.organization ? { onBehalfOf: { reference: `Organization/${caller.organization}` } } : {};
  if (caller.practitioner) return { type, who: { reference: `Practitioner/${caller.practitioner}` }, ...onBehalfOf };
  if (caller.kind === 'system' && caller.clientId) return { type, who: { identifier: { system: CLIENT_ID_SYSTEM, value: caller.clientId } }, ...onBehalfOf };
  if (caller.userId) return { type, who: { identifier: { system: USER_ID_SYSTEM, value: caller.userId } }, ...onBehalfOf };
  return { type, who: { display: 'CCP Exchange (the server itself)' }, ...onBehalfOf };
}
