import type { CarePlan, Observation, Parameters, ParametersParameter, Patient, Resource } from 'fhir/r4';
import type { FhirError } from '../../server/fhir/outcome.js';
import { applyPatch } from '../../server/patch/apply-patch.js';
import { applyFhirPathPatch } from '../../server/patch/fhirpath-patch.js';
import { thrown } from '../support/thrown.js';

// ---- building patches -------------------------------------------------------------------------------------------

type Part = ParametersParameter;

/** One `operation` parameter: its type and path, then whatever other parts it takes. */
const operation = (type: string, path: string, ...parts: Part[]): Part => ({
  name: 'operation',
  part: [
    { name: 'type', valueCode: type },
    { name: 'path', valueString: path },
    ...parts,
  ],
});
const named = (element: string): Part => ({ name: 'name', valueString: element });
/** A `value` part: `{ valueString: 'x' }`, `{ resource: … }` or `{ part: [...] }`. */
const value = (content: Omit<Part, 'name'>): Part => ({ name: 'value', ...content });
const index = (i: number): Part => ({ name: 'index', valueInteger: i });
const source = (i: number): Part => ({ name: 'source', valueInteger: i });
const destination = (i: number): Part => ({ name: 'destination', valueInteger: i });
const patch = (...operations: Part[]): Parameters => ({ resourceType: 'Parameters', parameter: operations });

/** Applies the operations and checks on the way that the resource itself was left alone. */
function patched<T extends Resource>(resource: T, ...operations: Part[]): T {
  const before = structuredClone(resource);
  const result = applyFhirPathPatch(resource, patch(...operations)) as T;
  expect(resource).toEqual(before);
  return result;
}

/** The error a patch fails with; the resource must be untouched by the failed attempt too. */
function failure(resource: Resource, patchBody: unknown): FhirError {
  const before = structuredClone(resource);
  const error = thrown(() => applyFhirPathPatch(resource, patchBody));
  expect(resource).toEqual(before);
  return error;
}

// ---- resources --------------------------------------------------------------------------------------------------

