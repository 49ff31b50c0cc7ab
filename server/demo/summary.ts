import type { HumanName } from 'fhir/r4';
import type { DemoRefusal, DemoWorld } from './run.js';
import { ADMIN, carePlanId, CLIENTS, HOST, LOCAL_ADMIN, ORGANIZATIONS, STORY_PATIENTS, USERS } from './world.js';

/**
 * What `npm run demo` prints. The secrets appear once, as `export` lines a shell can paste (and the walk-through
 * tests eval: no other line starts with `export `).
 */
export function demoSummary(world: DemoWorld, root: string, seconds: number): string {
  const { passwords, clientSecrets } = world.secrets;
  const exports = [
    `export CCP_URL=${root}`,
    ...USERS.filter((user) => user.username === ADMIN).map((user) => exportLine(user.variable, passwords.get(user.username)!)),
    ...CLIENTS.filter((client) => client.variable).map((client) => exportLine(client.variable!, clientSecrets.get(client.registration.client_id)!)),
    ...USERS.filter((user) => user.username !== ADMIN).map((user) => exportLine(user.variable, passwords.get(user.username)!)),
  ];
  const organizationName = (id: string | undefined) => (id ? `${id} (${ORGANIZATIONS.find((o) => o.id === id)?.name})` : '-');
  const registrations = (patient: string) => world.registrations.filter((r) => r.patient === patient);
  const lastPatient = world.population.patients.at(-1);

  return [
    ...(world.adopted
      ? [`The first-start accounts ${ADMIN} and ${LOCAL_ADMIN} were adopted: they keep their ids and have a new password and secret (each reset is an AuditEvent).`, '']
      : []),
    'Paste these lines into your shell. They are shown only this once: the database keeps only hashes.',
    '',
    ...exports,
    '',
    `Start the server: HOSTING_ORGANIZATION=${HOST} npm start`,
    '',
    'Get a token (in another shell, with the lines above pasted):',
    '  npm run -s token -- --user coordinator --password "$COORDINATOR_PASSWORD"',
    '  npm run -s token -- --client local-admin --secret "$LOCAL_ADMIN_SECRET" --scope \'system/*.cruds admin\'',
    '',
    'Users (username = Practitioner id = PractitionerRole id; the admin keeps the first start\'s when adopted):',
    ...table(
      ['username', 'role', 'organization', 'password in'],
      USERS.map((user) => [user.username, user.role, organizationName(user.organization), `$${user.variable}`]),
    ),
    '',
    'Clients:',
    ...table(
      ['client_id', 'kind', 'scope', 'secret in'],
      CLIENTS.map(({ registration, variable }) => [
        registration.client_id,
        `${registration.kind}${registration.organization ? `, ${registration.organization}` : ''}`,
        registration.scope,
        variable ? `$${variable}` : `none (PKCE; ${registration.redirect_uris?.join(' ')})`,
      ]),
    ),
    '',
    `Story patients (each with an active CarePlan/ccp-<id> written by coordinator):`,
    ...table(
      ['patient', 'name', 'plan', 'registrations'],
      STORY_PATIENTS.map((patient) => [
        `Patient/${patient.id}`,
        nameOf(patient.name),
        `CarePlan/${carePlanId(patient.id)}`,
        [registrations(patient.id).map((r) => `${r.organization} ${r.status}`).join('; ') || 'none', patient.note]
          .filter(Boolean)
          .join('; '),
      ]),
    ),
    '',
    world.population.patients.length
      ? `Generated patients: ${world.population.patients.length} (Patient/${world.population.patients[0]} … ${lastPatient}), ${world.population.resources} resources; plans of Organization/${HOST}, registrations of home-care and primary-care.`
      : 'Generated patients: none (--patients 0).',
    `The demo world is written (${seconds.toFixed(1)} s). docs/DEMO.md describes it.`,
  ].join('\n');
}

/** Why nothing was written, and what to do instead. */
export function refusalMessage(refusal: DemoRefusal, where: string): string {
  if (refusal.kind === 'in-use') {
    return [
      `npm run demo: ${where} already holds data, so the demo wrote nothing:`,
      ...refusal.otherData.map((line) => `  - ${line}`),
      'Run it on an empty database (for the embedded one, point DATA_DIR at a new folder: DATA_DIR=./demo-data npm run demo),',
      'or add --force to write the demo world beside that data.',
    ].join('\n');
  }
  const shown = refusal.existing.slice(0, 8).join(', ') + (refusal.existing.length > 8 ? `, … (${refusal.existing.length - 8} more)` : '');
  return [
    `npm run demo: ${where} already holds records the demo world would write (${shown}), so it wrote nothing.`,
    'The demo does not replay itself over an earlier run: use an empty database (for the embedded one, a new DATA_DIR).',
  ].join('\n');
}

/** Single quotes keep the shell from reading anything in the value (secrets are base64url: no quote inside). */
function exportLine(variable: string, value: string): string {
  return `export ${variable}='${value.replace(/'/g, `'\\''`)}'`;
}

function nameOf(name: HumanName): string {
  return name.text ?? [...(name.given ?? []), name.family].filter(Boolean).join(' ');
}

/** Columns padded to their widest cell, indented by two. */
function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map((row) => row[column].length)));
  const line = (cells: string[]) => `  ${cells.map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column]))).join('  ')}`;
  return [line(header), ...rows.map(line)];
}
