import type { Practitioner, PractitionerRole } from 'fhir/r4';
import { UNRESTRICTED } from '../access/caller.js';
import { ROLE_SYSTEM } from '../access/roles.js';
import { credentialsResetEvent } from '../audit/auth-events.js';
import { checkRegistration, type ClientRegistration } from '../auth/admin/client-registration.js';
import { checkNewUser } from '../auth/admin/user-registration.js';
import type { AuthServer } from '../auth/auth-server.js';
import type { User } from '../auth/users.js';
import { hashPassword, randomSecret } from '../auth/secrets.js';
import type { ResourceStore } from '../store/resource-store.js';
import type { FirstStartAdmin } from './database-state.js';
import type { Actor } from './requests.js';
import { ADMIN, CLIENTS, LOCAL_ADMIN, type DemoUser } from './world.js';

/** The secrets made for the world: shown once, stored only as hashes. */
export interface Secrets {
  /** username → password */
  passwords: Map<string, string>;
  /** client_id → client secret */
  clientSecrets: Map<string, string>;
}

/** Passwords as the first start makes them: 20 characters of base64url, safe inside shell quotes. */
export const newPassword = (): string => randomSecret().slice(0, 20);

/**
 * The first-start accounts, `admin` and `local-admin`. Adopted when the database holds them (they keep their ids,
 * get a new password and secret, and each reset is an AuditEvent); otherwise made as the first start makes them,
 * with the ids of the world (Practitioner/admin, PractitionerRole/admin) and written by the server itself.
 */
export async function firstStartAccounts(
  auth: AuthServer,
  store: ResourceStore,
  server: Actor,
  found: { admin?: FirstStartAdmin; localAdmin: boolean },
  admin: DemoUser,
  secrets: Secrets,
): Promise<{ admin: User; adopted: boolean }> {
  const password = newPassword();
  secrets.passwords.set(ADMIN, password);
  let user: User;
  if (found.admin) {
    user = (await auth.users.update(found.admin.userId, { password }))!;
    await store.create(credentialsResetEvent({ userId: user.id }, UNRESTRICTED));
  } else {
    const practitioner: Practitioner & { id: string } = { resourceType: 'Practitioner', id: ADMIN, active: true, name: [admin.name] };
    const role: PractitionerRole & { id: string } = {
      resourceType: 'PractitionerRole',
      id: ADMIN,
      active: true,
      practitioner: { reference: `Practitioner/${ADMIN}` },
      code: [{ coding: [{ system: ROLE_SYSTEM, code: admin.role }] }],
    };
    await server.put([practitioner, role]);
    user = await createAccount(auth, ADMIN, password, ADMIN);
  }

  const localAdmin = CLIENTS.find((client) => client.registration.client_id === LOCAL_ADMIN)!.registration;
  if (found.localAdmin) {
    const existing = (await auth.clients.find(LOCAL_ADMIN))!;
    const secret = randomSecret();
    await auth.clients.save({ ...existing, secretHash: await hashPassword(secret) });
    await store.create(credentialsResetEvent({ clientId: LOCAL_ADMIN }, UNRESTRICTED));
    secrets.clientSecrets.set(LOCAL_ADMIN, secret);
  } else {
    await registerClient(auth, localAdmin, secrets);
  }
  return { admin: user, adopted: Boolean(found.admin || found.localAdmin) };
}

/** An account checked and made as `POST /auth/admin/users` does. */
export async function createAccount(auth: AuthServer, username: string, password: string, practitionerRoleId: string): Promise<User> {
  const { user, problems } = await checkNewUser(auth.db, { username, password, practitioner_role: `PractitionerRole/${practitionerRoleId}` });
  if (!user) throw new Error(`the account ${username} cannot be made: ${problems.join('; ')}`);
  return auth.users.create(user);
}

/** A client checked and registered as `POST /auth/admin/clients` does, its secret (if any) made here. */
export async function registerClient(auth: AuthServer, registration: ClientRegistration, secrets: Secrets): Promise<void> {
  const { client, problems } = checkRegistration(registration, 'api');
  if (!client) throw new Error(`the client ${registration.client_id} cannot be registered: ${problems.join('; ')}`);
  const secret = client.authMethod.startsWith('client_secret') ? randomSecret() : undefined;
  await auth.clients.save({ ...client, secretHash: secret ? await hashPassword(secret) : undefined });
  if (secret) secrets.clientSecrets.set(client.clientId, secret);
}
