import { ANONYMOUS, type Caller, UNRESTRICTED } from '../../../server/access/caller.js';
import { clientCaller } from '../../../server/access/callers.js';
import { DEFINITION_TYPES } from '../../../server/access/definition-access.js';
import { exportableTypes } from '../../../server/bulk/parameters.js';
import { exportTypes, ownerOf, requireTypes } from '../../../server/export/operations/access.js';
import { FhirError } from '../../../server/fhir/outcome.js';
import { R4_REGISTRY } from '../../../server/search/registry.js';
import { testUser } from '../../support/callers.js';

function refusal(work: () => unknown): FhirError {
  try {
    work();
  } catch (error) {
    if (error instanceof FhirError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

const client = (scope: string): Caller => clientCaller({ clientId: 'viewer', scope, organizationId: 'org-1' });

describe('who may export what', () => {
  it('without a token: 401, whatever is asked', () => {
    expect(refusal(() => exportTypes(ANONYMOUS, 'system', undefined, R4_REGISTRY)).status).toBe(401);
    expect(refusal(() => exportTypes(ANONYMOUS, 'system', ['Patient'], R4_REGISTRY)).status).toBe(401);
    expect(refusal(() => ownerOf(ANONYMOUS)).status).toBe(401);
    expect(refusal(() => requireTypes(ANONYMOUS, ['Patient'], R4_REGISTRY)).status).toBe(401);
  });

  it('with _type: every type must be covered by a search scope (v1 .read or v2 .rs), else a 403 naming it; never narrowed', () => {
    const v2 = client('system/Patient.rs system/Observation.rs');
    expect(exportTypes(v2, 'system', ['Patient', 'Observation'], R4_REGISTRY)).toEqual(['Patient', 'Observation']);
    const refused = refusal(() => exportTypes(v2, 'system', ['Patient', 'Condition'], R4_REGISTRY));
    expect(refused.status).toBe(403);
    expect(refused.issues[0]).toMatchObject({ code: 'forbidden', expression: ['_type'], diagnostics: expect.stringContaining('Condition') });
    const v1 = client('system/Condition.read');
    expect(exportTypes(v1, 'system', ['Condition'], R4_REGISTRY)).toEqual(['Condition']);
    // Read without search is not enough: an export is a search of each type.
    expect(refusal(() => exportTypes(client('system/Condition.r'), 'system', ['Condition'], R4_REGISTRY)).status).toBe(403);
  });

  it('without _type: the types the caller may search among those the level exports', () => {
    const narrow = client('system/Patient.rs system/Observation.rs system/Medication.rs');
    // Besides its scopes, every token searches the definitions (open reads) and Communication (the service notices' rows only).
    const open = [...DEFINITION_TYPES, 'Communication'];
    expect(exportTypes(narrow, 'system', undefined, R4_REGISTRY).sort()).toEqual(['Medication', 'Observation', 'Patient', ...open].sort());
    // Medication and the definitions are not in the Patient compartment: not at patient level.
    expect(exportTypes(narrow, 'patient', undefined, R4_REGISTRY)).toEqual(['Communication', 'Observation', 'Patient']);
    // A token with no scope in the compartment still searches the service notices: its group export holds those alone.
    expect(exportTypes(client('system/Medication.rs'), 'group', undefined, R4_REGISTRY)).toEqual(['Communication']);
    const everything = exportTypes(client('system/*.rs'), 'system', undefined, R4_REGISTRY);
    expect(everything).toEqual(exportableTypes('system'));
    expect(everything).not.toContain('AuditEvent');
  });

  it('users: scopes within their role', () => {
    const viewer = testUser('pr-1', 'org-1', ['viewer']);
    expect(exportTypes(viewer, 'patient', ['CarePlan'], R4_REGISTRY)).toEqual(['CarePlan']);
    // The registration authority's role reads no clinical type, whatever its token says.
    const authority = testUser('pr-2', 'org-1', ['local-registration-authority']);
    expect(refusal(() => exportTypes(authority, 'system', ['CarePlan'], R4_REGISTRY)).status).toBe(403);
    expect(exportTypes(authority, 'system', undefined, R4_REGISTRY).filter((type) => !DEFINITION_TYPES.includes(type) && type !== 'Communication')).toEqual(['Organization', 'Practitioner', 'PractitionerRole']);
    // A backend client's system/ scopes are not a user's.
    const withSystemScopes: Caller = { ...viewer, scopes: client('system/*.rs').scopes };
    expect(refusal(() => exportTypes(withSystemScopes, 'system', ['CarePlan'], R4_REGISTRY)).status).toBe(403);
  });

  it('a server without tokens (AUTH_DISABLED) exports everything', () => {
    expect(exportTypes(UNRESTRICTED, 'system', undefined, R4_REGISTRY)).toEqual(exportableTypes('system'));
  });

  it('re-checked at status and download: a token that no longer covers a type of the job is a 403', () => {
    const narrow = client('system/Patient.rs');
    expect(() => requireTypes(narrow, ['Patient'], R4_REGISTRY)).not.toThrow();
    expect(refusal(() => requireTypes(narrow, ['Patient', 'Observation'], R4_REGISTRY)).status).toBe(403);
  });

  it('the owner: the kind, client and user, and the resource scopes as written', () => {
    expect(ownerOf(client('system/Patient.rs launch system/Observation.read'))).toEqual({ kind: 'system', clientId: 'viewer', scopes: ['system/Patient.rs', 'system/Observation.read'] });
    expect(ownerOf(testUser('pr-1', 'org-1', ['viewer']))).toEqual({ kind: 'user', clientId: 'app', userId: 'user-pr-1', scopes: ['user/*.cruds'] });
    expect(ownerOf(UNRESTRICTED)).toEqual({ kind: 'unrestricted', scopes: [] });
  });
});
