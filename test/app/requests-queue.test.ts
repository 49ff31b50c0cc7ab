import type { Bundle, Consent, Organization, Patient, Practitioner, Task } from 'fhir/r4';
import { disengageRequest, errorBody, mayReview, obtainedBySearch, refusalText, requestRows, requestsSearch, reviewRequest } from '../../app/src/requests/queue.js';

const EXPRESS = 'http://ccp-exchange.org/fhir/StructureDefinition/express-consent';

/** A registration as `$ccp-register` writes it (docs/CONSENT.md), its Consent in the extension's shape. */
function registration(id: string, patient: string, organization: string, level: 'view' | 'modify', authoredOn: string, consentStatus: Consent['status'] = 'proposed'): [Task, Consent] {
  const consent: Consent = {
    resourceType: 'Consent',
    id: `c-${id}`,
    status: consentStatus,
    extension: [
      {
        url: EXPRESS,
        extension: [
          { url: 'obtainedBy', valueReference: { reference: 'Practitioner/nurse' } },
          { url: 'obtainedAt', valueDateTime: '2026-12-07T09:30:00Z' },
          { url: 'method', valueCode: 'verbal' },
        ],
      },
    ],
    scope: { text: 'patient-privacy' },
    category: [{ text: 'ccp-registration' }],
    patient: { reference: `Patient/${patient}` },
  };
  const task: Task = {
    resourceType: 'Task',
    id,
    status: 'requested',
    intent: 'order',
    focus: { reference: `Consent/c-${id}` },
    for: { reference: `Patient/${patient}` },
    authoredOn,
    requester: { reference: `Organization/${organization}` },
    owner: { reference: 'Organization/host' },
    input: [{ type: { text: 'access level' }, valueCode: level }],
  };
  return [task, consent];
}

const patient: Patient = { resourceType: 'Patient', id: 'p1', name: [{ given: ['Ana'], family: 'Rivera' }] };
const homeCare: Organization = { resourceType: 'Organization', id: 'home-care', name: 'Riverside Home Care' };
const nurse: Practitioner = { resourceType: 'Practitioner', id: 'nurse', name: [{ text: 'Nora Nurse' }] };

function searchset(matches: Array<Task>, includes: Array<Patient | Organization | Consent | Practitioner>): Bundle {
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    entry: [...matches.map((resource) => ({ resource, search: { mode: 'match' as const } })), ...includes.map((resource) => ({ resource, search: { mode: 'include' as const } }))],
  };
}

describe('the queue: rows from the search of registration requests', () => {
  const [older, olderConsent] = registration('t1', 'p1', 'home-care', 'view', '2026-12-07T10:00:00Z');
  const [newer, newerConsent] = registration('t2', 'p2', 'clinic', 'modify', '2026-12-07T11:00:00Z');
  const search = searchset([older, newer], [patient, homeCare, olderConsent, newerConsent]);

  test('the search: registration Tasks in one state, with their Consent, patient and organization', () => {
    expect(requestsSearch('requested')).toBe(
      'Task?code=http%3A%2F%2Fccp-exchange.org%2Ffhir%2FCodeSystem%2Ftask-code%7Cccp-registration&status=requested&_include=Task:focus&_include=Task:patient&_include=Task:requester&_count=100',
    );
  });

  test('who obtained consent is asked for separately, once, when the search did not bring them', () => {
    expect(obtainedBySearch(search)).toBe('Practitioner?_id=nurse&_count=50');
    expect(obtainedBySearch(searchset([older], [olderConsent, nurse]))).toBeUndefined();
  });

  test('each row in words, newest request first; what is not found shows its reference', () => {
    expect(requestRows([search, searchset([], [nurse])])).toEqual([
      {
        taskId: 't2',
        patient: 'Patient/p2',
        patientName: 'Patient/p2',
        organization: 'Organization/clinic',
        organizationName: 'Organization/clinic',
        level: 'modify',
        levelText: 'View and modify',
        obtainedBy: 'Nora Nurse',
        obtainedAt: '2026-12-07T09:30:00Z',
        method: 'Verbally',
        requestedAt: '2026-12-07T11:00:00Z',
        consentStatus: 'proposed',
      },
      {
        taskId: 't1',
        patient: 'Patient/p1',
        patientName: 'Ana Rivera',
        organization: 'Organization/home-care',
        organizationName: 'Riverside Home Care',
        level: 'view',
        levelText: 'View',
        obtainedBy: 'Nora Nurse',
        obtainedAt: '2026-12-07T09:30:00Z',
        method: 'Verbally',
        requestedAt: '2026-12-07T10:00:00Z',
        consentStatus: 'proposed',
      },
    ]);
  });

  test('a request whose Consent the search did not return still shows, with "not stated"', () => {
    const [row] = requestRows([searchset([older], [patient])]);
    expect([row.obtainedBy, row.method, row.obtainedAt, row.consentStatus]).toEqual(['not stated', 'not stated', undefined, undefined]);
  });

  test('included resources are not rows', () => {
    expect(requestRows([searchset([], [patient, olderConsent])])).toEqual([]);
  });
});

