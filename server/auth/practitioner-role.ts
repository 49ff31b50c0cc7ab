/** A user's current PractitionerRole: read by the store (server/store/auth-activity.ts), which the notifications share. */
export { readPractitionerRole } from '../store/auth-activity.js';
