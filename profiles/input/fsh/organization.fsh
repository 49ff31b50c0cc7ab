Extension: CustodianStatus
Id: custodian-status
Title: "Custodian status"
Description: "The organization's standing under health privacy law: a health information custodian, a custodian's agent, or neither."
Context: Organization
* value[x] only code
* valueCode 1..1
* valueCode from CCPCustodianStatusVS (required)

Profile: CCPPartnerOrganization
Parent: Organization
Id: ccp-partner-organization
Title: "CCP partner Organization"
Description: "An organization of the circle of care that exchanges CCPs through CCP Exchange: named, active or not, with its custodian status, its privacy contact, who is told of overrides by its users, and optionally its notification address, to which the server emails notice of changed plans it has access to, service notices and new organizations (never any personal health information). The privacy contact is also a PractitionerRole with the user-role privacy-contact (the server notifies those)."
* extension contains CustodianStatus named custodianStatus 1..1 MS
* identifier MS
* active 1..1 MS
* type MS
* name 1..1 MS
* telecom MS
* contact MS
* contact ^slicing.discriminator.type = #pattern
* contact ^slicing.discriminator.path = "purpose"
* contact ^slicing.rules = #open
* contact contains privacyContact 1..1 MS
* contact[privacyContact].purpose 1..1
* contact[privacyContact].purpose = CCPUserRole#privacy-contact
* contact[privacyContact].telecom 1..* MS
* contact contains notifications 0..1 MS
* contact[notifications].purpose 1..1
* contact[notifications].purpose = CCPContactPurpose#notifications
* contact[notifications].telecom 1..1 MS
* contact[notifications].telecom.system 1..1
* contact[notifications].telecom.system = #email
* contact[notifications].telecom.value 1..1
