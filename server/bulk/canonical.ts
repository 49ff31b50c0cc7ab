/** The Bulk Data Access IG's canonical URLs a server that exports names (its CapabilityStatement, its OperationDefinitions). */
const BULK_DATA = 'http://hl7.org/fhir/uv/bulkdata';

/** The IG's server CapabilityStatement, which ours `instantiates`. */
export const BULK_DATA_SERVER = `${BULK_DATA}/CapabilityStatement/bulk-data`;

/** The IG's `$export` at each level: the system's, Patient's and Group's. */
export const EXPORT_DEFINITIONS = {
  system: `${BULK_DATA}/OperationDefinition/export`,
  Patient: `${BULK_DATA}/OperationDefinition/patient-export`,
  Group: `${BULK_DATA}/OperationDefinition/group-export`,
} as const;
