import type { Patient } from 'fhir/r4';
import { humanName } from '../fhir/resources.js';

const GENDERS: Record<string, string> = { female: 'Female', male: 'Male', other: 'Other', unknown: 'Unknown' };

/** Whose plan this is: name, birth date, gender and medical record numbers. */
export function PatientBanner({ patient, reference }: { patient?: Patient; reference: string }) {
  const mrns = (patient?.identifier ?? []).filter((identifier) => identifier.type?.coding?.some((coding) => coding.code === 'MR') && identifier.value);
  return (
    <section class="patient-banner" aria-label="Patient">
      <p class="patient-name">{humanName(patient?.name) ?? reference}</p>
      {patient && (
        <dl class="inline">
          {patient.birthDate && (
            <div>
              <dt>Born</dt>
              <dd>{patient.birthDate}</dd>
            </div>
          )}
          {patient.gender && (
            <div>
              <dt>Gender</dt>
              <dd>{GENDERS[patient.gender] ?? patient.gender}</dd>
            </div>
          )}
          {mrns.map((identifier) => (
            <div key={`${identifier.system}|${identifier.value}`}>
              <dt>MRN</dt>
              <dd>{identifier.value}</dd>
            </div>
          ))}
        </dl>
      )}
    </section>
  );
}
