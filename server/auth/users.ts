import { accessChanged } from './auth-changes.js';
import { randomUUID } from 'node:crypto';
import type { Database } from '../store/database.js';
import { hashPassword } from './secrets.js';
import { roleActive } from '../store/auth-activity.js';

/** A person who signs in: a local account (username and password) and/or accounts at external identity providers. */
export interface User {
  id: string;
  username?: string;
  /** The PractitionerRole that gives the user an organization and roles. */
  practitionerRoleId?: string;
  active: boolean;
  identities: { issuer: string; subject: string }[];
}

export interface NewUser {
  username?: string;
  password?: string;
  practitionerRoleId: string;
  identities?: { issuer: string; subject: string }[];
}

interface UserRow {
  id: string;
  username: string | null;
  practitioner_role_id: string | null;
  active: boolean;
  identities: { issuer: string; subject: string }[];
}

const SELECT = `SELECT u.id, u.username, u.practitioner_role_id, u.active,
  coalesce((SELECT json_agg(json_build_object('issuer', i.issuer, 'subject', i.subject) ORDER BY i.issuer, i.subject)
            FROM auth_identity i WHERE i.user_id = u.id), '[]') AS identities
  FROM auth_user u`;

function fromRow(row: UserRow): User {
  return {
    id: row.id,
    username: row.username ?? undefined,
    practitionerRoleId: row.practitioner_role_id ?? undefined,
    active: row.active,
    identities: row.identities,
  };
}

/** User accounts. Who a user is in FHIR terms (Practitioner, organization, roles) lives in their PractitionerRole. */
export class UserStore {
  constructor(private readonly db: Database) {}

  async find(id: string): Promise<User | undefined> {
    const rows = await this.db.query<UserRow>(`${SELECT} WHERE u.id = $1`, [id]);
    return rows.length ? fromRow(rows[0]) : undefined;
  }

  async list(): Promise<User[]> {
    return (await this.db.query<UserRow>(`${SELECT} ORDER BY u.username NULLS LAST, u.id`)).map(fromRow);
  }

  /** The user an external identity provider's account is linked to. */
  async findByIdentity(issuer: string, subject: string): Promise<User | undefined> {
    const rows = await this.db.query<UserRow>(`${SELECT} JOIN auth_identity k ON k.user_id = u.id WHERE k.issuer = $1 AND k.subject = $2`, [issuer, subject]);
    return rows.length ? fromRow(rows[0]) : undefined;
  }

  async create(user: NewUser): Promise<User> {
    const id = randomUUID();
    const passwordHash = user.password === undefined ? null : await hashPassword(user.password);
    await this.db.transaction(async (tx) => {
      await tx.query('INSERT INTO auth_user (id, username, password_hash, practitioner_role_id) VALUES ($1, $2, $3, $4)', [
        id,
        user.username ?? null,
        passwordHash,
        user.practitionerRoleId,
      ]);
      for (const identity of user.identities ?? []) {
        await tx.query('INSERT INTO auth_identity (issuer, subject, user_id) VALUES ($1, $2, $3)', [identity.issuer, identity.subject, id]);
      }
    });
    return (await this.find(id))!;
  }

  /**
   * Changes what is given. Deactivating, a new password and another PractitionerRole end the user's access at once
   * (see endAccess): whoever held the old password, or acted in the old role, keeps nothing of it. Reactivating
   * alone ends nothing and revives nothing.
   */
  async update(id: string, change: { active?: boolean; password?: string; practitionerRoleId?: string }): Promise<User | undefined> {
    const passwordHash = change.password === undefined ? undefined : await hashPassword(change.password);
    const updated = await this.db.transaction(async (tx) => {
      // The row locked, so that the role compared is the one replaced.
      const before = await tx.query<{ practitioner_role_id: string }>('SELECT practitioner_role_id FROM auth_user WHERE id = $1 FOR UPDATE', [id]);
      if (!before.length) return false;
      await tx.query(
        `UPDATE auth_user SET active = coalesce($2, active), password_hash = coalesce($3, password_hash),
           practitioner_role_id = coalesce($4, practitioner_role_id),
           failed_attempts = CASE WHEN $3::text IS NULL THEN failed_attempts ELSE 0 END,
           locked_until = CASE WHEN $3::text IS NULL THEN locked_until END
         WHERE id = $1`,
        [id, change.active ?? null, passwordHash ?? null, change.practitionerRoleId ?? null],
      );
      const roleChanged = change.practitionerRoleId !== undefined && change.practitionerRoleId !== before[0].practitioner_role_id;
      if (change.active === false || change.password !== undefined || roleChanged) await endAccess(tx, id);
      return true;
    });
    return updated ? this.find(id) : undefined;
  }
}

/**
 * Ends everything the user was given so far: their sign-in sessions (and with them the `online_access` tokens),
 * every access and refresh token issued to them (`offline_access` grants outlive sessions, so they are revoked
 * one by one), and codes not yet redeemed. The token lookup reads `revoked_at` on every request: the next request
 * with any of them is a 401.
 */
async function endAccess(tx: Database, userId: string): Promise<void> {
  await tx.query('UPDATE auth_session SET ended_at = now() WHERE user_id = $1 AND ended_at IS NULL', [userId]);
  await tx.query('UPDATE auth_token SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL', [userId]);
  await tx.query('UPDATE auth_code SET expires_at = now() WHERE user_id = $1 AND used_at IS NULL AND expires_at > now()', [userId]);
  await accessChanged(tx);
}

/** SQL: the auth_user row aliased `alias` may act: active, with an active PractitionerRole of an active organization. */
export function userUsable(alias: string): string {
  return `(${alias}.active AND ${roleActive(`${alias}.practitioner_role_id`)})`;
}

/** Whether the user may act now (see userUsable). */
export async function isUsable(db: Database, userId: string): Promise<boolean> {
  return (await db.query(`SELECT 1 FROM auth_user u WHERE u.id = $1 AND ${userUsable('u')}`, [userId])).length > 0;
}