const CALL_ME = { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/iso21090-EN-qualifier', valueCode: 'CL' }] };

function patient(): Patient {
  return {
    resourceType: 'Patient',
    id: 'example',
    meta: { versionId: '3' },
    active: true,
    name: [
      { use: 'official', family: 'Chalmers', given: ['Peter', 'James'] },
      { use: 'usual', given: ['Jim'] },
    ],
    telecom: [
      { system: 'phone', value: '(03) 5555 6473', use: 'work' },
      { system: 'email', value: 'peter.chalmers@example.org' },
    ],
    gender: 'male',
    birthDate: '1974-12-25',
    _birthDate: { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-birthTime', valueDateTime: '1974-12-25T14:35:45-05:00' }] },
    deceasedBoolean: false,
    address: [{ use: 'home', line: ['534 Erewhon St'], city: 'PleasantVille', postalCode: '3999' }],
    managingOrganization: { reference: 'Organization/1' },
  };
}

function bloodPressure(): Observation {
  const loinc = (code: string, display: string) => ({ coding: [{ system: 'http://loinc.org', code, display }] });
  const mmHg = (v: number) => ({ value: v, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' });
  return {
    resourceType: 'Observation',
    id: 'blood-pressure',
    status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
    code: loinc('85354-9', 'Blood pressure panel'),
    subject: { reference: 'Patient/example' },
    effectiveDateTime: '2012-09-17',
    component: [
      { code: loinc('8480-6', 'Systolic blood pressure'), valueQuantity: mmHg(107) },
      { code: loinc('8462-4', 'Diastolic blood pressure'), valueQuantity: mmHg(60) },
    ],
  };
}

function glucose(): Observation {
  return {
    resourceType: 'Observation',
    id: 'glucose',
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '15074-8', display: 'Glucose [Moles/volume] in Blood' }], text: 'Glucose' },
    subject: { reference: 'Patient/example' },
    valueQuantity: { value: 6.3, unit: 'mmol/l', system: 'http://unitsofmeasure.org', code: 'mmol/L' },
  };
}

function carePlan(): CarePlan {
  return {
    resourceType: 'CarePlan',
    id: 'diabetes',
    status: 'active',
    intent: 'plan',
    subject: { reference: 'Patient/example' },
    period: { start: '2024-01-01' },
    activity: [
      { detail: { kind: 'ServiceRequest', code: { text: 'Physiotherapy' }, status: 'scheduled' } },
      { detail: { kind: 'MedicationRequest', code: { text: 'Metformin' }, status: 'in-progress' } },
      { detail: { kind: 'Appointment', code: { text: 'Follow-up' }, status: 'not-started' } },
    ],
    note: [{ text: 'Review in 3 months' }],
  };
}

// ---- operations -------------------------------------------------------------------------------------------------

describe('add', () => {
  it('adds a non-repeating element that is absent', () => {
    const { birthDate: _, _birthDate: __, ...rest } = patient();
    const withoutBirthDate: Patient = rest;
    const result = patched(withoutBirthDate, operation('add', 'Patient', named('birthDate'), value({ valueDate: '1974-12-25' })));
    expect(result.birthDate).toBe('1974-12-25');
  });

  it('appends to a repeating element of the element the path selects with where(...)', () => {
    const result = patched(patient(), operation('add', "Patient.name.where(use = 'official')", named('given'), value({ valueString: 'Jim' })));
    expect(result.name).toEqual([
      { use: 'official', family: 'Chalmers', given: ['Peter', 'James', 'Jim'] },
      { use: 'usual', given: ['Jim'] },
    ]);
  });

  it('appends a complex value to a repeating element of the resource', () => {
    const result = patched(patient(), operation('add', 'Patient', named('telecom'), value({ valueContactPoint: { system: 'phone', value: '0400 000 000', use: 'mobile' } })));
    expect(result.telecom).toEqual([...patient().telecom!, { system: 'phone', value: '0400 000 000', use: 'mobile' }]);
  });

  it('creates a repeating element as a list when there is none', () => {
    const result = patched(patient(), operation('add', 'Patient', named('identifier'), value({ valueIdentifier: { system: 'urn:oid:1.2.36.146.595.217.0.1', value: '12345' } })));
    expect(result.identifier).toEqual([{ system: 'urn:oid:1.2.36.146.595.217.0.1', value: '12345' }]);
  });

  it('writes a choice element under the name of the value type: deceased + valueBoolean is deceasedBoolean', () => {
    const { deceasedBoolean: _, ...alive } = patient();
    const result = patched(alive, operation('add', 'Patient', named('deceased'), value({ valueBoolean: true }))) as Patient & Record<string, unknown>;
    expect(result.deceasedBoolean).toBe(true);
    expect(result).not.toHaveProperty('deceased');
  });

  it('writes a choice element of a backbone element: CarePlan.activity.detail.scheduled + valuePeriod is scheduledPeriod', () => {
    const result = patched(
      carePlan(),
      operation('add', "CarePlan.activity.detail.where(code.text = 'Follow-up')", named('scheduled'), value({ valuePeriod: { start: '2024-04-01', end: '2024-04-30' } })),
    );
    expect(result.activity![2].detail).toEqual({
      kind: 'Appointment',
      code: { text: 'Follow-up' },
      status: 'not-started',
      scheduledPeriod: { start: '2024-04-01', end: '2024-04-30' },
    });
    expect(result.activity!.slice(0, 2)).toEqual(carePlan().activity!.slice(0, 2));
  });

  it('builds an anonymous (backbone) value from parts: a Patient.contact, whose telecom repeats and so is a list', () => {
    const result = patched(
      patient(),
      operation(
        'add',
        'Patient',
        named('contact'),
        value({
          part: [
            { name: 'name', valueHumanName: { family: 'du Marché', given: ['Bénédicte'] } },
            { name: 'telecom', valueContactPoint: { system: 'phone', value: '+33 (237) 998327' } },
            { name: 'gender', valueCode: 'female' },
          ],
        }),
      ),
    );
    expect(result.contact).toEqual([
      {
        name: { family: 'du Marché', given: ['Bénédicte'] },
        telecom: [{ system: 'phone', value: '+33 (237) 998327' }],
        gender: 'female',
      },
    ]);
  });

  it('builds a backbone value with a choice element among its parts: Observation.component value + valueQuantity', () => {
    const heartRate = { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }] };
    const result = patched(
      bloodPressure(),
      operation(
        'add',
        'Observation',
        named('component'),
        value({ part: [
          { name: 'code', valueCodeableConcept: heartRate },
          { name: 'value', valueQuantity: { value: 72, unit: 'beats/minute', system: 'http://unitsofmeasure.org', code: '/min' } },
        ] }),
      ),
    );
    expect(result.component).toHaveLength(3);
    expect(result.component![2]).toEqual({
      code: heartRate,
      valueQuantity: { value: 72, unit: 'beats/minute', system: 'http://unitsofmeasure.org', code: '/min' },
    });
  });

  it('builds nested backbone values: a CarePlan.activity with a detail given as parts and a repeating progress', () => {
    const result = patched(
      carePlan(),
      operation(
        'add',
        'CarePlan',
        named('activity'),
        value({ part: [
          { name: 'progress', valueAnnotation: { text: 'Booked with the dietitian' } },
          { name: 'detail', part: [
            { name: 'kind', valueCode: 'Appointment' },
            { name: 'code', valueCodeableConcept: { text: 'Dietitian' } },
            { name: 'status', valueCode: 'scheduled' },
            { name: 'scheduled', valueString: 'every 3 months' },
          ] },
        ] }),
      ),
    );
    expect(result.activity).toHaveLength(4);
    expect(result.activity![3]).toEqual({
      progress: [{ text: 'Booked with the dietitian' }],
      detail: { kind: 'Appointment', code: { text: 'Dietitian' }, status: 'scheduled', scheduledString: 'every 3 months' },
    });
  });

  it('adds a resource given in the value part\'s resource', () => {
    const goal = { resourceType: 'Goal', id: 'hba1c', lifecycleStatus: 'active', description: { text: 'HbA1c below 7%' }, subject: { reference: 'Patient/example' } };
    const result = patched(carePlan(), operation('add', 'CarePlan', named('contained'), value({ resource: goal as Resource })));
    expect(result.contained).toEqual([goal]);
  });

  it('refuses to add a non-repeating element that already has a value (422)', () => {
    const error = failure(patient(), patch(operation('add', 'Patient', named('gender'), value({ valueCode: 'female' }))));
    expect(error.status).toBe(422);
    expect(error.message).toContain('operation 0');
  });

  it('refuses to add a choice element that already has a value of another type (422)', () => {
    const { deceasedBoolean: _, ...rest } = patient();
    const died: Patient = { ...rest, deceasedDateTime: '2015-02-14T13:42:00+10:00' };
    const error = failure(died, patch(operation('add', 'Patient', named('deceased'), value({ valueBoolean: true }))));
    expect(error.status).toBe(422);
  });

  it('refuses a value of a type the choice element does not take (422)', () => {
    const { deceasedBoolean: _, ...alive } = patient();
    const error = failure(alive, patch(operation('add', 'Patient', named('deceased'), value({ valueString: 'yes' }))));
    expect(error.status).toBe(422);
    expect(error.message).toContain('operation 0');
  });

  it('refuses a name that is not an element of what the path selects (422)', () => {
    const error = failure(patient(), patch(operation('add', 'Patient', named('colour'), value({ valueString: 'blue' }))));
    expect(error.status).toBe(422);
  });

  it('refuses a path that selects more than one element (422)', () => {
    const error = failure(patient(), patch(operation('add', 'Patient.name', named('prefix'), value({ valueString: 'Mr' }))));
    expect(error.status).toBe(422);
    expect(error.message).toContain('operation 0');
  });

  it('refuses a path that selects nothing (422)', () => {
    const error = failure(patient(), patch(operation('add', 'Patient.contact', named('gender'), value({ valueCode: 'female' }))));
    expect(error.status).toBe(422);
    expect(error.message).toContain('operation 0');
  });
});

