Profile: CCPRegistrationTask
Parent: Task
Id: ccp-registration-task
Title: "CCP registration Task"
Description: "A partner organization's request for access to a patient's CCP, reviewed by the hosting organization ($approve, $reject). Its focus is the registration Consent, which changes with it."
* status from CCPRegistrationTaskStatusVS (required)
* status MS
* businessStatus MS
* businessStatus ^short = "approved, when approved"
* statusReason MS
* intent = #order
* code 1..1 MS
* code = CCPTaskCode#ccp-registration
* focus 1..1 MS
* focus only Reference(CCPExpressConsent)
* for 1..1 MS
* for only Reference(Patient)
* authoredOn 1..1 MS
* requester 1..1 MS
* requester only Reference(Organization)
* owner MS
* owner only Reference(Organization)
* input MS
* input ^slicing.discriminator.type = #value
* input ^slicing.discriminator.path = "type.text"
* input ^slicing.rules = #open
* input contains level 1..1 MS and carePlan 0..1 MS
* input[level].type.text = "access level" (exactly)
* input[level].value[x] only code
* input[level].valueCode from CCPAccessLevelVS (required)
* input[carePlan].type.text = "care plan" (exactly)
* input[carePlan].value[x] only Reference(CCPCarePlan)
