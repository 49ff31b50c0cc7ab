import type { Parameters } from 'fhir/r4';
import { exportableTypes, type KickOffInput, kickOffParameters } from '../../../server/bulk/parameters.js';
import { FhirError } from '../../../server/fhir/outcome.js';
import { parseSearch } from '../../../server/search/query/parse.js';
import { R4_REGISTRY } from '../../../server/search/registry.js';

const NOW = new Date('2026-12-07T12:00:00Z');
const ASYNC = 'respond-async';

/** The operation's check of a _typeFilter query: the search parser over the R4 registry. */
const checkFilter: KickOffInput['checkFilter'] = (type, query) =>
  parseSearch(query, [type], R4_REGISTRY, { defaultCount: 1, maxCount: 1 }).ignored.map((ignored) => ignored.name);

function get(query: Record<string, string[]>, prefer: string | undefined = ASYNC, level: KickOffInput['level'] = 'system') {
  return kickOffParameters({ level, method: 'GET', query, prefer, now: NOW, checkFilter });
}

function post(parameter: Parameters['parameter'], prefer: string | undefined = ASYNC, level: KickOffInput['level'] = 'patient') {
  return kickOffParameters({ level, method: 'POST', query: {}, body: { resourceType: 'Parameters', parameter }, prefer, now: NOW, checkFilter });
}

/** The 400 (or other FhirError) `work` throws: its status and its first issue. */
function refusal(work: () => unknown): { status: number; code: string; expression?: string[]; diagnostics: string } {
  try {
    work();
  } catch (error) {
    if (!(error instanceof FhirError)) throw error;
    const [issue] = error.issues;
    return { status: error.status, code: issue.code, expression: issue.expression, diagnostics: issue.diagnostics };
  }
  throw new Error('expected a refusal');
}

