import { dateTimeOf, defaultForm, localInputValue, practitionerOf, refusalOf, registrationRequest, type RequestForm } from '../../app/src/access/request.js';

// 2026-12-08T09:05 in Toronto (EST, UTC-05:00: getTimezoneOffset() is 300) is 14:05Z. By hand from 2026-03-02T09:00Z =
// 1_772_442_000 s: 281 days on to 2026-12-08T09:00Z (1_796_720_400 s), and 5 h 05 min more (18_300 s).
const TORONTO = 300;
const AT_0905_TORONTO_MS = 1_796_738_700_000;

const form = (change: Partial<RequestForm> = {}): RequestForm => ({
  level: 'view',
  consentObtainedBy: 'Practitioner/nurse-1',
  consentObtainedAt: '2026-12-08T09:05',
  consentMethod: 'verbal',
  ...change,
});

describe('practitionerOf: the Practitioner a reference or fhirUser names', () => {
  test('relative and absolute references, trimmed', () => {
    expect(practitionerOf('Practitioner/nurse-1')).toBe('Practitioner/nurse-1');
    expect(practitionerOf(' http://127.0.0.1:8080/fhir/Practitioner/a.b-2 ')).toBe('Practitioner/a.b-2');
  });
  test('nothing else', () => {
    expect(practitionerOf(undefined)).toBeUndefined();
    expect(practitionerOf('')).toBeUndefined();
    expect(practitionerOf('Patient/p1')).toBeUndefined();
    expect(practitionerOf('Practitioner/')).toBeUndefined();
    expect(practitionerOf('Practitioner/a b')).toBeUndefined();
    expect(practitionerOf('RelatedPractitioner/x')).toBeUndefined();
  });
});

describe('the form as it opens', () => {
  test('view access, the signed-in practitioner, now to the minute, verbally', () => {
    // A local Date: its local fields are these whatever the machine's time zone.
    const now = new Date(2026, 11, 8, 9, 5, 42);
    expect(localInputValue(now)).toBe('2026-12-08T09:05');
    expect(defaultForm('https://ccp.example.org/fhir/Practitioner/nurse-1', now)).toEqual(form());
  });
  test('a user who is no practitioner (a Patient or RelatedPerson as fhirUser, or none): the field is empty', () => {
    expect(defaultForm('Patient/p1', new Date(2026, 0, 2, 3, 4)).consentObtainedBy).toBe('');
    expect(defaultForm(undefined, new Date(2026, 0, 2, 3, 4))).toEqual({ level: 'view', consentObtainedBy: '', consentObtainedAt: '2026-01-02T03:04', consentMethod: 'verbal' });
  });
});

describe('dateTimeOf: a datetime-local value as a FHIR dateTime with its offset', () => {
  test('Toronto in winter: -05:00, and the instant 5 hours later in UTC', () => {
    expect(dateTimeOf('2026-12-08T09:05', TORONTO)).toEqual({ dateTime: '2026-12-08T09:05:00-05:00', epochMs: AT_0905_TORONTO_MS });
    expect(dateTimeOf('2026-12-08T09:05:30', TORONTO)).toEqual({ dateTime: '2026-12-08T09:05:30-05:00', epochMs: AT_0905_TORONTO_MS + 30_000 });
  });
  test('east of UTC with half hours (India, +05:30): 09:05 there is 03:35Z', () => {
    expect(dateTimeOf('2026-12-08T09:05', -330)).toEqual({ dateTime: '2026-12-08T09:05:00+05:30', epochMs: 1_796_700_900_000 });
  });
  test('UTC itself is +00:00', () => {
    expect(dateTimeOf('2026-12-08T14:05', 0)).toEqual({ dateTime: '2026-12-08T14:05:00+00:00', epochMs: AT_0905_TORONTO_MS });
  });
  test('no date: words, a date without a time, a day the month lacks, hour 24', () => {
    for (const bad of ['yesterday', '2026-12-08', '2026-02-29T10:00', '2026-04-31T10:00', '2026-12-08T24:00', '2026-13-01T10:00', '2026-12-08T09:60']) {
      expect([bad, dateTimeOf(bad, TORONTO)]).toEqual([bad, undefined]);
    }
  });
});

