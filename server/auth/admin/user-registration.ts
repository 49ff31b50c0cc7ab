import type { Database } from '../../store/database.js';
import type { NewUser, User } from '../users.js';

const ROLE_REFERENCE = /^PractitionerRole\/([A-Za-z0-9\-.]{1,64})$/;

/** An account as the admin API shows it: never a password hash. */
export function userView(user: User): Record<string, unknown> {
  return {
    id: user.id,
    ...(user.username ? { username: user.username } : {}),
    ...(user.practitionerRoleId ? { practitioner_role: `PractitionerRole/${user.practitionerRoleId}` } : {}),
    identities: user.identities,
    active: user.active,
  };
}

/**
 * A new account: a PractitionerRole that exists (organization and roles come from it), and a way to sign in: a
 * username with a password of at least 12 characters, and/or identities at external providers.
 */
export async function checkNewUser(db: Database, input: unknown): Promise<{ user?: NewUser; problems: string[] }> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return { problems: ['the account must be a JSON object'] };
  const value = input as Record<string, unknown>;
  const problems: string[] = [];
  const user: Partial<NewUser> = {};

  const role = await roleOf(db, value.practitioner_role, problems);
  if (role) user.practitionerRoleId = role;
  if (value.username !== undefined) {
    if (typeof value.username !== 'string' || !/^[A-Za-z0-9._@-]{1,100}$/.test(value.username)) problems.push('username: letters, digits and . _ @ - only');
    else user.username = value.username;
  }
  const password = passwordProblem(value.password);
  if (value.password !== undefined && password) problems.push(password);
  else if (typeof value.password === 'string') user.password = value.password;
  // Only a password not given at all is missing; a bad one was reported above.
  if (user.username && value.password === undefined) problems.push('password: required with a username');
  if (value.identities !== undefined) {
    if (!Array.isArray(value.identities)) problems.push('identities: must be a list of {"issuer", "subject"}');
    else {
      user.identities = [];
      value.identities.forEach((item: unknown, index) => {
        const identity = item as { issuer?: unknown; subject?: unknown } | null;
        if (typeof identity?.issuer !== 'string' || typeof identity.subject !== 'string' || !identity.issuer || !identity.subject) {
          return void problems.push(`identities[${index}]: needs issuer and subject`);
        }
        user.identities!.push({ issuer: identity.issuer, subject: identity.subject });
      });
    }
  }
  if (!user.username && !user.identities?.length) problems.push('a username and password, or an identity at a provider, is required to sign in');
  if (user.username && (await db.query('SELECT 1 FROM auth_user WHERE username = $1', [user.username])).length) problems.push('username: already taken');
  return problems.length ? { problems } : { user: user as NewUser, problems };
}

/** A change to an account: `active`, `password`, `practitioner_role`. */
export async function checkUserChange(db: Database, input: unknown): Promise<{ change?: { active?: boolean; password?: string; practitionerRoleId?: string }; problems: string[] }> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return { problems: ['the change must be a JSON object'] };
  const value = input as Record<string, unknown>;
  const problems: string[] = [];
  const change: { active?: boolean; password?: string; practitionerRoleId?: string } = {};
  if (value.active !== undefined) {
    if (typeof value.active !== 'boolean') problems.push('active: must be true or false');
    else change.active = value.active;
  }
  if (value.password !== undefined) {
    const problem = passwordProblem(value.password);
    if (problem) problems.push(problem);
    else change.password = value.password as string;
  }
  if (value.practitioner_role !== undefined) {
    const role = await roleOf(db, value.practitioner_role, problems);
    if (role) change.practitionerRoleId = role;
  }
  return problems.length ? { problems } : { change, problems };
}

function passwordProblem(password: unknown): string | undefined {
  if (password === undefined) return undefined;
  if (typeof password !== 'string' || password.length < 12) return 'password: at least 12 characters';
  if (password.length > 256) return 'password: at most 256 characters';
  return undefined;
}

async function roleOf(db: Database, reference: unknown, problems: string[]): Promise<string | undefined> {
  const match = typeof reference === 'string' ? ROLE_REFERENCE.exec(reference) : null;
  if (!match) return void problems.push('practitioner_role: must be PractitionerRole/{id}');
  const found = await db.query("SELECT 1 FROM resource WHERE resource_type = 'PractitionerRole' AND id = $1 AND NOT deleted", [match[1]]);
  if (!found.length) return void problems.push(`practitioner_role: PractitionerRole/${match[1]} does not exist`);
  return match[1];
}