describe('bulk export kick-off parameters (Bulk Data Access 2.0.0)', () => {
  it('Prefer: respond-async is required; handling is strict unless lenient is asked', () => {
    expect(refusal(() => get({}, ''))).toMatchObject({ status: 400, diagnostics: expect.stringContaining('Prefer: respond-async') });
    expect(refusal(() => get({}, 'return=minimal'))).toMatchObject({ status: 400 });
    expect(get({}).lenient).toBe(false);
    expect(get({}, 'respond-async, handling=lenient').lenient).toBe(true);
    expect(get({}, 'handling=lenient; respond-async').lenient).toBe(true);
    expect(refusal(() => get({}, 'respond-async, handling=sloppy'))).toMatchObject({ status: 400, diagnostics: expect.stringContaining('sloppy') });
  });

  it('_outputFormat: the three NDJSON spellings, NDJSON by default; anything else a 400', () => {
    expect(get({}).outputFormat).toBe('application/fhir+ndjson');
    for (const format of ['application/fhir+ndjson', 'application/ndjson', 'ndjson']) expect(get({ _outputFormat: [format] }).outputFormat).toBe(format);
    expect(refusal(() => get({ _outputFormat: ['text/csv'] }))).toMatchObject({ status: 400, expression: ['_outputFormat'] });
    expect(refusal(() => get({ _outputFormat: ['ndjson', 'ndjson'] }))).toMatchObject({ status: 400, expression: ['_outputFormat'] });
  });

  it('_since: an instant with a time zone, not in the future', () => {
    expect(get({ _since: ['2026-01-31T08:00:00+02:00'] }).since).toBe('2026-01-31T08:00:00+02:00');
    expect(get({ _since: ['2026-12-07T11:59:59.5Z'] }).since).toBe('2026-12-07T11:59:59.5Z');
    for (const bad of ['2026-01-31', '2026-01-31T08:00:00', 'yesterday', '2026-02-30T08:00:00Z']) {
      expect(refusal(() => get({ _since: [bad] }))).toMatchObject({ status: 400, expression: ['_since'] });
    }
    expect(refusal(() => get({ _since: ['2026-12-07T12:00:01Z'] }))).toMatchObject({ status: 400, expression: ['_since'], diagnostics: expect.stringContaining('future') });
  });

  it('_type: comma lists and repeats, in order, without duplicates; unknown types refused (strict) or left out with an issue (lenient)', () => {
    expect(get({ _type: ['Patient,Observation', 'CarePlan', 'Patient'] }).types).toEqual(['Patient', 'Observation', 'CarePlan']);
    expect(refusal(() => get({ _type: ['Patient,Bogus'] }))).toMatchObject({ status: 400, code: 'not-supported', expression: ['_type'], diagnostics: expect.stringContaining('Bogus') });
    const lenient = get({ _type: ['Patient,Bogus'] }, 'respond-async, handling=lenient');
    expect(lenient.types).toEqual(['Patient']);
    expect(lenient.issues).toEqual([{ severity: 'warning', code: 'not-supported', diagnostics: expect.stringContaining('Bogus'), expression: ['_type'] }]);
    // The audit trail is not exported; at patient level only the Patient compartment is.
    expect(refusal(() => get({ _type: ['AuditEvent'] }))).toMatchObject({ status: 400, expression: ['_type'] });
    expect(refusal(() => get({ _type: ['Medication'] }, ASYNC, 'patient'))).toMatchObject({ status: 400, expression: ['_type'], diagnostics: expect.stringContaining('Patient compartment') });
    expect(get({ _type: ['Medication'] }).types).toEqual(['Medication']);
    // Nothing left once the unsupported are left out: no export of nothing.
    expect(refusal(() => get({ _type: ['Bogus'] }, 'respond-async, handling=lenient'))).toMatchObject({ status: 400, expression: ['_type'] });
  });

  it('exportable types: every R4 type but AuditEvent at system level, the Patient compartment at patient and group level', () => {
    const system = exportableTypes('system');
    expect(system).toContain('Medication');
    expect(system).not.toContain('AuditEvent');
    const patient = exportableTypes('patient');
    expect(patient).toEqual(expect.arrayContaining(['Patient', 'Observation', 'CarePlan', 'Provenance']));
    expect(patient).not.toContain('Medication');
    expect(patient).not.toContain('Organization');
  });

  it('_elements: Type.element or element, top level only', () => {
    expect(get({ _elements: ['Patient.name,id', 'Observation.code,Patient.name'] }).elements).toEqual({ Patient: ['name'], '*': ['id'], Observation: ['code'] });
    expect(refusal(() => get({ _elements: ['Patient.name.given'] }))).toMatchObject({ status: 400, expression: ['_elements'] });
    expect(refusal(() => get({ _elements: ['Bogus.name'] }))).toMatchObject({ status: 400, expression: ['_elements'] });
    expect(refusal(() => get({ _elements: ['Name'] }))).toMatchObject({ status: 400, expression: ['_elements'] });
  });

  it('patient: POST only, Patient references, not at system level', () => {
    expect(refusal(() => get({ patient: ['Patient/1'] }, ASYNC, 'patient'))).toMatchObject({ status: 400, expression: ['patient'] });
    expect(post([{ name: 'patient', valueReference: { reference: 'Patient/a' } }, { name: 'patient', valueReference: { reference: 'Patient/b' } }]).patients).toEqual(['a', 'b']);
    expect(refusal(() => post([{ name: 'patient', valueReference: { reference: 'Group/a' } }]))).toMatchObject({ status: 400, expression: ['Parameters.parameter[0].valueReference'] });
    expect(refusal(() => post([{ name: 'patient', valueReference: { reference: 'Patient/a' } }], ASYNC, 'system'))).toMatchObject({ status: 400, expression: ['patient'] });
  });

  it('a POST takes every parameter from its Parameters body (strings, codes, instants), none from the URL', () => {
    const asked = post([
      { name: '_outputFormat', valueString: 'ndjson' },
      { name: '_since', valueInstant: '2026-01-01T00:00:00Z' },
      { name: '_type', valueString: 'Patient,Observation' },
      { name: '_type', valueString: 'Condition' },
      { name: '_typeFilter', valueString: 'Observation?category=laboratory' },
      { name: 'includeAssociatedData', valueCode: 'LatestProvenanceResources' },
    ]);
    expect(asked).toMatchObject({
      outputFormat: 'ndjson',
      since: '2026-01-01T00:00:00Z',
      types: ['Patient', 'Observation', 'Condition'],
      typeFilters: { Observation: [{ category: ['laboratory'] }] },
      includeAssociatedData: ['LatestProvenanceResources'],
    });
    expect(refusal(() => kickOffParameters({ level: 'system', method: 'POST', query: { _type: ['Patient'] }, body: { resourceType: 'Parameters' }, prefer: ASYNC, now: NOW, checkFilter }))).toMatchObject({ status: 400, expression: ['_type'] });
    expect(refusal(() => kickOffParameters({ level: 'system', method: 'POST', query: {}, body: { resourceType: 'Patient' }, prefer: ASYNC, now: NOW, checkFilter }))).toMatchObject({ status: 400 });
    expect(refusal(() => post([{ name: '_since' }]))).toMatchObject({ status: 400, expression: ['Parameters.parameter[0]'] });
  });

  it('unknown parameters: refused (strict) or ignored with an issue (lenient); the transport\'s own are no parameters', () => {
    expect(refusal(() => get({ _count: ['10'] }))).toMatchObject({ status: 400, code: 'not-supported', expression: ['_count'] });
    expect(get({ _count: ['10'] }, 'respond-async, handling=lenient').issues).toEqual([expect.objectContaining({ expression: ['_count'] })]);
    expect(get({ _format: ['json'], _pretty: ['true'] }).issues).toEqual([]);
  });

  it('_typeFilter: Type?query, alternatives per type, checked against the search parameters', () => {
    const asked = get({ _type: ['Observation,Condition'], _typeFilter: ['Observation?category=laboratory,Observation?code=http://loinc.org|1234-5', 'Condition?clinical-status=active'] });
    expect(asked.typeFilters).toEqual({
      Observation: [{ category: ['laboratory'] }, { code: ['http://loinc.org|1234-5'] }],
      Condition: [{ 'clinical-status': ['active'] }],
    });
    // A comma inside a query, percent-encoded, stays in its value.
    expect(get({ _typeFilter: ['Observation?code=a%2Cb'] }).typeFilters).toEqual({ Observation: [{ code: ['a,b'] }] });
    expect(refusal(() => get({ _type: ['Condition'], _typeFilter: ['Observation?category=laboratory'] }))).toMatchObject({ status: 400, expression: ['_typeFilter'], diagnostics: expect.stringContaining('_type') });
    expect(refusal(() => get({ _typeFilter: ['Bogus?x=1'] }))).toMatchObject({ status: 400, expression: ['_typeFilter'] });
    expect(refusal(() => get({ _typeFilter: ['Observation'] }))).toMatchObject({ status: 400, expression: ['_typeFilter'] });
    expect(refusal(() => get({ _typeFilter: ['Observation?_count=5'] }))).toMatchObject({ status: 400, expression: ['_typeFilter'] });
    // A malformed value of a known parameter: the search parser's 400, named _typeFilter.
    expect(refusal(() => get({ _typeFilter: ['Observation?date=notadate'] }))).toMatchObject({ status: 400, expression: ['_typeFilter'] });
    // An unknown parameter: refused at kick-off (strict); lenient exports the type unfiltered and says so.
    expect(refusal(() => get({ _typeFilter: ['Observation?flavour=sweet'] }))).toMatchObject({ status: 400, code: 'not-supported', expression: ['_typeFilter'], diagnostics: expect.stringContaining('flavour') });
    const lenient = get({ _typeFilter: ['Observation?flavour=sweet', 'Observation?category=laboratory', 'Condition?clinical-status=active'] }, 'respond-async, handling=lenient');
    expect(lenient.typeFilters).toEqual({ Condition: [{ 'clinical-status': ['active'] }] });
    expect(lenient.issues).toEqual([expect.objectContaining({ expression: ['_typeFilter'], diagnostics: expect.stringContaining('unfiltered') })]);
  });

  it('includeAssociatedData: LatestProvenanceResources supported; the other values unsupported; anything else invalid', () => {
    expect(get({ includeAssociatedData: ['LatestProvenanceResources'] }).includeAssociatedData).toEqual(['LatestProvenanceResources']);
    expect(refusal(() => get({ includeAssociatedData: ['RelevantProvenanceResources'] }))).toMatchObject({ status: 400, code: 'not-supported', expression: ['includeAssociatedData'] });
    expect(refusal(() => get({ includeAssociatedData: ['_ourOwn'] }))).toMatchObject({ status: 400, code: 'not-supported', expression: ['includeAssociatedData'] });
    const lenient = get({ includeAssociatedData: ['LatestProvenanceResources,_ourOwn'] }, 'respond-async, handling=lenient');
    expect(lenient.includeAssociatedData).toEqual(['LatestProvenanceResources']);
    expect(lenient.issues).toHaveLength(1);
    // Neither the specification's nor a custom (_-prefixed) value: invalid, lenient or not.
    expect(refusal(() => get({ includeAssociatedData: ['Everything'] }, 'respond-async, handling=lenient'))).toMatchObject({ status: 400, code: 'invalid', expression: ['includeAssociatedData'] });
  });
});
