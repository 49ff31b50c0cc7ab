// One example per profile, in the shapes the server writes (docs/CCP.md, docs/CONSENT.md, docs/AUDIT.md).

Instance: ccp-careplan-example
InstanceOf: CCPCarePlan
Title: "A patient's CCP"
Usage: #example
* status = #active
* intent = #plan
* category[ccp] = CCPCarePlanCategory#ccp
* subject.reference = "Patient/p1"
* period.start = "2026-12-04"
* extension[reviewDate].valueDate = "2027-03-04"
* goal = Reference(Goal/ccp-goal-example)
* careTeam = Reference(CareTeam/ccp-careteam-example)
* addresses[0].reference = "Condition/heart-failure"
* addresses[0].display = "Heart failure"
* activity[0].detail.kind = #ServiceRequest
* activity[0].detail.status = #in-progress
* activity[0].detail.description = "Weekly home visit by the community nurse"

Instance: ccp-goal-example
InstanceOf: CCPGoal
Title: "A patient's goal"
Usage: #example
* lifecycleStatus = #active
* description.text = "Walk to the park and back without resting"
* subject.reference = "Patient/p1"
* expressedBy.reference = "Patient/p1"
* target[0].dueDate = "2027-03-01"

Instance: ccp-careteam-example
InstanceOf: CCPCareTeam
Title: "A patient's care team"
Usage: #example
* status = #active
* name = "Home care team of Patient/p1"
* subject.reference = "Patient/p1"
* participant[0].role[0].text = "community nurse"
* participant[0].member.reference = "Practitioner/nurse-1"
* participant[0].onBehalfOf.reference = "Organization/home-care"
* participant[1].role[0].text = "family physician"
* participant[1].member.reference = "Practitioner/gp-1"

Instance: ccp-registration-task-example
InstanceOf: CCPRegistrationTask
Title: "A registration request waiting for review"
Usage: #example
* status = #requested
* intent = #order
* code = CCPTaskCode#ccp-registration
* focus.reference = "Consent/ccp-express-consent-example"
* for.reference = "Patient/p1"
* authoredOn = "2026-12-04T15:02:11.482Z"
* lastModified = "2026-12-04T15:02:11.482Z"
* requester.reference = "Organization/home-care"
* owner.reference = "Organization/host"
* input[level].type.text = "access level"
* input[level].valueCode = #view

Instance: ccp-express-consent-example
InstanceOf: CCPExpressConsent
Title: "An approved registration on express verbal consent"
Usage: #example
* extension[expressConsent].extension[obtainedBy].valueReference.reference = "Practitioner/nurse-1"
* extension[expressConsent].extension[obtainedAt].valueDateTime = "2026-12-04T09:30:00-05:00"
* extension[expressConsent].extension[method].valueCode = #verbal
* status = #active
* scope = $consentscope#patient-privacy
* category[registration] = CCPConsentCategory#ccp-registration
* patient.reference = "Patient/p1"
* dateTime = "2026-12-04T15:02:11.482Z"
* performer[0].reference = "Patient/p1"
* policyRule = $v3-ActCode#OPTIN
* provision.type = #permit
* provision.period.start = "2026-12-04T15:10:00.000Z"
* provision.period.end = "2027-12-04T15:10:00.000Z"
* provision.actor[0].role = $v3-ParticipationType#IRCP
* provision.actor[0].reference.reference = "Organization/home-care"
* provision.action[0] = $consentaction#access
* provision.action[1] = $consentaction#correct

Instance: ccp-consent-directive-example
InstanceOf: CCPConsentDirective
Title: "A directive: withheld from everyone but one organization"
Usage: #example
* status = #active
* scope = $consentscope#patient-privacy
* category[directive] = CCPConsentCategory#consent-directive
* patient.reference = "Patient/p1"
* dateTime = "2026-12-05T10:00:00Z"
* policyRule = $v3-ActCode#OPTOUT
* provision.type = #deny
* provision.provision[0].type = #permit
* provision.provision[0].actor[0].role.text = "recipient"
* provision.provision[0].actor[0].reference.reference = "Organization/primary-care-1"

Instance: ccp-override-consent-example
InstanceOf: CCPOverrideConsent
Title: "A break-the-glass override"
Usage: #example
* status = #active
* scope = $consentscope#patient-privacy
* category[override] = $v3-ActCode#INFA
* patient.reference = "Patient/p1"
* dateTime = "2026-12-04T15:20:00.000Z"
* organization[0].reference = "Organization/home-care"
* policyRule = $v3-ActCode#INFA
* provision.type = #permit
* provision.period.start = "2026-12-04T15:20:00.000Z"
* provision.period.end = "2026-12-04T19:20:00.000Z"
* provision.actor[0].role = $v3-ParticipationType#PROV
* provision.actor[0].reference.reference = "Practitioner/nurse-1"
* provision.purpose[0] = CCPOverrideReason#risk-of-harm "to eliminate or reduce a significant risk of serious bodily harm"

