import type { Coding } from 'fhir/r4';

/**
 * The codes of the audit trail, as IHE Basic Audit Log Patterns (BALP) and the R4 AuditEvent bindings use them.
 * Agents and entities are told apart by their `type` coding, so searches (`agent-role`, `entity-type`) and
 * readers can pick them out.
 */
const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const PARTICIPATION = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';

/** AuditEvent.type of every FHIR interaction. */
export const REST: Coding = { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest', display: 'Restful Operation' };
export const RESTFUL_INTERACTION = 'http://hl7.org/fhir/restful-interaction';

/** AuditEvent.type of sign-in and sign-out (DICOM User Authentication) and their subtypes. */
export const USER_AUTHENTICATION: Coding = { system: DCM, code: '110114', display: 'User Authentication' };
export const LOGIN: Coding = { system: DCM, code: '110122', display: 'Login' };
export const LOGOUT: Coding = { system: DCM, code: '110123', display: 'Logout' };
/**
 * An operator's reset of an account's password or a client's secret (`npm run demo` adopting the first-start
 * accounts): DICOM Security Alert, subtype User Security Attributes Changed.
 */
export const SECURITY_ALERT: Coding = { system: DCM, code: '110113', display: 'Security Alert' };
export const SECURITY_ATTRIBUTES_CHANGED: Coding = { system: DCM, code: '110137', display: 'User Security Attributes Changed' };
/**
 * Token issue has no BALP pattern of its own: it is recorded as a User Authentication (of the client, and of the
 * user whose grant it is) whose subtype is the OAuth grant type, in this server's code system (docs/AUDIT.md).
 */
export const TOKEN_GRANT_SYSTEM = 'http://ccp-exchange.org/fhir/CodeSystem/token-grant';

/** Agent types: the person (reading: information recipient; writing: author), the app (or this server itself), the organization. */
export const AGENT_USER_READING: Coding = { system: PARTICIPATION, code: 'IRCP', display: 'information recipient' };
export const AGENT_USER_WRITING: Coding = { system: PARTICIPATION, code: 'AUT', display: 'author (originator)' };
export const AGENT_APPLICATION: Coding = { system: DCM, code: '110150', display: 'Application' };
export const AGENT_ORGANIZATION: Coding = { system: PARTICIPATION, code: 'RESP', display: 'responsible party' };

/** Identifier systems of our own accounts and OAuth clients (no FHIR resource stands for them). */
export const USER_ID_SYSTEM = 'http://ccp-exchange.org/fhir/sid/user-id';
export const CLIENT_ID_SYSTEM = 'http://ccp-exchange.org/fhir/sid/client-id';

/** AuditEvent.source.type: this server is an application server. */
export const SOURCE_APPLICATION_SERVER: Coding = { system: 'http://terminology.hl7.org/CodeSystem/security-source-type', code: '4', display: 'Application Server' };
export const OBSERVER = { display: 'CCP Exchange' } as const;

/** Entity types and roles (R4 audit-entity-type and object-role). */
const ENTITY_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-entity-type';
const OBJECT_ROLE = 'http://terminology.hl7.org/CodeSystem/object-role';
export const ENTITY_PERSON: Coding = { system: ENTITY_TYPE, code: '1', display: 'Person' };
export const ENTITY_SYSTEM_OBJECT: Coding = { system: ENTITY_TYPE, code: '2', display: 'System Object' };
export const ROLE_PATIENT: Coding = { system: OBJECT_ROLE, code: '1', display: 'Patient' };
export const ROLE_DOMAIN_RESOURCE: Coding = { system: OBJECT_ROLE, code: '4', display: 'Domain Resource' };
export const ROLE_QUERY: Coding = { system: OBJECT_ROLE, code: '24', display: 'Query' };
export const ROLE_SECURITY_RESOURCE: Coding = { system: OBJECT_ROLE, code: '13', display: 'Security Resource' };
