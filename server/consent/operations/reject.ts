import { reviewOperation } from './review.js';

/** `POST [base]/Task/[id]/$reject`: a hosting coordinator turns a registration request down; no access follows. */
export const reject = reviewOperation({
  action: 'reject registrations',
  consent: () => ({ status: 'rejected' }),
  taskStatus: 'rejected',
  businessStatus: 'rejected',
});
