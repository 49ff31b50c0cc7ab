import type { Client } from '../launch/smart.js';

/** What the screens know of the signed-in session. */
export interface Session {
  client: Client;
  /** The patient in context (EHR launch or the standalone picker). */
  patientId?: string;
  /** The CarePlan the launch's fhirContext named. */
  carePlanId?: string;
  banner: boolean;
  /** When the sign-in session ends (epoch seconds), when the app can know (launch/session-clock.ts). */
  endsAt?: number;
}
