import { accessPeriod, DEFAULT_REGISTRATION_DAYS } from './registration-records.js';
import { reviewOperation } from './review.js';

/**
 * `POST [base]/Task/[id]/$approve`: a hosting coordinator approves a registration request. The organization's
 * access starts now and lasts the configured number of days.
 */
export const approve = reviewOperation({
  action: 'approve registrations',
  consent: (consent, now, options) => ({ status: 'active', provision: { ...consent.provision, period: accessPeriod(now, options.registrationDays ?? DEFAULT_REGISTRATION_DAYS) } }),
  taskStatus: 'completed',
  businessStatus: 'approved',
});
