import type { JWK } from 'jose';
import { isKnownScope, parseResourceScope, splitScopes } from '../../access/scopes.js';
import type { Database } from '../../store/database.js';
import type { Client, ClientAuthMethod, ClientKind } from '../clients.js';
import { isLoopback } from '../loopback.js';

/** A client as an administrator or the configuration file describes it (JSON names as in RFC 7591 where they exist). */
export interface ClientRegistration {
  client_id: string;
  client_name: string;
  kind: ClientKind;
  token_endpoint_auth_method: ClientAuthMethod;
  redirect_uris?: string[];
  scope: string;
  jwks?: { keys: JWK[] };
  jwks_uri?: string;
  /** `Organization/{id}`: whom a backend client acts for. */
  organization?: string;
  active?: boolean;
}

const ORGANIZATION_REFERENCE = /^Organization\/([A-Za-z0-9\-.]{1,64})$/;

const METHODS: Record<ClientKind, ClientAuthMethod[]> = {
  public: ['none'],
  confidential: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
  backend: ['private_key_jwt', 'client_secret_basic', 'client_secret_post'],
};

/**
 * Checks a registration and turns it into a Client (without a secret: the caller adds its hash). Every problem is
 * reported at once, each naming its field. Redirect URIs must be absolute, without fragment, and https except on
 * the loopback interface (RFC 8252 §7.3) or a private-use scheme of a native app.
 */
export function checkRegistration(input: unknown, source: Client['source']): { client?: Omit<Client, 'secretHash'>; problems: string[] } {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return { problems: ['the registration must be a JSON object'] };
  const value = input as Record<string, unknown>;
  const problems: string[] = [];
  const text = (name: string, required: boolean): string | undefined => {
    const field = value[name];
    if (field === undefined && !required) return undefined;
    if (typeof field !== 'string' || !field.trim()) {
      problems.push(`${name}: must be a non-empty string`);
      return undefined;
    }
    return field.trim();
  };

  const clientId = text('client_id', true);
  if (clientId && !/^[A-Za-z0-9._~-]{1,100}$/.test(clientId)) problems.push('client_id: letters, digits and . _ ~ - only, at most 100');
  const name = text('client_name', true);
  const kind = text('kind', true) as ClientKind | undefined;
  if (kind && !METHODS[kind]) problems.push('kind: must be public, confidential or backend');
  const method = text('token_endpoint_auth_method', true) as ClientAuthMethod | undefined;
  if (kind && METHODS[kind] && method && !METHODS[kind].includes(method)) problems.push(`token_endpoint_auth_method: a ${kind} client uses ${METHODS[kind].join(' or ')}`);

  const scope = text('scope', true);
  if (scope) {
    for (const item of splitScopes(scope)) {
      if (!isKnownScope(item)) problems.push(`scope: ${item} is not a scope this server knows`);
      else if (kind === 'backend' && parseResourceScope(item) && parseResourceScope(item)!.context !== 'system') problems.push(`scope: a backend client gets system/ scopes, not ${item}`);
      else if (kind && kind !== 'backend' && parseResourceScope(item)?.context === 'system') problems.push(`scope: system/ scopes are for backend clients, not ${item}`);
    }
  }

  const redirectUris = value.redirect_uris ?? [];
  if (!Array.isArray(redirectUris) || redirectUris.some((uri) => typeof uri !== 'string')) problems.push('redirect_uris: must be a list of URIs');
  else {
    for (const uri of redirectUris as string[]) {
      const problem = redirectUriProblem(uri);
      if (problem) problems.push(`redirect_uris: ${uri} ${problem}`);
    }
    if (kind && kind !== 'backend' && !redirectUris.length) problems.push('redirect_uris: a SMART app needs at least one');
    if (kind === 'backend' && redirectUris.length) problems.push('redirect_uris: a backend client has none');
  }

  const jwks = value.jwks as { keys?: unknown } | undefined;
  if (jwks !== undefined && (typeof jwks !== 'object' || jwks === null || !Array.isArray(jwks.keys))) problems.push('jwks: must be a JSON Web Key Set ({"keys": [...]})');
  if (Array.isArray(jwks?.keys) && (jwks.keys as Record<string, unknown>[]).some((key) => typeof key !== 'object' || key === null || 'd' in key)) {
    problems.push('jwks: public keys only (a key with "d" is a private key)');
  }
  const jwksUri = text('jwks_uri', false);
  if (jwksUri && redirectUriProblem(jwksUri, false)) problems.push(`jwks_uri: ${redirectUriProblem(jwksUri, false)}`);
  if (method === 'private_key_jwt' && !jwks && !jwksUri) problems.push('jwks: private_key_jwt needs jwks or jwks_uri');

  const organization = text('organization', false);
  if (organization && !ORGANIZATION_REFERENCE.test(organization)) problems.push('organization: must be Organization/{id}');
  if (value.active !== undefined && typeof value.active !== 'boolean') problems.push('active: must be true or false');

  if (problems.length) return { problems };
  return {
    problems,
    client: {
      clientId: clientId!,
      name: name!,
      kind: kind!,
      authMethod: method!,
      redirectUris: redirectUris as string[],
      scope: splitScopes(scope).join(' '),
      jwks: jwks as { keys: JWK[] } | undefined,
      jwksUri,
      organizationId: organization?.split('/')[1],
      active: value.active !== false,
      source,
    },
  };
}

/**
 * checkRegistration, and the `organization` it names must be a current Organization here: a client acting for
 * an organization that does not exist would get tokens that reach nothing (every token check wants it active).
 */
export async function checkClientRegistration(db: Database, input: unknown, source: Client['source']): Promise<{ client?: Omit<Client, 'secretHash'>; problems: string[] }> {
  const checked = checkRegistration(input, source);
  const organization = (input as { organization?: unknown } | null)?.organization;
  const id = typeof organization === 'string' ? ORGANIZATION_REFERENCE.exec(organization.trim())?.[1] : undefined;
  if (id === undefined) return checked;
  const found = await db.query("SELECT 1 FROM resource WHERE resource_type = 'Organization' AND id = $1 AND NOT deleted", [id]);
  if (found.length) return checked;
  return { problems: [...checked.problems, `organization: Organization/${id} does not exist; create the Organization first (POST /fhir/Organization), then register the client`] };
}

/** Why `uri` cannot be a redirect URI (or, with `allowCustomScheme` false, a key set URL); undefined if it can. */
function redirectUriProblem(uri: string, allowCustomScheme = true): string | undefined {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return 'is not an absolute URI';
  }
  if (url.hash || uri.includes('#')) return 'must not have a fragment';
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:') return isLoopback(url) ? undefined : 'must be https (http only on the loopback interface)';
  if (allowCustomScheme && /^[a-z][a-z0-9+.-]*\.[a-z0-9+.-]+:$/.test(url.protocol)) return undefined;
  return allowCustomScheme ? 'must be https, loopback http, or a reverse-domain private scheme' : 'must be https';
}

/** What an administrator sees of a client: never the secret's hash. */
export function registrationOf(client: Client): ClientRegistration {
  return {
    client_id: client.clientId,
    client_name: client.name,
    kind: client.kind,
    token_endpoint_auth_method: client.authMethod,
    redirect_uris: client.redirectUris,
    scope: client.scope,
    ...(client.jwks ? { jwks: client.jwks } : {}),
    ...(client.jwksUri ? { jwks_uri: client.jwksUri } : {}),
    ...(client.organizationId ? { organization: `Organization/${client.organizationId}` } : {}),
    active: client.active,
  };
}
