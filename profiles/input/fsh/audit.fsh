// The AuditEvent of every FHIR interaction (docs/AUDIT.md, server/audit/rest-event.ts), in the shape of IHE Basic
// Audit Log Patterns (BALP): a base profile for all REST events and BALP's read, query and create patterns on it.

Invariant: ccp-audit-1
Description: "The action follows the interaction: R for read, vread and history; E for searches, operations and Bundles; C create; U update and patch; D delete."
Expression: "(subtype.where(code in ('read' | 'vread' | 'history-instance' | 'history-type' | 'history-system')).exists() implies action = 'R') and (subtype.where(code in ('search-type' | 'search-system' | 'operation' | 'transaction' | 'batch')).exists() implies action = 'E') and (subtype.where(code = 'create').exists() implies action = 'C') and (subtype.where(code in ('update' | 'patch')).exists() implies action = 'U') and (subtype.where(code = 'delete').exists() implies action = 'D')"
Severity: #error

Invariant: ccp-audit-2
Description: "A failure says what failed: its HTTP status and issue codes."
Expression: "outcome != '0' implies outcomeDesc.exists()"
Severity: #error

Invariant: ccp-audit-3
Description: "Exactly one agent is the requestor."
Expression: "agent.where(requestor = true).count() = 1"
Severity: #error

Profile: CCPRestAuditEvent
Parent: AuditEvent
Id: ccp-rest-audit-event
Title: "CCP REST AuditEvent"
Description: "One FHIR interaction with CCP Exchange, recorded before its answer (reads) or with its write: who asked (user, organization, app), what interaction, the outcome, the patients touched and the resources read or written, by reference only."
* obeys ccp-audit-1 and ccp-audit-2 and ccp-audit-3
* type = $audit-event-type#rest
* subtype 1..1 MS
* subtype from CCPRestfulInteractionVS (required)
* action 1..1 MS
* recorded MS
* outcome 1..1 MS
* outcomeDesc MS
* purposeOfEvent MS
* agent MS
* agent ^slicing.discriminator.type = #pattern
* agent ^slicing.discriminator.path = "type"
* agent ^slicing.rules = #open
* agent ^slicing.description = "Agents are told apart by their type."
* agent contains userReading 0..1 MS and userWriting 0..1 MS and organization 0..1 MS and application 0..* MS
* agent[userReading].type = $v3-ParticipationType#IRCP
* agent[userReading] ^short = "The user, reading or searching (information recipient)"
* agent[userReading].who 1..1
* agent[userReading].who only Reference(Practitioner)
* agent[userReading].who.identifier 1..1
* agent[userReading].who.identifier.system = $sid-user-id
* agent[userReading].altId 1..1
* agent[userReading].requestor = true
* agent[userWriting].type = $v3-ParticipationType#AUT
* agent[userWriting] ^short = "The user, writing (author)"
* agent[userWriting].who 1..1
* agent[userWriting].who only Reference(Practitioner)
* agent[userWriting].who.identifier 1..1
* agent[userWriting].who.identifier.system = $sid-user-id
* agent[userWriting].altId 1..1
* agent[userWriting].requestor = true
* agent[organization].type = $v3-ParticipationType#RESP
* agent[organization] ^short = "The organization the caller acts for"
* agent[organization].who 1..1
* agent[organization].who only Reference(Organization)
* agent[organization].who.reference 1..1
* agent[organization].requestor = false
* agent[application].type = $DCM#110150
* agent[application] ^short = "The app (OAuth client), or the server itself"
* agent[application].who 1..1
* source MS
* source.observer.display 1..1
* source.type 1..1 MS
* source.type = $security-source-type#4
* entity MS
* entity ^slicing.discriminator.type = #pattern
* entity ^slicing.discriminator.path = "role"
* entity ^slicing.rules = #open
* entity ^slicing.description = "Entities are told apart by their role."
* entity contains patient 0..* MS and resource 0..* MS and query 0..1 MS
* entity[patient].role = $object-role#1
* entity[patient].type = $audit-entity-type#1
* entity[patient].what 1..1
* entity[patient].what only Reference(Patient)
* entity[patient].what.reference 1..1
* entity[resource].role = $object-role#4
* entity[resource].type = $audit-entity-type#2
* entity[resource].what 1..1
* entity[resource].what.reference 1..1
* entity[resource].what.reference ^short = "Type/id/_history/version (Type/id for a failed request)"
* entity[query].role = $object-role#24
* entity[query].type = $audit-entity-type#2
* entity[query].query 1..1
* entity[query].query ^short = "base64 of path?query as the client sent it"

Profile: CCPAuditRead
Parent: CCPRestAuditEvent
Id: ccp-audit-read
Title: "CCP AuditEvent: read"
Description: "BALP's read pattern: a read or vread of one resource, with the resource's version (always) and its patients."
* action = #R
* obeys ccp-audit-read-1
// BALP's read names the data read. The server always does: the resource read (Type/id/_history/v), or the Type/id
// a failed read asked for (server/audit/audited.ts, targetOf).
* entity 1..*
* entity[resource] 1..1

Invariant: ccp-audit-read-1
Description: "A read is a read or a vread."
Expression: "subtype.code = 'read' or subtype.code = 'vread'"
Severity: #error

Profile: CCPAuditQuery
Parent: CCPRestAuditEvent
Id: ccp-audit-query
Title: "CCP AuditEvent: query"
Description: "BALP's query pattern: a search, with the query as the client sent it (base64) and the patients of every resource on the page, not every match."
* action = #E
* entity[query] 1..1
* obeys ccp-audit-query-1

Invariant: ccp-audit-query-1
Description: "A query is a type or system search."
Expression: "subtype.code = 'search-type' or subtype.code = 'search-system'"
Severity: #error

Profile: CCPAuditCreate
Parent: CCPRestAuditEvent
Id: ccp-audit-create
Title: "CCP AuditEvent: create"
Description: "BALP's create pattern: the resource created, by its first version, and its patients; a failed create names the type it asked for."
* subtype = $restful-interaction#create
* action = #C
* agent[userReading] 0..0
