// The clinical vocabulary of the synthetic patients: health concerns (SNOMED CT), the goals and activities that go
// with each, and names. Small lists on purpose: what matters for the benchmarks is the shape and the volume.

export const SNOMED = 'http://snomed.info/sct';

/** Health concerns, each with goals and activities a care team would plausibly set for it. */
export const CONCERNS = [
  { code: '44054006', display: 'Diabetes mellitus type 2', goals: ['HbA1c below 7 %', 'Check blood glucose daily'], activities: ['Diabetes education session', 'Quarterly HbA1c test'] },
  { code: '38341003', display: 'Hypertensive disorder', goals: ['Blood pressure below 140/90', 'Reduce salt intake'], activities: ['Home blood pressure monitoring', 'Medication review'] },
  { code: '13645005', display: 'Chronic obstructive lung disease', goals: ['No emergency visit for breathlessness in 6 months', 'Walk 20 minutes a day'], activities: ['Pulmonary rehabilitation', 'Inhaler technique review'] },
  { code: '84114007', display: 'Heart failure', goals: ['Weight stable within 2 kg', 'No admission for heart failure in 3 months'], activities: ['Daily weight log', 'Heart function clinic visit'] },
  { code: '709044004', display: 'Chronic kidney disease', goals: ['eGFR decline slowed', 'Avoid nephrotoxic drugs'], activities: ['Renal function test every 3 months', 'Dietitian consult'] },
  { code: '35489007', display: 'Depressive disorder', goals: ['PHQ-9 below 10', 'Attend weekly support group'], activities: ['Counselling sessions', 'Medication follow-up'] },
  { code: '26929004', display: "Alzheimer's disease", goals: ['Stay at home safely with support', 'Caregiver respite twice a month'], activities: ['Home safety assessment', 'Adult day program'] },
  { code: '195967001', display: 'Asthma', goals: ['Rescue inhaler under twice a week', 'Written asthma action plan'], activities: ['Asthma action plan review', 'Spirometry'] },
  { code: '49436004', display: 'Atrial fibrillation', goals: ['INR in range 2 to 3', 'Heart rate under 100 at rest'], activities: ['Anticoagulation clinic', 'ECG follow-up'] },
  { code: '396275006', display: 'Osteoarthritis', goals: ['Pain below 4 out of 10', 'Climb stairs without help'], activities: ['Physiotherapy', 'Home exercise program'] },
];

export const GIVEN_FEMALE = ['Ada', 'Béatrice', 'Carmen', 'Divya', 'Esther', 'Fatima', 'Gabrielle', 'Hana', 'Isabel', 'Joan', 'Karin', 'Leila', 'Marguerite', 'Noor', 'Olivia', 'Priya', 'Rose', 'Sofia', 'Thérèse', 'Yuna'];
export const GIVEN_MALE = ['Arjun', 'Bernard', 'Carlos', 'Daniel', 'Émile', 'Felix', 'Gaston', 'Hamid', 'Ivan', 'Jacques', 'Kwame', 'Liam', 'Marcel', 'Nadir', 'Omar', 'Paul', 'Raphaël', 'Samuel', 'Tomas', 'Yusuf'];
export const FAMILY = ['Tremblay', 'Gagnon', 'Roy', 'Côté', 'Bouchard', 'Gauthier', 'Morin', 'Lavoie', 'Fortin', 'Gagné', 'Smith', 'Brown', 'Wilson', 'MacDonald', 'Singh', 'Nguyen', 'Li', 'Patel', 'Osei', 'Haddad', 'Kovač', 'Moreau', 'Okafor', 'Santos', 'Yilmaz'];
export const CITIES = [
  { city: 'Ottawa', state: 'ON', postalCode: 'K1P 1J1' },
  { city: 'Kingston', state: 'ON', postalCode: 'K7L 2N8' },
  { city: 'Cornwall', state: 'ON', postalCode: 'K6H 5R6' },
  { city: 'Pembroke', state: 'ON', postalCode: 'K8A 6W5' },
  { city: 'Gatineau', state: 'QC', postalCode: 'J8X 3X7' },
];
