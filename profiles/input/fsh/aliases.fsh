// Code systems and identifier systems the profiles name, as the server writes them.
Alias: $consentscope = http://terminology.hl7.org/CodeSystem/consentscope
Alias: $consentaction = http://terminology.hl7.org/CodeSystem/consentaction
Alias: $consent-state = http://hl7.org/fhir/consent-state-codes
Alias: $v3-ActCode = http://terminology.hl7.org/CodeSystem/v3-ActCode
Alias: $v3-ParticipationType = http://terminology.hl7.org/CodeSystem/v3-ParticipationType
Alias: $task-status = http://hl7.org/fhir/task-status
Alias: $audit-event-type = http://terminology.hl7.org/CodeSystem/audit-event-type
Alias: $restful-interaction = http://hl7.org/fhir/restful-interaction
Alias: $DCM = http://dicom.nema.org/resources/ontology/DCM
Alias: $security-source-type = http://terminology.hl7.org/CodeSystem/security-source-type
Alias: $audit-entity-type = http://terminology.hl7.org/CodeSystem/audit-entity-type
Alias: $object-role = http://terminology.hl7.org/CodeSystem/object-role
Alias: $sid-user-id = http://ccp-exchange.org/fhir/sid/user-id
Alias: $sid-client-id = http://ccp-exchange.org/fhir/sid/client-id