describe('insert', () => {
  it('inserts into a list at the index, moving the later items along', () => {
    const result = patched(patient(), operation('insert', "Patient.name.where(use = 'official').given", index(1), value({ valueString: 'Jim' })));
    expect(result.name![0].given).toEqual(['Peter', 'Jim', 'James']);
    expect(result.name![1]).toEqual({ use: 'usual', given: ['Jim'] });
  });

  it('inserts at the front (index 0) and at the end (index = length)', () => {
    const front = patched(patient(), operation('insert', 'Patient.telecom', index(0), value({ valueContactPoint: { system: 'fax', value: '1' } })));
    expect(front.telecom!.map((t) => t.system)).toEqual(['fax', 'phone', 'email']);
    const end = patched(patient(), operation('insert', 'Patient.telecom', index(2), value({ valueContactPoint: { system: 'fax', value: '1' } })));
    expect(end.telecom!.map((t) => t.system)).toEqual(['phone', 'email', 'fax']);
  });

  it('creates the list when it is absent: Patient.identifier on a Patient with none', () => {
    const identifier = { use: 'usual' as const, system: 'urn:oid:1.2.36.146.595.217.0.1', value: '12345' };
    const result = patched(patient(), operation('insert', 'Patient.identifier', index(0), value({ valueIdentifier: identifier })));
    expect(result.identifier).toEqual([identifier]);
  });

  it('creates an absent list inside the element the path selects: given of a name that has none', () => {
    const resource = patient();
    delete resource.name![1].given;
    const result = patched(resource, operation('insert', "Patient.name.where(use = 'usual').given", index(0), value({ valueString: 'Jim' })));
    expect(result.name![1]).toEqual({ use: 'usual', given: ['Jim'] });
    expect(result.name![0]).toEqual(patient().name![0]);
  });

  it('creates an absent list of a backbone element from parts: Patient.contact', () => {
    const result = patched(
      patient(),
      operation('insert', 'Patient.contact', index(0), value({ part: [
        { name: 'name', valueHumanName: { text: 'Bénédicte du Marché' } },
        { name: 'telecom', valueContactPoint: { system: 'phone', value: '+33 (237) 998327' } },
      ] })),
    );
    expect(result.contact).toEqual([{ name: { text: 'Bénédicte du Marché' }, telecom: [{ system: 'phone', value: '+33 (237) 998327' }] }]);
  });

  it('inserts an anonymous value built from parts into a list of backbone elements: CarePlan.activity', () => {
    const result = patched(
      carePlan(),
      operation('insert', 'CarePlan.activity', index(1), value({ part: [
        { name: 'detail', part: [
          { name: 'kind', valueCode: 'Task' },
          { name: 'code', valueCodeableConcept: { text: 'Foot check' } },
          { name: 'status', valueCode: 'not-started' },
        ] },
      ] })),
    );
    expect(result.activity!.map((a) => a.detail!.code!.text)).toEqual(['Physiotherapy', 'Foot check', 'Metformin', 'Follow-up']);
    expect(result.activity![1]).toEqual({ detail: { kind: 'Task', code: { text: 'Foot check' }, status: 'not-started' } });
  });

  it('keeps the extensions of a list of primitives with their values (the _given array moves along)', () => {
    const resource = patient();
    resource.name![0]._given = [null as never, CALL_ME];
    const result = patched(resource, operation('insert', "Patient.name.where(use = 'official').given", index(0), value({ valueString: 'Pete' })));
    expect(result.name![0].given).toEqual(['Pete', 'Peter', 'James']);
    expect(result.name![0]._given).toEqual([null, null, CALL_ME]);
  });

  it('refuses an index past the end of the list (422)', () => {
    const error = failure(patient(), patch(operation('insert', 'Patient.telecom', index(3), value({ valueContactPoint: { system: 'fax', value: '1' } }))));
    expect(error.status).toBe(422);
    expect(error.message).toContain('operation 0');
  });

  it('refuses an index other than 0 into an absent list (422)', () => {
    const error = failure(patient(), patch(operation('insert', 'Patient.identifier', index(1), value({ valueIdentifier: { value: '1' } }))));
    expect(error.status).toBe(422);
  });

  it('refuses to insert into an element that is not a list (422)', () => {
    const error = failure(patient(), patch(operation('insert', 'Patient.gender', index(0), value({ valueCode: 'female' }))));
    expect(error.status).toBe(422);
  });

  it('refuses a path that selects items of more than one list (422)', () => {
    // Both names have given names: the path selects items of two lists.
    const error = failure(patient(), patch(operation('insert', 'Patient.name.given', index(0), value({ valueString: 'X' }))));
    expect(error.status).toBe(422);
    expect(error.message).toContain('operation 0');
  });

  it('refuses a path that selects nothing and names no list (422)', () => {
    const error = failure(patient(), patch(operation('insert', "Patient.name.where(use = 'nickname')", index(0), value({ valueHumanName: { text: 'Pete' } }))));
    expect(error.status).toBe(422);
  });
});

