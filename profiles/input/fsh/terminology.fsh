// The code systems of CCP Exchange, with the codes server/consent/vocabulary.ts, server/access/roles.ts and
// server/audit/vocabulary.ts use. Their URLs (canonical + /CodeSystem/ + id) are the systems the server writes.

CodeSystem: CCPCarePlanCategory
Id: careplan-category
Title: "CCP CarePlan category"
Description: "The category that makes a CarePlan a Coordinated Care Plan (CCP), to which the CCP rules apply."
* ^caseSensitive = true
* ^experimental = false
* #ccp "Coordinated Care Plan" "The patient's one Coordinated Care Plan, shared by the organizations of their circle of care."

CodeSystem: CCPConsentCategory
Id: consent-category
Title: "CCP consent category"
Description: "What a patient-privacy Consent is in CCP Exchange: a partner organization's registration or a consent directive. (Overrides use v3-ActCode#INFA.)"
* ^caseSensitive = true
* ^experimental = false
* #ccp-registration "CCP registration" "A partner organization's access to the patient's CCP, on the patient's express consent."
* #consent-directive "Consent directive" "The patient withholds their plan from organizations or people."

CodeSystem: CCPOverrideReason
Id: override-reason
Title: "CCP override reason"
Description: "Why a user overrode a patient's consent directive (break-the-glass), as the $override operation accepts."
* ^caseSensitive = true
* ^experimental = false
* #patient-consent "the patient's express consent" "The patient expressly consented to this user seeing their plan."
* #risk-of-harm "to eliminate or reduce a significant risk of serious bodily harm" "Access is needed to eliminate or reduce a significant risk of serious bodily harm to the patient or others."

CodeSystem: CCPTaskCode
Id: task-code
Title: "CCP task code"
Description: "The kinds of Task CCP Exchange's operations write."
* ^caseSensitive = true
* ^experimental = false
* #ccp-registration "CCP registration request" "A partner organization asks for access to a patient's CCP; the hosting organization approves or rejects it."

CodeSystem: CCPAccessLevel
Id: access-level
Title: "CCP access level"
Description: "The access a registration asks for (the $ccp-register operation's level parameter)."
* ^caseSensitive = true
* ^experimental = false
* #view "view" "Read the patient's plan."
* #modify "view and modify" "Read and change the patient's plan."

CodeSystem: CCPConsentMethod
Id: consent-method
Title: "CCP consent method"
Description: "How the express consent behind a registration was obtained. The express verbal consent model is the only one accepted."
* ^caseSensitive = true
* ^experimental = false
* #verbal "verbal" "The patient consented verbally to the person who obtained the consent."

CodeSystem: CCPUserRole
Id: user-role
Title: "CCP user role"
Description: "The roles of CCP Exchange users, as PractitionerRole.code codings; they bound what a token's scopes allow."
* ^caseSensitive = true
* ^experimental = false
* #viewer "viewer" "Reads plans."
* #contributor "contributor" "Reads and writes the plan and what hangs off it."
* #coordinator "coordinator" "Coordinates the plan: also Tasks, Organizations and Consents; reviews registrations."
* #local-registration-authority "local registration authority" "Registers practitioners and organizations."
* #privacy-contact "privacy contact" "Is told of overrides and records consent directives."
* #privacy-auditor "privacy auditor" "Audits the accesses of their organization."
* #administrator "administrator" "Administers the server."

CodeSystem: CCPTokenGrant
Id: token-grant
Title: "CCP token grant"
Description: "The OAuth grant through which an access token was issued: the subtype of the AuditEvent recording the issue."
* ^caseSensitive = true
* ^experimental = false
* #client_credentials "client credentials" "A backend service's token."
* #authorization_code "authorization code" "A user's token, after signing in."
* #refresh_token "refresh token" "A token renewed with a refresh token."

CodeSystem: CCPCustodianStatus
Id: custodian-status
Title: "CCP custodian status"
Description: "A partner organization's standing under health privacy law (Ontario's PHIPA): whether it is a health information custodian. New with the profiles: the server does not read it yet."
* ^caseSensitive = true
* ^experimental = false
* #custodian "health information custodian" "The organization is a health information custodian in its own right."
* #agent "agent of a custodian" "The organization acts on behalf of a health information custodian."
* #non-custodian "not a custodian" "The organization is neither a custodian nor a custodian's agent; it receives information as a recipient."

CodeSystem: CCPContactPurpose
Id: contact-purpose
Title: "CCP contact purpose"
Description: "What an organization's contact is for, where R4's contact entity types have no code for it."
* ^caseSensitive = true
* ^experimental = false
* #notifications "notifications" "The address CCP Exchange emails the organization's notifications to: changed plans it has access to, service notices and new organizations, without personal health information."

// Value sets: each profile's required bindings.

ValueSet: CCPConsentCategoryVS
Id: consent-category
Title: "CCP consent categories"
Description: "The categories of CCP Exchange Consents: registrations, directives, and overrides (v3-ActCode#INFA)."
* ^experimental = false
* include codes from system CCPConsentCategory
* $v3-ActCode#INFA "information access"

ValueSet: CCPOverrideReasonVS
Id: override-reason
Title: "CCP override reasons"
Description: "The reasons a user may give for overriding a consent directive."
* ^experimental = false
* include codes from system CCPOverrideReason

ValueSet: CCPAccessLevelVS
Id: access-level
Title: "CCP access levels"
Description: "The access levels a registration may ask for."
* ^experimental = false
* include codes from system CCPAccessLevel

ValueSet: CCPConsentMethodVS
Id: consent-method
Title: "CCP consent methods"
Description: "The consent methods a registration may cite."
* ^experimental = false
* include codes from system CCPConsentMethod

ValueSet: CCPRegistrationActionVS
Id: registration-action
Title: "CCP registration actions"
Description: "The actions a registration permits: access (view) and correct (modify)."
* ^experimental = false
* $consentaction#access "Access"
* $consentaction#correct "Access and Correct"

ValueSet: CCPRegistrationStatusVS
Id: registration-status
Title: "CCP registration statuses"
Description: "A registration is proposed (requested), active (approved), inactive (disengaged) or rejected."
* ^experimental = false
* $consent-state#proposed "Proposed"
* $consent-state#active "Active"
* $consent-state#inactive "Inactive"
* $consent-state#rejected "Rejected"

ValueSet: CCPRegistrationTaskStatusVS
Id: registration-task-status
Title: "CCP registration request statuses"
Description: "A registration request is requested (waiting for review), completed (approved), rejected, or cancelled (disengagement)."
* ^experimental = false
* $task-status#requested "Requested"
* $task-status#completed "Completed"
* $task-status#rejected "Rejected"
* $task-status#cancelled "Cancelled"

ValueSet: CCPCustodianStatusVS
Id: custodian-status
Title: "CCP custodian statuses"
Description: "A partner organization's custodian status."
* ^experimental = false
* include codes from system CCPCustodianStatus

ValueSet: CCPRestfulInteractionVS
Id: restful-interaction
Title: "CCP audited FHIR interactions"
Description: "The subtypes of CCP Exchange's REST AuditEvents: every code of the R4 restful-interaction code system."
* ^experimental = false
* include codes from system $restful-interaction
