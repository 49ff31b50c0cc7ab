import { carePlanInContext, contextReferences, showPatientBanner } from '../../app/src/launch/context.js';
import { authorizationProblem, CALLBACK_PROBLEMS, launchProblem, REFUSED_LAUNCH } from '../../app/src/launch/errors.js';
import { decideStart } from '../../app/src/launch/start.js';
import { pathOf, routeOf } from '../../app/src/ui/routes.js';

const at = (path: string) => new URL(`https://ccp.example.org${path}`);

describe('decideStart: what the app does when its page loads', () => {
  test('an EHR launch naming this server goes on to authorize, with the launch id', () => {
    expect(decideStart(at('/app/launch?iss=https%3A%2F%2Fccp.example.org%2Ffhir&launch=abc'), false)).toEqual({
      kind: 'ehr-launch',
      iss: 'https://ccp.example.org/fhir',
      launch: 'abc',
    });
    // A trailing slash is the same server.
    expect(decideStart(at('/app/launch?iss=https://ccp.example.org/fhir/&launch=abc'), true).kind).toBe('ehr-launch');
  });

  test('an EHR launch naming any other server is refused before any redirect', () => {
    for (const iss of [
      'https://evil.example/fhir',
      'https://ccp.example.org/fhir.evil.example',
      'https://ccp.example.org/fhir/../other',
      'http://ccp.example.org/fhir',
      'https://ccp.example.org:8443/fhir',
      'https://ccp.example.org',
    ]) {
      expect(decideStart(at(`/app/launch?iss=${encodeURIComponent(iss)}&launch=abc`), false)).toEqual({ kind: 'refused', reason: 'unknown-iss', iss });
    }
  });

  test('a launch without iss or launch is refused', () => {
    expect(decideStart(at('/app/launch?launch=abc'), false)).toEqual({ kind: 'refused', reason: 'missing-iss' });
    expect(decideStart(at('/app/launch?iss=https://ccp.example.org/fhir'), false)).toEqual({ kind: 'refused', reason: 'missing-launch' });
  });

  test('the authorization server’s answers: an error, a code with its state, half an answer', () => {
    expect(decideStart(at('/app/?error=access_denied&error_description=The%20user%20declined&state=s1'), true)).toEqual({
      kind: 'authorization-error',
      error: 'access_denied',
      description: 'The user declined',
    });
    expect(decideStart(at('/app/?code=c1&state=s1'), false)).toEqual({ kind: 'callback', code: 'c1', state: 's1' });
    expect(decideStart(at('/app/?code=c1'), false)).toEqual({ kind: 'broken-callback' });
    expect(decideStart(at('/app/?state=s1'), true)).toEqual({ kind: 'broken-callback' });
  });

  test('a session carries on on any screen; without one, a standalone launch, except after sign-out', () => {
    expect(decideStart(at('/app/'), true)).toEqual({ kind: 'session' });
    expect(decideStart(at('/app/plan/ccp-p1/history'), true)).toEqual({ kind: 'session' });
    expect(decideStart(at('/app/'), false)).toEqual({ kind: 'standalone' });
    expect(decideStart(at('/app/plan/ccp-p1'), false)).toEqual({ kind: 'standalone' });
    expect(decideStart(at('/app/signed-out'), false)).toEqual({ kind: 'signed-out' });
  });
});

describe('launch context from the token response', () => {
  test('fhirContext in the SMART 2.2 object form and the older string form name the same CarePlan', () => {
    expect(carePlanInContext([{ reference: 'CarePlan/ccp-p1' }])).toBe('ccp-p1');
    expect(carePlanInContext(['CarePlan/ccp-p1'])).toBe('ccp-p1');
    expect(carePlanInContext([{ reference: 'https://ccp.example.org/fhir/CarePlan/ccp-p1' }])).toBe('ccp-p1');
  });

  test('the first CarePlan counts; other types, identifiers and junk are skipped', () => {
    const context = [{ reference: 'Encounter/e1' }, { type: 'CarePlan', identifier: { value: 'x' } }, 42, null, 'CarePlan/second', { reference: 'CarePlan/third' }];
    expect(contextReferences(context)).toEqual(['Encounter/e1', 'CarePlan/second', 'CarePlan/third']);
    expect(carePlanInContext(context)).toBe('second');
    expect(carePlanInContext(undefined)).toBeUndefined();
    expect(carePlanInContext('CarePlan/x')).toBeUndefined();
    expect(carePlanInContext([{ reference: 'Patient/p1' }])).toBeUndefined();
  });

  test('the patient banner shows unless the launch says need_patient_banner: false', () => {
    expect(showPatientBanner({ need_patient_banner: true })).toBe(true);
    expect(showPatientBanner({ need_patient_banner: false })).toBe(false);
    expect(showPatientBanner({})).toBe(true);
    expect(showPatientBanner(undefined)).toBe(true);
  });
});