describe('delete', () => {
  it('deletes the one item of a list the path selects with where(...), keeping the others in order', () => {
    const result = patched(patient(), operation('delete', "Patient.telecom.where(system = 'phone')"));
    expect(result.telecom).toEqual([{ system: 'email', value: 'peter.chalmers@example.org' }]);
  });

  it('deletes the item at an index given in the path', () => {
    const result = patched(carePlan(), operation('delete', 'CarePlan.activity[1]'));
    expect(result.activity!.map((a) => a.detail!.code!.text)).toEqual(['Physiotherapy', 'Follow-up']);
  });

  it('removes a list when its last item is deleted (no empty array remains)', () => {
    const result = patched(carePlan(), operation('delete', 'CarePlan.note'));
    expect(result).not.toHaveProperty('note');
    expect(result.activity).toHaveLength(3);
  });

  it('removes an object when its last element is deleted (no empty object remains)', () => {
    const result = patched(carePlan(), operation('delete', 'CarePlan.period.start'));
    expect(result).not.toHaveProperty('period');
  });

  it('removes a list item left empty, and the list left empty, up the tree', () => {
    const result = patched(patient(), operation('delete', "Patient.name.where(use = 'usual').given"), operation('delete', "Patient.name.where(use = 'usual').use"));
    expect(result.name).toEqual([{ use: 'official', family: 'Chalmers', given: ['Peter', 'James'] }]);
  });

  it('deletes a primitive together with its extensions (_birthDate)', () => {
    const result = patched(patient(), operation('delete', 'Patient.birthDate')) as Patient & Record<string, unknown>;
    expect(result).not.toHaveProperty('birthDate');
    expect(result).not.toHaveProperty('_birthDate');
  });

  it('deletes an item of a list of primitives together with its extension', () => {
    const resource = patient();
    resource.name![0]._given = [null as never, CALL_ME];
    const result = patched(resource, operation('delete', "Patient.name.where(use = 'official').given[1]"));
    expect(result.name![0].given).toEqual(['Peter']);
    // The qualifier was James's: nothing of it may be left on Peter.
    expect((result.name![0]._given ?? []).every((e) => e === null)).toBe(true);
  });

  it('deletes a choice element by its name without the type: Patient.deceased', () => {
    const result = patched(patient(), operation('delete', 'Patient.deceased'));
    expect(result).not.toHaveProperty('deceasedBoolean');
    expect(result.birthDate).toBe('1974-12-25');
  });

  it('deletes a choice element of a backbone element: Observation.component.value', () => {
    const result = patched(bloodPressure(), operation('delete', "Observation.component.where(code.coding.code = '8462-4').value"));
    expect(result.component![1]).toEqual({ code: bloodPressure().component![1].code });
    expect(result.component![0]).toEqual(bloodPressure().component![0]);
  });

  it('is a no-op when the path selects nothing', () => {
    const resource = patient();
    expect(patched(resource, operation('delete', 'Patient.contact'))).toEqual(resource);
    expect(patched(resource, operation('delete', "Patient.name.where(use = 'maiden')"))).toEqual(resource);
  });

  it('refuses a path that selects more than one element (422)', () => {
    const error = failure(patient(), patch(operation('delete', 'Patient.name')));
    expect(error.status).toBe(422);
    expect(error.message).toContain('operation 0');
  });
});