Instance: ccp-partner-organization-example
InstanceOf: CCPPartnerOrganization
Title: "A partner organization"
Usage: #example
* extension[custodianStatus].valueCode = #custodian
* active = true
* name = "Home Care East"
* contact[privacyContact].purpose = CCPUserRole#privacy-contact
* contact[privacyContact].name.text = "Privacy office"
* contact[privacyContact].telecom[0].system = #email
* contact[privacyContact].telecom[0].value = "privacy@home-care-east.example"
* contact[notifications].purpose = CCPContactPurpose#notifications
* contact[notifications].name.text = "Care coordination desk"
* contact[notifications].telecom.system = #email
* contact[notifications].telecom.value = "ccp-notices@home-care-east.example"

RuleSet: AuditCommon(subtype, action)
* type = $audit-event-type#rest "Restful Operation"
* subtype = $restful-interaction#{subtype}
* action = #{action}
* outcome = #0
* source.observer.display = "CCP Exchange"
* source.type = $security-source-type#4 "Application Server"
* agent[organization].type = $v3-ParticipationType#RESP
* agent[organization].who.reference = "Organization/home-care"
* agent[organization].requestor = false
* agent[application].type = $DCM#110150 "Application"
* agent[application].who.identifier.system = $sid-client-id
* agent[application].who.identifier.value = "ehr-app"
* agent[application].requestor = false

Instance: ccp-audit-read-example
InstanceOf: CCPAuditRead
Title: "A nurse reads a CCP"
Usage: #example
* insert AuditCommon(read, R)
* recorded = "2026-12-04T22:30:01.100Z"
* agent[userReading].type = $v3-ParticipationType#IRCP
* agent[userReading].who.reference = "Practitioner/nurse-1"
* agent[userReading].who.identifier.system = $sid-user-id
* agent[userReading].who.identifier.value = "user-nurse-1"
* agent[userReading].altId = "user-nurse-1"
* agent[userReading].requestor = true
* entity[patient].what.reference = "Patient/p1"
* entity[patient].type = $audit-entity-type#1 "Person"
* entity[patient].role = $object-role#1 "Patient"
* entity[resource].what.reference = "CarePlan/ccp-careplan-example/_history/3"
* entity[resource].type = $audit-entity-type#2 "System Object"
* entity[resource].role = $object-role#4 "Domain Resource"

Instance: ccp-audit-query-example
InstanceOf: CCPAuditQuery
Title: "A nurse searches a patient's CarePlans"
Usage: #example
* insert AuditCommon(search-type, E)
* recorded = "2026-12-04T22:30:00.412Z"
* agent[userReading].type = $v3-ParticipationType#IRCP
* agent[userReading].who.reference = "Practitioner/nurse-1"
* agent[userReading].who.identifier.system = $sid-user-id
* agent[userReading].who.identifier.value = "user-nurse-1"
* agent[userReading].altId = "user-nurse-1"
* agent[userReading].requestor = true
* entity[patient].what.reference = "Patient/p1"
* entity[patient].type = $audit-entity-type#1 "Person"
* entity[patient].role = $object-role#1 "Patient"
// base64 of "CarePlan?patient=Patient/p1&status=active"
* entity[query].type = $audit-entity-type#2 "System Object"
* entity[query].role = $object-role#24 "Query"
* entity[query].query = "Q2FyZVBsYW4/cGF0aWVudD1QYXRpZW50L3AxJnN0YXR1cz1hY3RpdmU="

Instance: ccp-audit-create-example
InstanceOf: CCPAuditCreate
Title: "A nurse creates an Observation"
Usage: #example
* insert AuditCommon(create, C)
* recorded = "2026-12-04T22:31:07.412Z"
* agent[userWriting].type = $v3-ParticipationType#AUT
* agent[userWriting].who.reference = "Practitioner/nurse-1"
* agent[userWriting].who.identifier.system = $sid-user-id
* agent[userWriting].who.identifier.value = "user-nurse-1"
* agent[userWriting].altId = "user-nurse-1"
* agent[userWriting].requestor = true
* entity[patient].what.reference = "Patient/p1"
* entity[patient].type = $audit-entity-type#1 "Person"
* entity[patient].role = $object-role#1 "Patient"
* entity[resource].what.reference = "Observation/obs-1/_history/1"
* entity[resource].type = $audit-entity-type#2 "System Object"
* entity[resource].role = $object-role#4 "Domain Resource"

Instance: ccp-service-notice-example
InstanceOf: CCPServiceNotice
Title: "A planned downtime notice"
Usage: #example
* status = #in-progress
* category = CCPNoticeKind#planned-downtime
* extension[severity].valueCode = #critical
* extension[window].valuePeriod.start = "2026-12-12T02:00:00Z"
* extension[window].valuePeriod.end = "2026-12-12T04:00:00Z"
* sent = "2026-12-05T15:00:00Z"
* payload[0].contentString = "CCP Exchange will be unavailable for a database upgrade."
