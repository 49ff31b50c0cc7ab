// The Coordinated Care Plan (docs/CCP.md): a CarePlan with the CCP category, about one patient named by a
// relative reference, with the patient's goals, care team, health concerns and activities.

Extension: CCPReviewDate
Id: ccp-review-date
Title: "CCP review date"
Description: "When the care team means to review the plan next. R4 CarePlan has no element for it. New with the profiles: the server stores it as any extension and does not read it."
Context: CarePlan
* value[x] only date
* valueDate 1..1

Invariant: ccp-1
Description: "A CCP's subject is the relative reference Patient/<id> (an absolute URL would escape the one-active check and the consent rules)."
Expression: "subject.reference.matches('^Patient/[A-Za-z0-9.-]{1,64}$')"
Severity: #error

Invariant: ccp-2
Description: "A CCP's status is never unknown (the server refuses it)."
Expression: "status != 'unknown'"
Severity: #error

Invariant: ccp-3
Description: "A CCP marked entered-in-error says why in a note."
Expression: "status = 'entered-in-error' implies note.exists()"
Severity: #error

Profile: CCPCarePlan
Parent: CarePlan
Id: ccp-careplan
Title: "CCP CarePlan"
Description: "A patient's Coordinated Care Plan: the CarePlan with the CCP category. The server's rules (docs/CCP.md) add what a profile cannot say: the lifecycle between versions, one active CCP per patient, no deletion, and a Provenance for each correction."
* obeys ccp-1 and ccp-2 and ccp-3
* extension contains CCPReviewDate named reviewDate 0..1 MS
* text MS
* status MS
* intent MS
* category 1..* MS
* category ^slicing.discriminator.type = #pattern
* category ^slicing.discriminator.path = "$this"
* category ^slicing.rules = #open
* category ^slicing.description = "The CCP category makes the CarePlan a CCP; other categories may follow."
* category contains ccp 1..1 MS
* category[ccp] = CCPCarePlanCategory#ccp
* subject only Reference(Patient)
* subject.reference 1..1 MS
* period MS
* author MS
* careTeam MS
* careTeam only Reference(CCPCareTeam)
* addresses MS
* addresses only Reference(Condition)
* addresses ^short = "Health concerns the plan addresses"
* goal MS
* goal only Reference(CCPGoal)
* goal ^short = "The patient's goals"
* activity MS
* activity.detail MS
* activity.detail.status MS
* activity.detail.description MS
* note MS