describe('replace', () => {
  it('replaces a primitive value', () => {
    const result = patched(patient(), operation('replace', 'Patient.birthDate', value({ valueDate: '1974-12-24' })));
    expect(result.birthDate).toBe('1974-12-24');
    expect(result.gender).toBe('male');
  });

  it('replaces the one item of a list the path selects, in its place', () => {
    const result = patched(patient(), operation('replace', "Patient.name.where(use = 'usual')", value({ valueHumanName: { use: 'nickname', given: ['Pete'] } })));
    expect(result.name).toEqual([
      { use: 'official', family: 'Chalmers', given: ['Peter', 'James'] },
      { use: 'nickname', given: ['Pete'] },
    ]);
  });

  it('replaces an element inside a selected list item', () => {
    const result = patched(carePlan(), operation('replace', "CarePlan.activity.detail.where(code.text = 'Metformin').status", value({ valueCode: 'completed' })));
    expect(result.activity!.map((a) => a.detail!.status)).toEqual(['scheduled', 'completed', 'not-started']);
  });

  it('changes the type of a choice element: Patient.deceased with valueDateTime removes deceasedBoolean', () => {
    const result = patched(patient(), operation('replace', 'Patient.deceased', value({ valueDateTime: '2015-02-14T13:42:00+10:00' })));
    expect(result.deceasedDateTime).toBe('2015-02-14T13:42:00+10:00');
    expect(result).not.toHaveProperty('deceasedBoolean');
  });

  it('changes the type of Observation.value from Quantity to string', () => {
    const result = patched(glucose(), operation('replace', 'Observation.value', value({ valueString: 'not detected' })));
    expect(result.valueString).toBe('not detected');
    expect(result).not.toHaveProperty('valueQuantity');
  });

  it('replaces a choice element of a backbone element: Observation.component.value', () => {
    const quantity = { value: 110, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' };
    const result = patched(bloodPressure(), operation('replace', "Observation.component.where(code.coding.code = '8480-6').value", value({ valueQuantity: quantity })));
    expect(result.component![0].valueQuantity).toEqual(quantity);
    expect(result.component![1]).toEqual(bloodPressure().component![1]);
  });

  it('changes the type of a choice element of a backbone element: effective[x] and component value[x]', () => {
    const result = patched(
      bloodPressure(),
      operation('replace', 'Observation.effective', value({ valuePeriod: { start: '2012-09-17T09:00:00Z', end: '2012-09-17T09:05:00Z' } })),
      operation('replace', "Observation.component.where(code.coding.code = '8462-4').value", value({ valueString: 'not measured' })),
    );
    expect(result).not.toHaveProperty('effectiveDateTime');
    expect(result.effectivePeriod).toEqual({ start: '2012-09-17T09:00:00Z', end: '2012-09-17T09:05:00Z' });
    expect(result.component![1]).toEqual({ code: bloodPressure().component![1].code, valueString: 'not measured' });
  });

  it('replaces a backbone element with a value built from parts', () => {
    const result = patched(
      carePlan(),
      operation('replace', "CarePlan.activity.where(detail.code.text = 'Follow-up').detail", value({ part: [
        { name: 'kind', valueCode: 'Appointment' },
        { name: 'code', valueCodeableConcept: { text: 'Annual review' } },
        { name: 'status', valueCode: 'scheduled' },
        { name: 'scheduled', valueString: 'yearly' },
      ] })),
    );
    expect(result.activity![2]).toEqual({ detail: { kind: 'Appointment', code: { text: 'Annual review' }, status: 'scheduled', scheduledString: 'yearly' } });
  });

  it('refuses a path that selects nothing (422)', () => {
    const error = failure(patient(), patch(operation('replace', 'Patient.maritalStatus', value({ valueCodeableConcept: { text: 'Married' } }))));
    expect(error.status).toBe(422);
    expect(error.message).toContain('operation 0');
  });

  it('refuses a path that selects more than one element (422)', () => {
    const error = failure(patient(), patch(operation('replace', 'Patient.telecom.system', value({ valueCode: 'phone' }))));
    expect(error.status).toBe(422);
    expect(error.message).toContain('operation 0');
  });
});

describe('move', () => {
  it('moves an item of a list from source to destination', () => {
    const result = patched(patient(), operation('move', "Patient.name.where(use = 'official').given", source(0), destination(1)));
    expect(result.name![0].given).toEqual(['James', 'Peter']);
  });

  it('counts the destination in the list without the moved item: 0 to 2 of three', () => {
    const result = patched(carePlan(), operation('move', 'CarePlan.activity', source(0), destination(2)));
    expect(result.activity!.map((a) => a.detail!.code!.text)).toEqual(['Metformin', 'Follow-up', 'Physiotherapy']);
  });

  it('moves towards the front', () => {
    const result = patched(carePlan(), operation('move', 'CarePlan.activity', source(2), destination(0)));
    expect(result.activity!.map((a) => a.detail!.code!.text)).toEqual(['Follow-up', 'Physiotherapy', 'Metformin']);
  });

  it('keeps the extensions of a list of primitives with their values', () => {
    const resource = patient();
    resource.name![0]._given = [null as never, CALL_ME];
    const result = patched(resource, operation('move', "Patient.name.where(use = 'official').given", source(1), destination(0)));
    expect(result.name![0].given).toEqual(['James', 'Peter']);
    expect(result.name![0]._given).toEqual([CALL_ME, null]);
  });

  it.each([
    ['source', 3, 0],
    ['destination', 0, 3],
  ])('refuses a %s equal to the length of the list (422)', (_, from, to) => {
    const error = failure(carePlan(), patch(operation('move', 'CarePlan.activity', source(from), destination(to))));
    expect(error.status).toBe(422);
    expect(error.message).toContain('operation 0');
  });

  it('refuses to move in an element that is not a list (422)', () => {
    const error = failure(patient(), patch(operation('move', 'Patient.birthDate', source(0), destination(0))));
    expect(error.status).toBe(422);
  });

  it('refuses to move in a list that is absent (422)', () => {
    const error = failure(patient(), patch(operation('move', 'Patient.identifier', source(0), destination(0))));
    expect(error.status).toBe(422);
  });

  it('refuses a path that selects items of more than one list (422)', () => {
    const error = failure(patient(), patch(operation('move', 'Patient.name.given', source(0), destination(1))));
    expect(error.status).toBe(422);
  });
});

// ---- the patch as a whole ---------------------------------------------------------------------------------------

describe('the patch as a whole', () => {
  it('applies the operations in order, each on the result of the one before', () => {
    const result = patched(
      patient(),
      operation('insert', 'Patient.identifier', index(0), value({ valueIdentifier: { system: 'urn:a', value: '1' } })),
      operation('insert', 'Patient.identifier', index(0), value({ valueIdentifier: { system: 'urn:b', value: '2' } })),
      operation('replace', "Patient.identifier.where(system = 'urn:a').value", value({ valueString: '3' })),
      operation('move', 'Patient.identifier', source(0), destination(1)),
    );
    expect(result.identifier).toEqual([
      { system: 'urn:a', value: '3' },
      { system: 'urn:b', value: '2' },
    ]);
  });

  it('is all or nothing: a failing operation names its index and the resource is untouched', () => {
    const resource = patient();
    const error = failure(
      resource,
      patch(
        operation('replace', 'Patient.active', value({ valueBoolean: false })),
        operation('delete', 'Patient.telecom[0]'),
        operation('replace', 'Patient.maritalStatus', value({ valueCodeableConcept: { text: 'Married' } })),
      ),
    );
    expect(error.status).toBe(422);
    expect(error.message).toContain('operation 2');
    expect(resource.active).toBe(true);
    expect(resource.telecom).toHaveLength(2);
  });

  it('never modifies the input resource and shares no objects with it or with the patch', () => {
    const resource = patient();
    const contactPoint = { system: 'phone' as const, value: '0400 000 000' };
    const parameters = patch(
      operation('add', 'Patient', named('telecom'), value({ valueContactPoint: contactPoint })),
      operation('delete', "Patient.name.where(use = 'usual')"),
      operation('replace', 'Patient.deceased', value({ valueDateTime: '2015-02-14' })),
    );
    const before = structuredClone(resource);
    const result = applyFhirPathPatch(resource, parameters) as Patient;
    expect(resource).toEqual(before);
    result.name![0].given!.push('Changed');
    result.telecom![2].value = 'changed';
    expect(resource.name![0].given).toEqual(['Peter', 'James']);
    expect(contactPoint.value).toBe('0400 000 000');
  });

  it('returns an equal copy for a Parameters with no operations', () => {
    const resource = carePlan();
    const result = applyFhirPathPatch(resource, { resourceType: 'Parameters' });
    expect(result).toEqual(resource);
    expect(result).not.toBe(resource);
  });
});

describe('malformed patches (400)', () => {
  it.each<[string, unknown]>([
    ['a JSON Patch array', [{ op: 'replace', path: '/active', value: false }]],
    ['another resource', { resourceType: 'Patient', active: false }],
    ['null', null],
  ])('refuses %s instead of a Parameters resource', (_, body) => {
    expect(failure(patient(), body).status).toBe(400);
  });

  const good = operation('replace', 'Patient.active', value({ valueBoolean: false }));
  const without = (op: Part, part: string): Part => ({ ...op, part: op.part!.filter((p) => p.name !== part) });

  it.each<[string, Part]>([
    ['a parameter not named operation', { ...good, name: 'op' }],
    ['an unknown type', operation('copy', 'Patient.active', value({ valueBoolean: false }))],
    ['a missing type', without(good, 'type')],
    ['a missing path', without(good, 'path')],
    ['add without name', operation('add', 'Patient', value({ valueDate: '2000-01-01' }))],
    ['add without value', operation('add', 'Patient', named('birthDate'))],
    ['insert without index', operation('insert', 'Patient.telecom', value({ valueContactPoint: { value: '1' } }))],
    ['insert without value', operation('insert', 'Patient.telecom', index(0))],
    ['replace without value', without(good, 'value')],
    ['move without source', operation('move', 'Patient.telecom', destination(0))],
    ['move without destination', operation('move', 'Patient.telecom', source(0))],
    ['a negative index', operation('insert', 'Patient.telecom', { name: 'index', valueInteger: -1 }, value({ valueContactPoint: { value: '1' } }))],
    ['a path that is not valid FHIRPath', operation('delete', "Patient.name.where(use = 'usual'")],
    ['a path that uses resolve()', operation('replace', 'Patient.managingOrganization.resolve().name', value({ valueString: 'x' }))],
  ])('refuses %s, naming the operation', (_, bad) => {
    const error = failure(patient(), patch(good, bad));
    expect(error.status).toBe(400);
    expect(error.message).toContain('operation 1');
  });

  it('checks the whole patch before applying any of it: a malformed last operation is a 400 even after one that would fail', () => {
    const error = failure(patient(), patch(operation('replace', 'Patient.maritalStatus', value({ valueString: 'x' })), operation('erase', 'Patient.active')));
    expect(error.status).toBe(400);
    expect(error.message).toContain('operation 1');
  });
});

// ---- applyPatch -------------------------------------------------------------------------------------------------

describe('applyPatch', () => {
  const jsonPatch = [{ op: 'replace', path: '/active', value: false }];
  const fhirPathPatch = patch(operation('replace', 'Patient.active', value({ valueBoolean: false })));

  it.each(['application/json-patch+json', 'application/json-patch+json; charset=utf-8', 'Application/JSON-Patch+JSON ;charset=UTF-8'])(
    'applies a JSON Patch sent as %s',
    (contentType) => {
      expect((applyPatch(patient(), jsonPatch, contentType) as Patient).active).toBe(false);
    },
  );

  it.each([['application/fhir+json'], ['application/json'], ['application/fhir+json; fhirVersion=4.0'], [undefined]])(
    'applies a FHIRPath Patch sent as %s',
    (contentType) => {
      expect((applyPatch(patient(), fhirPathPatch, contentType) as Patient).active).toBe(false);
    },
  );

  it('reads a JSON Patch sent with a FHIR media type as a (malformed) FHIRPath Patch: 400', () => {
    expect(thrown(() => applyPatch(patient(), jsonPatch, 'application/fhir+json')).status).toBe(400);
  });

  it('reads a Parameters resource sent as application/json-patch+json as a (malformed) JSON Patch: 400', () => {
    expect(thrown(() => applyPatch(patient(), fhirPathPatch, 'application/json-patch+json')).status).toBe(400);
  });

  it.each<[string, unknown]>([
    ['changes the resourceType', [{ op: 'replace', path: '/resourceType', value: 'Person' }]],
    ['changes the id', [{ op: 'replace', path: '/id', value: 'other' }]],
    ['removes the id', [{ op: 'remove', path: '/id' }]],
    ['replaces the resource with an array', [{ op: 'replace', path: '', value: [] }]],
    ['replaces the resource with a string', [{ op: 'replace', path: '', value: 'Patient' }]],
    ['replaces the resource with null', [{ op: 'replace', path: '', value: null }]],
    ['replaces the resource with another one', [{ op: 'replace', path: '', value: { resourceType: 'Observation', id: 'example' } }]],
  ])('refuses a JSON Patch that %s (422)', (_, body) => {
    const resource = patient();
    const error = thrown(() => applyPatch(resource, body, 'application/json-patch+json'));
    expect(error.status).toBe(422);
    expect(resource).toEqual(patient());
  });

  it('accepts a JSON Patch that replaces the resource with one of the same type and id', () => {
    const replacement = { resourceType: 'Patient', id: 'example', active: false };
    expect(applyPatch(patient(), [{ op: 'replace', path: '', value: replacement }], 'application/json-patch+json')).toEqual(replacement);
  });

  it.each<[string, Part]>([
    ['replaces the id', operation('replace', 'Patient.id', value({ valueId: 'other' }))],
    ['deletes the id', operation('delete', 'Patient.id')],
  ])('refuses a FHIRPath Patch that %s (422)', (_, op) => {
    const error = thrown(() => applyPatch(patient(), patch(op), 'application/fhir+json'));
    expect(error.status).toBe(422);
  });

  it('returns the patched resource when type and id are kept', () => {
    const result = applyPatch(patient(), patch(operation('replace', 'Patient.gender', value({ valueCode: 'other' }))), 'application/fhir+json');
    expect(result).toEqual({ ...patient(), gender: 'other' });
  });
});
