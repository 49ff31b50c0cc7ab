import type { AuditEvent, AuditEventAgent, AuditEventEntity, Coding } from 'fhir/r4';
import type { ExportDisclosure, ExportStep } from '../bulk/disclosure.js';
import { serverBuilt } from '../search/index/audit-event.js';
import { agentsOf } from './agents.js';
import { outcomeOf, type RestEventInput } from './rest-event.js';
import {
  AGENT_USER_READING,
  CLIENT_ID_SYSTEM,
  ENTITY_PERSON,
  ENTITY_SYSTEM_OBJECT,
  OBSERVER,
  RESTFUL_INTERACTION,
  ROLE_DOMAIN_RESOURCE,
  ROLE_PATIENT,
  ROLE_QUERY,
  SOURCE_APPLICATION_SERVER,
} from './vocabulary.js';

const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const OBJECT_ROLE = 'http://terminology.hl7.org/CodeSystem/object-role';

/** IHE BALP's disclosure at the source: DICOM Export, with the ISO 21089 lifecycle event `disclose`. */
const EXPORT: Coding = { system: DCM, code: '110106', display: 'Export' };
const DISCLOSE: Coding = { system: 'http://terminology.hl7.org/CodeSystem/iso-21089-lifecycle', code: 'disclose', display: 'Disclose Record Lifecycle Event' };
/** Which of the export's four requests this was: our own codes (no published code system names them). */
export const EXPORT_STEP_SYSTEM = 'http://ccp-exchange.org/fhir/CodeSystem/bulk-export-step';
const STEP_DISPLAY: Record<ExportStep, string> = { 'kick-off': 'Kick-off', status: 'Status poll', download: 'File download', cancel: 'Cancel' };
/** The export's participants: this server the source, the client that asked the destination. */
const SOURCE_ROLE: Coding = { system: DCM, code: '110153', display: 'Source Role ID' };
const DESTINATION_ROLE: Coding = { system: DCM, code: '110152', display: 'Destination Role ID' };
/** object-role 20 Job (the export job), 3 Report (one of its files). */
const ROLE_JOB: Coding = { system: OBJECT_ROLE, code: '20', display: 'Job' };
const ROLE_REPORT: Coding = { system: OBJECT_ROLE, code: '3', display: 'Report' };
/** Identifier systems of the jobs and their files, which are no FHIR resources. */
export const EXPORT_JOB_SYSTEM = 'http://ccp-exchange.org/fhir/sid/bulk-export-job';
export const EXPORT_FILE_SYSTEM = 'http://ccp-exchange.org/fhir/sid/bulk-export-file';

/**
 * A bulk export request as an AuditEvent in IHE BALP's export shape (Privacy Disclosure at the source): type DICOM
 * Export, subtypes the RESTful `operation`, the export step and, when data left (a file downloaded, the complete
 * manifest answered), ISO 21089 `disclose`; the person, organization and app that asked as in every event, this
 * server as the source and the client as the destination; entities the job (its types), the kick-off's request
 * (base64, as BALP records a query), the file (its type and count), the Group read, and the patients a restricted
 * export contained. Ids and counts only: never what the files hold.
 */
export function exportEvent(input: RestEventInput, step: ExportStep, disclosure: ExportDisclosure | undefined, job: string | undefined): AuditEvent {
  const outcome = outcomeOf(input.status);
  const disclosed = outcome === '0' && (disclosure?.complete === true || (step === 'download' && disclosure?.file !== undefined));
  const agent: AuditEventAgent[] = [
    ...agentsOf(input.caller, AGENT_USER_READING),
    { type: { coding: [SOURCE_ROLE] }, who: { display: OBSERVER.display }, requestor: false },
  ];
  if (input.caller.clientId) agent.push({ type: { coding: [DESTINATION_ROLE] }, who: { identifier: { system: CLIENT_ID_SYSTEM, value: input.caller.clientId } }, requestor: false });
  const entity: AuditEventEntity[] = [];
  const jobId = disclosure?.job ?? job;
  if (jobId) {
    entity.push({
      what: { identifier: { system: EXPORT_JOB_SYSTEM, value: jobId } },
      type: ENTITY_SYSTEM_OBJECT,
      role: ROLE_JOB,
      ...(disclosure?.types?.length ? { detail: [{ type: 'types', valueString: disclosure.types.join(',') }] } : {}),
    });
  }
  if (disclosure?.request) entity.push({ type: ENTITY_SYSTEM_OBJECT, role: ROLE_QUERY, query: Buffer.from(disclosure.request, 'utf8').toString('base64') });
  if (disclosure?.file && jobId) {
    entity.push({
      what: { identifier: { system: EXPORT_FILE_SYSTEM, value: `${jobId}/${disclosure.file.number}` } },
      type: ENTITY_SYSTEM_OBJECT,
      role: ROLE_REPORT,
      detail: [
        { type: 'resource-type', valueString: disclosure.file.type },
        { type: 'count', valueString: String(disclosure.file.count) },
      ],
    });
  }
  const patients = new Set<string>([...(input.touched?.patients ?? []).values()].map((id) => `Patient/${id}`));
  for (const patient of disclosure?.patients ?? []) if (patient.reference) patients.add(patient.reference);
  for (const reference of patients) entity.push({ what: { reference }, type: ENTITY_PERSON, role: ROLE_PATIENT });
  for (const reference of input.touched?.resources ?? []) entity.push({ what: { reference }, type: ENTITY_SYSTEM_OBJECT, role: ROLE_DOMAIN_RESOURCE });
  if (!input.touched?.resources.size && input.target) entity.push({ what: { reference: input.target }, type: ENTITY_SYSTEM_OBJECT, role: ROLE_DOMAIN_RESOURCE });
  return serverBuilt({
    resourceType: 'AuditEvent',
    type: EXPORT,
    subtype: [
      { system: RESTFUL_INTERACTION, code: 'operation' },
      { system: EXPORT_STEP_SYSTEM, code: step, display: STEP_DISPLAY[step] },
      ...(disclosed ? [DISCLOSE] : []),
    ],
    action: input.interaction.action,
    recorded: input.recorded.toISOString(),
    outcome,
    ...(outcome !== '0' ? { outcomeDesc: `${input.status}${input.failure ? ` ${input.failure}` : ''}` } : {}),
    agent,
    source: { observer: OBSERVER, type: [SOURCE_APPLICATION_SERVER] },
    ...(entity.length ? { entity } : {}),
  });
}