describe('registrationRequest: the $ccp-register Parameters, or the fields to fix', () => {
  const justAfter = new Date(AT_0905_TORONTO_MS + 60_000);

  test('the four parameters the operation takes (docs/CONSENT.md), in its words', () => {
    expect(registrationRequest(form({ level: 'modify' }), justAfter, TORONTO)).toEqual({
      parameters: {
        resourceType: 'Parameters',
        parameter: [
          { name: 'level', valueCode: 'modify' },
          { name: 'consentObtainedBy', valueReference: { reference: 'Practitioner/nurse-1' } },
          { name: 'consentObtainedAt', valueDateTime: '2026-12-08T09:05:00-05:00' },
          { name: 'consentMethod', valueCode: 'verbal' },
        ],
      },
    });
  });

  test('consent obtained the very minute the request is sent is not in the future', () => {
    expect('parameters' in registrationRequest(form(), new Date(AT_0905_TORONTO_MS), TORONTO)).toBe(true);
  });

  test('a minute in the future is refused at its field', () => {
    expect(registrationRequest(form(), new Date(AT_0905_TORONTO_MS - 1), TORONTO)).toEqual({
      errors: { consentObtainedAt: 'This is in the future: consent must be obtained before the request.' },
    });
  });

  test('every field wrong at once: one message each', () => {
    expect(registrationRequest({ level: 'admin', consentObtainedBy: 'Patient/p1', consentObtainedAt: 'soon', consentMethod: 'written' }, justAfter, TORONTO)).toEqual({
      errors: {
        level: 'Choose the access your organization needs: view, or view and change.',
        consentObtainedBy: 'This is not a practitioner: write it as Practitioner/ followed by the id, such as Practitioner/123.',
        consentObtainedAt: 'This is not a date and time.',
        consentMethod: 'Only express verbal consent is accepted.',
      },
    });
  });

  test('empty fields say what is missing', () => {
    expect(registrationRequest(form({ level: '', consentObtainedBy: ' ', consentObtainedAt: '' }), justAfter, TORONTO)).toEqual({
      errors: {
        level: 'Choose the access your organization needs: view, or view and change.',
        consentObtainedBy: 'Say who obtained the consent: a practitioner, such as Practitioner/123.',
        consentObtainedAt: 'Say when the patient gave consent.',
      },
    });
  });
});

describe('refusalOf: a refused request in words, never JSON', () => {
  const outcome = (...issue: object[]) => ({ resourceType: 'OperationOutcome', issue });

  test('a 400 naming a parameter puts its message at that field', () => {
    const body = outcome({ severity: 'error', code: 'invalid', diagnostics: '2027-01-01T00:00:00Z is in the future', expression: ["Parameters.parameter.where(name='consentObtainedAt')"] });
    expect(refusalOf(400, body)).toEqual({ message: 'The request was not accepted. See the fields marked below.', fields: { consentObtainedAt: '2027-01-01T00:00:00Z is in the future' } });
    // The server's words name the parameter first; at the field they need not.
    const unknown = outcome({ severity: 'error', code: 'invalid', diagnostics: 'consentObtainedBy: Practitioner/x is not known', expression: ["Parameters.parameter.where(name='consentObtainedBy')"] });
    expect(refusalOf(400, unknown).fields).toEqual({ consentObtainedBy: 'Practitioner/x is not known' });
  });

  test('a 409 says a request is waiting, with the server’s words (diagnostics, else details.text)', () => {
    const waiting = 'Organization/home-care already asked for access to Patient/p1: Task/t1 waits for review';
    expect(refusalOf(409, outcome({ severity: 'error', code: 'duplicate', diagnostics: waiting, expression: ["Parameters.parameter.where(name='organization')"] }))).toEqual({
      message: `Your organization already has a request waiting for review. ${waiting}`,
      fields: {},
    });
    expect(refusalOf(403, outcome({ severity: 'error', code: 'forbidden', details: { text: 'your role (viewer) does not' } }))).toEqual({
      message: 'You may not request access for this patient. your role (viewer) does not',
      fields: {},
    });
  });

  test('an answer that is no OperationOutcome still gets words', () => {
    expect(refusalOf(502, '<html>Bad gateway</html>')).toEqual({ message: 'The server answered 502. Try again; if it happens again, tell your administrator.', fields: {} });
    expect(refusalOf(401, undefined)).toEqual({ message: 'Your session has ended. Sign in again to go on.', fields: {} });
    expect(refusalOf(404, { resourceType: 'OperationOutcome' })).toEqual({ message: 'The patient or a person named in the request was not found.', fields: {} });
  });
});
