import { accessChanged } from './auth-changes.js';
import { credentialsResetEvent } from '../audit/auth-events.js';
import type { Database } from '../store/database.js';
import type { ResourceStore } from '../store/resource-store.js';
import { BOOTSTRAP_CLIENT_ID, BOOTSTRAP_USERNAME, newPassword } from './bootstrap.js';
import { hashPassword, randomSecret } from './secrets.js';
import { UserStore } from './users.js';

export interface CredentialsReset {
  /** The administrator's new password, when it was reset. */
  password?: string;
  /** The bootstrap client's new secret, when it was reset. */
  clientSecret?: string;
  /** Whether the administrator's account is deactivated (a new password does not reactivate it). */
  accountInactive?: boolean;
  /** The AuditEvents that record the reset, one for each credential replaced. */
  auditEventIds: string[];
}

/** Something the reset cannot do on this database; nothing was changed. */
export class ResetRefused extends Error {}

/**
 * `npm run reset-admin`: new credentials for the first start's administrator (`admin`) and/or backend client
 * (`local-admin`), for an operator who lost them. Like a password change through the admin API, it ends what the
 * old ones gave: the account's sessions, tokens and unused codes, and the client's tokens. The change and its
 * AuditEvents are one transaction: no reset goes unrecorded. `operator` names who ran it, for the record.
 */
export async function resetAdministratorCredentials(
  db: Database,
  storeOf: (tx: Database) => ResourceStore,
  what: { password: boolean; clientSecret: boolean; operator: string },
): Promise<CredentialsReset> {
  const password = what.password ? newPassword() : undefined;
  const clientSecret = what.clientSecret ? randomSecret() : undefined;
  // Hashing is slow on purpose: done before the transaction, which then only writes.
  const secretHash = clientSecret === undefined ? undefined : await hashPassword(clientSecret);
  return db.transaction(async (tx) => {
    const reset: CredentialsReset = { auditEventIds: [] };
    const by = { command: `CCP Exchange reset-admin command, run by ${what.operator}` };
    if (password !== undefined) {
      const rows = await tx.query<{ id: string; active: boolean }>('SELECT id, active FROM auth_user WHERE username = $1', [BOOTSTRAP_USERNAME]);
      if (!rows.length) throw new ResetRefused(`there is no account named ${BOOTSTRAP_USERNAME}: the server makes it at its first start on an empty database`);
      const userId = rows[0].id;
      await new UserStore(tx).update(userId, { password });
      reset.auditEventIds.push((await storeOf(tx).create(credentialsResetEvent({ userId }, by))).id!);
      reset.password = password;
      reset.accountInactive = !rows[0].active;
    }
    if (secretHash !== undefined) {
      const changed = await tx.query('UPDATE auth_client SET secret_hash = $2 WHERE client_id = $1 RETURNING client_id', [BOOTSTRAP_CLIENT_ID, secretHash]);
      if (!changed.length) throw new ResetRefused(`there is no client ${BOOTSTRAP_CLIENT_ID}: the server makes it at its first start on an empty database`);
      await tx.query('UPDATE auth_token SET revoked_at = now() WHERE client_id = $1 AND revoked_at IS NULL', [BOOTSTRAP_CLIENT_ID]);
      await accessChanged(tx);
      reset.auditEventIds.push((await storeOf(tx).create(credentialsResetEvent({ clientId: BOOTSTRAP_CLIENT_ID }, by))).id!);
      reset.clientSecret = clientSecret;
    }
    return reset;
  });
}
