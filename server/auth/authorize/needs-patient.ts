import { parseResourceScope } from '../../access/scopes.js';
import type { AuthorizationRequest } from './authorization-request.js';

/**
 * Whether the app needs a patient chosen: it asked for `launch/patient` or for `patient/` scopes, and no EHR launch
 * supplied one. `patient/` scopes without a patient in context would grant nothing.
 */
export function needsPatientChoice(request: AuthorizationRequest): boolean {
  if (request.launchContext?.patient) return false;
  return request.scope.some((text) => text === 'launch/patient' || parseResourceScope(text)?.context === 'patient');
}
