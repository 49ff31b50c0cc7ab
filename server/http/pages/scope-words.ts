import { PERMISSION_VERBS, parseResourceScope } from '../../access/scopes.js';

const NON_RESOURCE: Record<string, string> = {
  openid: 'Know that it is you who signed in',
  fhirUser: 'Know who you are (your practitioner record)',
  profile: 'Know who you are (your practitioner record)',
  launch: 'Know what you have open in your EHR',
  'launch/patient': 'Know which patient you chose',
  'launch/encounter': 'Know which encounter you have open',
  offline_access: 'Keep access after you sign out (up to 30 days)',
  online_access: 'Keep access while you stay signed in',
};

const WHOSE = { patient: 'of the chosen patient', user: 'that you may see', system: 'of every patient' };

/** A scope as a sentence the person approving it understands. */
export function describeScope(text: string): string {
  const scope = parseResourceScope(text);
  if (!scope) return NON_RESOURCE[text] ?? text;
  const verbs = scope.permissions.map((permission) => PERMISSION_VERBS[permission]);
  const what = scope.resourceType === '*' ? 'all records' : `${scope.resourceType} records`;
  const only = scope.query ? ` (only ${new URLSearchParams(Object.entries(scope.query).flatMap(([name, values]) => values.map((value): [string, string] => [name, value]))).toString()})` : '';
  const sentence = `${verbs.join(', ')} ${what} ${WHOSE[scope.context]}${only}`;
  return sentence[0].toUpperCase() + sentence.slice(1);
}