describe('launch problems in words', () => {
  test('an authorization error says what happened, with the server’s description as text', () => {
    const problem = authorizationProblem('access_denied', 'The user declined <b>access</b>');
    expect(problem.title).toBe('Sign-in was cancelled');
    expect(problem.message).toContain('“The user declined <b>access</b>”');
    expect(problem.action).toBe('sign-in');
    expect(authorizationProblem('made_up', undefined)).toEqual({ title: 'Sign-in failed', message: 'The server did not grant access.', action: 'sign-in' });
  });

  test('a refused EHR launch sends the user back to the EHR', () => {
    expect(REFUSED_LAUNCH['unknown-iss'].action).toBe('ehr');
    expect(REFUSED_LAUNCH['unknown-iss'].message).toContain('did not connect');
  });

  test('fhirclient’s and the token endpoint’s errors are told apart', () => {
    expect(launchProblem(new Error("No 'state' parameter found. Please (re)launch the app."))).toBe(CALLBACK_PROBLEMS.unknownState);
    expect(launchProblem(new Error('No state found! Please (re)launch the app.'))).toBe(CALLBACK_PROBLEMS.unknownState);
    expect(launchProblem(Object.assign(new Error('Bad Request'), { status: 400 })).title).toBe('The sign-in could not be completed');
    expect(launchProblem(new Error("Required PKCE code challenge method (`S256`) was not found in the server's codeChallengeMethods declaration.")).title).toBe(
      'The server cannot sign this app in safely',
    );
    expect(launchProblem(new TypeError('Failed to fetch'), 'ehr')).toEqual(expect.objectContaining({ title: 'The server cannot be reached', action: 'ehr' }));
    expect(launchProblem('anything').title).toBe('Sign-in failed');
  });
});

describe('routes', () => {
  test('paths below /app/ name the screens, and back', () => {
    expect(routeOf('/app/')).toEqual({ screen: 'plan' });
    expect(routeOf('/app/plan/ccp-p1')).toEqual({ screen: 'plan', id: 'ccp-p1' });
    expect(routeOf('/app/plan/ccp-p1/history/')).toEqual({ screen: 'history', id: 'ccp-p1' });
    expect(routeOf('/app/plan/bad id')).toEqual({ screen: 'plan' });
    expect(routeOf('/app/signed-out')).toEqual({ screen: 'plan' });
    expect(pathOf({ screen: 'history', id: 'ccp-p1' })).toBe('/app/plan/ccp-p1/history');
    expect(pathOf({ screen: 'plan' })).toBe('/app/');
  });
});

describe('decideStart in the sign-in frame the app opened (an EHR on another site, storage denied)', () => {
  test('any answer of the authorization server is handed back to the parent page, which holds the state', () => {
    for (const query of ['?code=c&state=s', '?error=access_denied&state=s', '?code=c', '?state=s']) {
      expect(decideStart(at(`/app/${query}`), false, true)).toEqual({ kind: 'hand-back' });
    }
  });

  test('a page of that frame without an answer starts as any other, and an EHR launch is still checked first', () => {
    expect(decideStart(at('/app/'), false, true)).toEqual({ kind: 'standalone' });
    expect(decideStart(at('/app/launch?iss=https://evil.example/fhir&launch=abc&code=c&state=s'), false, true).kind).toBe('refused');
  });
});
