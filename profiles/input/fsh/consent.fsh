// The three Consents of CCP Exchange (server/consent/vocabulary.ts, docs/CONSENT.md): a registration (on the
// patient's express consent), a consent directive, and an override (Ontario's consent override shape).

RuleSet: PatientPrivacyConsent
* status MS
* scope MS
* scope = $consentscope#patient-privacy
* patient 1..1 MS
* patient only Reference(Patient)
* patient.reference 1..1 MS
* dateTime MS
* category MS
* category ^slicing.discriminator.type = #pattern
* category ^slicing.discriminator.path = "$this"
* category ^slicing.rules = #open
* provision 1..1 MS
* provision.type 1..1 MS
* provision.period MS
* provision.actor MS
* provision.actor.role MS
* provision.actor.reference MS

Extension: ExpressConsent
Id: express-consent
Title: "Express consent"
Description: "The patient's express consent behind a registration: who obtained it, when, and how."
Context: Consent
* extension contains obtainedBy 1..1 MS and obtainedAt 1..1 MS and method 1..1 MS
* extension[obtainedBy] ^short = "Who obtained the consent"
* extension[obtainedBy].value[x] only Reference(Practitioner)
* extension[obtainedAt] ^short = "When the consent was obtained (not in the future)"
* extension[obtainedAt].value[x] only dateTime
* extension[method] ^short = "How: the express verbal consent model"
* extension[method].value[x] only code
* extension[method].valueCode from CCPConsentMethodVS (required)

Invariant: ccp-reg-1
Description: "A registration permits access (view); correct is added for modify."
Expression: "provision.action.coding.where(system = 'http://terminology.hl7.org/CodeSystem/consentaction' and code = 'access').exists()"
Severity: #error

Invariant: ccp-reg-2
Description: "An approved (active) registration gives access for a period with a start and an end."
Expression: "status = 'active' implies (provision.period.start.exists() and provision.period.end.exists())"
Severity: #error

Profile: CCPExpressConsent
Parent: Consent
Id: ccp-express-consent
Title: "CCP express-consent Consent (registration)"
Description: "A partner organization's registration: its access to the patient's CCP, on the patient's express (verbal) consent. Written only by $ccp-register, $approve, $reject and $ccp-disengage."
* obeys ccp-reg-1 and ccp-reg-2
* insert PatientPrivacyConsent
* extension contains ExpressConsent named expressConsent 1..1 MS
* status from CCPRegistrationStatusVS (required)
* category 1..* MS
* category contains registration 1..1 MS
* category[registration] = CCPConsentCategory#ccp-registration
* performer MS
* performer only Reference(Patient)
* policyRule 1..1 MS
* policyRule = $v3-ActCode#OPTIN
* provision.type = #permit
* provision.actor 1..1
* provision.actor.role = $v3-ParticipationType#IRCP
* provision.actor.reference only Reference(Organization)
* provision.action 1..2 MS
* provision.action from CCPRegistrationActionVS (required)
* provision.provision 0..0

Invariant: ccp-dir-1
Description: "A directive is neither a registration nor an override."
Expression: "category.coding.where((system = 'http://ccp-exchange.org/fhir/CodeSystem/consent-category' and code = 'ccp-registration') or (system = 'http://terminology.hl7.org/CodeSystem/v3-ActCode' and code = 'INFA')).empty()"
Severity: #error

Invariant: ccp-dir-2
Description: "Nested provisions are exceptions: each has the type opposite to the provision it is in."
Expression: "provision.all(type.exists() and type != %context.type)"
Severity: #error

Profile: CCPConsentDirective
Parent: Consent
Id: ccp-consent-directive
Title: "CCP consent-directive Consent"
Description: "The patient withholds their plan: a deny provision naming organizations or people (or none: everyone held by consent), with nested permit exceptions; or a permit with nested denials. Deny wins over any registration; only an override lifts it, for one person."
* obeys ccp-dir-1
* insert PatientPrivacyConsent
* category 1..* MS
* category contains directive 1..1 MS
* category[directive] = CCPConsentCategory#consent-directive
* provision obeys ccp-dir-2
* provision.actor.reference only Reference(Organization or Practitioner)
* provision.provision MS
* provision.provision.type 1..1 MS
* provision.provision.actor.reference only Reference(Organization or Practitioner)
* provision.provision.provision 0..0

Profile: CCPOverrideConsent
Parent: Consent
Id: ccp-override-consent
Title: "CCP override Consent"
Description: "A break-the-glass override in Ontario's consent override shape: category INFA, a permit for one practitioner for a few hours, and the reason as the provision's purpose. Written only by $override, with a notice to the organization's privacy contacts."
* insert PatientPrivacyConsent
* status = #active
* category 1..* MS
* category contains override 1..1 MS
* category[override] = $v3-ActCode#INFA
* dateTime 1..1
* organization MS
* organization only Reference(Organization)
// R4's ppc-1 wants a policy or a rule; the override names INFA as its rule too (server/consent/operations/override-records.ts).
* policyRule 1..1 MS
* policyRule = $v3-ActCode#INFA
* provision.type = #permit
* provision.period 1..1
* provision.period.start 1..1 MS
* provision.period.end 1..1 MS
* provision.actor 1..1
* provision.actor.role = $v3-ParticipationType#PROV
* provision.actor.reference only Reference(Practitioner)
* provision.purpose 1..1 MS
* provision.purpose from CCPOverrideReasonVS (required)
* provision.provision 0..0