describe('the actions as the server takes them', () => {
  test('approve without a reason, reject with the reason trimmed (Task.statusReason)', () => {
    expect(reviewRequest('t1', 'approve')).toEqual({ url: 'Task/t1/$approve', body: { resourceType: 'Parameters' } });
    expect(reviewRequest('t1', 'approve', '   ').body).toEqual({ resourceType: 'Parameters' });
    expect(reviewRequest('t1', 'reject', '  not in the circle of care ')).toEqual({
      url: 'Task/t1/$reject',
      body: { resourceType: 'Parameters', parameter: [{ name: 'reason', valueString: 'not in the circle of care' }] },
    });
  });

  test('disengage names the organization on the patient', () => {
    expect(disengageRequest('Patient/p1', 'Organization/home-care')).toEqual({
      url: 'Patient/p1/$ccp-disengage',
      body: { resourceType: 'Parameters', parameter: [{ name: 'organization', valueReference: { reference: 'Organization/home-care' } }] },
    });
  });
});

describe('who is offered the queue, and refusals in words', () => {
  test('scopes that let the user update Tasks', () => {
    expect(mayReview('openid fhirUser launch/patient online_access user/*.cruds')).toBe(true);
    expect(mayReview('user/Task.u')).toBe(true);
    expect(mayReview('user/Task.cru')).toBe(true);
    expect(mayReview('user/*.write')).toBe(true);
    expect(mayReview('openid user/*.rs')).toBe(false);
    expect(mayReview('user/Task.cr patient/*.cruds')).toBe(false);
    expect(mayReview(undefined)).toBe(false);
  });

  test("the server's OperationOutcome, recovered from fhirclient's error message", () => {
    const outcome = { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'forbidden', diagnostics: "only the hosting organization's coordinators may approve registrations" }] };
    const error = Object.assign(new Error(`403 Forbidden\nURL: http://x/fhir/Task/t1/$approve\n\n${JSON.stringify(outcome, null, 4)}`), { status: 403 });
    expect(errorBody(error)).toEqual(outcome);
    expect(errorBody(new Error('500 Internal Server Error'))).toBeUndefined();
    expect(refusalText('approve registration requests', 403, outcome)).toBe(
      "You may not approve registration requests: only the hosting organization’s coordinators may. The server said: only the hosting organization's coordinators may approve registrations",
    );
  });

  test('each status in words', () => {
    expect(refusalText('approve registration requests', 409, undefined)).toBe('This request was already decided or withdrawn; the list now shows what is still waiting.');
    expect(refusalText('x', 401, undefined)).toBe('Your session has ended. Sign in again.');
    expect(refusalText('x', undefined, undefined)).toBe('The server could not be reached. Check the connection and try again.');
    expect(refusalText('x', 500, { resourceType: 'Bundle' })).toBe('The server answered 500. Try again; if it happens again, tell your administrator.');
  });
});
