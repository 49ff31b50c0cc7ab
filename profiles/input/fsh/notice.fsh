// Service notices (issue 20, seed 002; docs/NOTIFICATIONS.md): what an administrator tells every partner of the
// service itself, as a Communication about no patient. server/conformance/notice-vocabulary.ts reads them.

CodeSystem: CCPNoticeKind
Id: notice-kind
Title: "CCP service notice kind"
Description: "What a service notice is about: the kinds of notice the seeds promise partners."
* ^caseSensitive = true
* ^experimental = false
* #planned-downtime "planned downtime" "The service will be unavailable during a planned window (start and end)."
* #unplanned-outage "unplanned outage" "The service is, or was, unavailable without notice."
* #restored "service restored" "The service is available again after an outage."
* #new-functionality "new functionality" "Something new is available in the service."
* #new-organization "new organization" "An organization was granted access to the service."

CodeSystem: CCPNoticeSeverity
Id: notice-severity
Title: "CCP service notice severity"
Description: "How much a service notice matters to the people who use the service: from information to a disruption of their work."
* ^caseSensitive = true
* ^experimental = false
* #information "information" "Worth knowing; nobody's work is affected."
* #warning "warning" "Work may be affected: some of the service may be slow or unavailable."
* #critical "critical" "Work is affected: the service is, or will be, unavailable."

ValueSet: CCPNoticeKindVS
Id: notice-kind
Title: "CCP service notice kinds"
Description: "The kinds of service notice."
* ^experimental = false
* include codes from system CCPNoticeKind

ValueSet: CCPNoticeSeverityVS
Id: notice-severity
Title: "CCP service notice severities"
Description: "The severities of service notices."
* ^experimental = false
* include codes from system CCPNoticeSeverity

ValueSet: CCPNoticeStatusVS
Id: notice-status
Title: "CCP service notice statuses"
Description: "A notice is in progress while it is current, completed once it is over, or entered in error."
* ^experimental = false
* http://hl7.org/fhir/event-status#in-progress "In Progress"
* http://hl7.org/fhir/event-status#completed "Completed"
* http://hl7.org/fhir/event-status#entered-in-error "Entered in Error"

Extension: CCPNoticeSeverityExtension
Id: ccp-notice-severity
Title: "CCP service notice severity"
Description: "How much a service notice matters (information, warning, critical). Not Communication.priority, whose codes (routine, urgent, asap, stat) say how soon a message must be acted on, as for an order: a planned downtime a month ahead is critical and not urgent."
Context: Communication
* value[x] only code
* valueCode 1..1
* valueCode from CCPNoticeSeverityVS (required)

Extension: CCPNoticeWindow
Id: ccp-notice-window
Title: "CCP service notice window"
Description: "When the service is affected: a planned downtime's start and end (required for that kind), or an outage's known start. R4 Communication has no element for the period a message is about."
Context: Communication
* value[x] only Period
* valuePeriod 1..1

Invariant: ccp-notice-1
Description: "A planned downtime notice says when, with a window that has a start and an end."
Expression: "category.coding.where(system = 'http://ccp-exchange.org/fhir/CodeSystem/notice-kind' and code = 'planned-downtime').exists() implies extension.where(url = 'http://ccp-exchange.org/fhir/StructureDefinition/ccp-notice-window').value.ofType(Period).where(start.exists() and end.exists()).exists()"
Severity: #error

Profile: CCPServiceNotice
Parent: Communication
Id: ccp-service-notice
Title: "CCP service notice"
Description: "A notice about the service itself, posted by an administrator: its kind (category), its severity, for planned downtime its window, and its text. In progress while current (shown as the message of the day and in the app), completed once over. About no patient: readable by anyone with an access token, and never consent's business."
* obeys ccp-notice-1
* extension contains CCPNoticeSeverityExtension named severity 1..1 MS and CCPNoticeWindow named window 0..1 MS
* status MS
* status from CCPNoticeStatusVS (required)
* category 1..1 MS
* category from CCPNoticeKindVS (required)
* subject 0..0
* encounter 0..0
* about 0..0
* sent MS
* sent ^short = "When the notice was posted (the server stamps it when absent)"
* payload 1..1 MS
* payload.content[x] only string
* payload.contentString MS
* payload ^short = "The notice's text, as shown to people"
