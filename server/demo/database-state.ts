import type { PractitionerRole } from 'fhir/r4';
import { ROLE_SYSTEM } from '../access/roles.js';
import { conformanceGuide } from '../conformance/guide.js';
import { idOfReference } from '../fhir/reference.js';
import { AUDIT_EVENT } from '../store/audit-chain.js';
import type { Database } from '../store/database.js';
import { ADMIN, LOCAL_ADMIN } from './world.js';
import { APP_CLIENT_ID } from '../auth/app-client.js';

/** The first-start administrator (server/auth/bootstrap.ts) as found in the database. */
export interface FirstStartAdmin {
  userId: string;
  practitionerRoleId: string;
  practitionerId: string;
}

/** What the database holds, as far as the demo cares. */
export interface DatabaseState {
  /** The first-start accounts, when they are there: the demo adopts them instead of making its own. */
  admin?: FirstStartAdmin;
  localAdmin: boolean;
  /** Everything else it holds, one line per kind ("2 accounts: alice, bob"); empty when it holds nothing else. */
  otherData: string[];
}

/**
 * The first-start accounts are not data, nor is the app's client, which every start registers: neither are the trail (AuditEvents), the implementation guide the server
 * seeds at each start, the Terms of Use, signing keys, sessions and tokens. Anything else is someone's data.
 */
export async function inspectDatabase(db: Database): Promise<DatabaseState> {
  const otherData: string[] = [];
  const users = await db.query<{ id: string; username: string | null; practitioner_role_id: string | null }>(
    'SELECT id, username, practitioner_role_id FROM auth_user ORDER BY username NULLS LAST, id',
  );
  const adminRow = users.find((user) => user.username === ADMIN);
  const admin = adminRow && (await firstStartAdmin(db, adminRow.id, adminRow.practitioner_role_id));
  if (adminRow && !admin) otherData.push(`the account ${ADMIN}, which is not the first-start administrator (a PractitionerRole with the administrator role and no organization)`);
  const others = users.filter((user) => user !== adminRow).map((user) => user.username ?? `(federated) ${user.id}`);
  if (others.length) otherData.push(`${others.length} account${others.length > 1 ? 's' : ''}: ${abridged(others)}`);

  const clients = (await db.query<{ client_id: string }>('SELECT client_id FROM auth_client ORDER BY client_id')).map((row) => row.client_id);
  const otherClients = clients.filter((id) => id !== LOCAL_ADMIN && id !== APP_CLIENT_ID);
  if (otherClients.length) otherData.push(`${otherClients.length} client${otherClients.length > 1 ? 's' : ''}: ${abridged(otherClients)}`);

  // Counted in SQL: a database in use may hold millions of resources.
  const ignored = [...conformanceGuide().resources.map((resource) => `${resource.resourceType}/${resource.id}`), ...(admin ? [`PractitionerRole/${admin.practitionerRoleId}`, `Practitioner/${admin.practitionerId}`] : [])];
  const counts = await db.query<{ resource_type: string; n: number }>(
    `SELECT resource_type, count(*)::int AS n FROM resource
     WHERE NOT deleted AND resource_type <> $1 AND NOT (resource_type || '/' || id) = ANY($2::text[])
     GROUP BY resource_type ORDER BY count(*) DESC, resource_type`,
    [AUDIT_EVENT, ignored],
  );
  const total = counts.reduce((sum, row) => sum + row.n, 0);
  if (total) otherData.push(`${total} resource${total > 1 ? 's' : ''} (${abridged(counts.map((row) => `${row.resource_type} ${row.n}`))})`);
  return { admin, localAdmin: clients.includes(LOCAL_ADMIN), otherData };
}

/** Which of `keys` (`Type/id`) name a current resource. */
export async function existingResources(db: Database, keys: string[]): Promise<string[]> {
  if (!keys.length) return [];
  const rows = await db.query<{ key: string }>(`SELECT resource_type || '/' || id AS key FROM resource WHERE NOT deleted AND (resource_type || '/' || id) = ANY($1::text[])`, [keys]);
  return rows.map((row) => row.key).sort();
}

/** Which of `usernames` are taken, and which of `clientIds` are registered. */
export async function existingAccounts(db: Database, usernames: string[], clientIds: string[]): Promise<{ users: string[]; clients: string[] }> {
  const users = await db.query<{ username: string }>('SELECT username FROM auth_user WHERE username = ANY($1::text[]) ORDER BY username', [usernames]);
  const clients = await db.query<{ client_id: string }>('SELECT client_id FROM auth_client WHERE client_id = ANY($1::text[]) ORDER BY client_id', [clientIds]);
  return { users: users.map((row) => row.username), clients: clients.map((row) => row.client_id) };
}

/** The account `admin` as the first start made it: an administrator without organization, with a Practitioner. */
async function firstStartAdmin(db: Database, userId: string, roleId: string | null): Promise<FirstStartAdmin | undefined> {
  if (!roleId) return undefined;
  const rows = await db.query<{ content: PractitionerRole }>("SELECT content FROM resource WHERE resource_type = 'PractitionerRole' AND id = $1 AND NOT deleted", [roleId]);
  const role = rows[0]?.content;
  const administrator = role?.code?.some((concept) => concept.coding?.some((coding) => coding.system === ROLE_SYSTEM && coding.code === 'administrator'));
  const practitionerId = idOfReference(role?.practitioner?.reference, 'Practitioner');
  if (!role || !administrator || role.organization || !practitionerId) return undefined;
  return { userId, practitionerRoleId: roleId, practitionerId };
}

function abridged(items: string[], most = 6): string {
  return items.length > most ? `${items.slice(0, most).join(', ')}, … (${items.length - most} more)` : items.join(', ');
}
