Profile: CCPCareTeam
Parent: CareTeam
Id: ccp-careteam
Title: "CCP CareTeam"
Description: "The care team of a patient's Coordinated Care Plan: the people and organizations of the circle of care, each with their role. The plan's narrative names the team by its name."
* status 1..1 MS
* name 1..1 MS
* subject 1..1 MS
* subject only Reference(Patient)
* subject.reference 1..1 MS
* period MS
* participant 1..* MS
* participant.role MS
* participant.member 1..1 MS
* participant.member only Reference(Practitioner or PractitionerRole or Organization or RelatedPerson or Patient or CareTeam)
* participant.onBehalfOf MS
* managingOrganization MS
