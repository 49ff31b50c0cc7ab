import * as oidc from 'openid-client';
import { isLoopback } from '../loopback.js';

/** An external OpenID Connect provider users may sign in with (an organization's own identity provider). */
export interface IdentityProviderConfig {
  /** Short name in URLs: `/auth/interaction/…/idp/{id}`. */
  id: string;
  /** What the sign-in page calls it: "Sign in with {name}". */
  name: string;
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Scopes asked of the provider; `openid` at least. */
  scope?: string;
}

/**
 * The configured identity providers and their discovered metadata (OpenID Connect Discovery through
 * openid-client), fetched on first use and fetched again after a failure.
 */
export class IdentityProviders {
  private readonly discovered = new Map<string, Promise<oidc.Configuration>>();

  constructor(private readonly providers: IdentityProviderConfig[] = []) {}

  list(): IdentityProviderConfig[] {
    return this.providers;
  }

  find(id: string): IdentityProviderConfig | undefined {
    return this.providers.find((provider) => provider.id === id);
  }

  configuration(provider: IdentityProviderConfig): Promise<oidc.Configuration> {
    let configuration = this.discovered.get(provider.id);
    if (!configuration) {
      const issuer = new URL(provider.issuer);
      const insecure = issuer.protocol === 'http:' && isLoopback(issuer);
      configuration = oidc
        .discovery(issuer, provider.clientId, undefined, oidc.ClientSecretBasic(provider.clientSecret), insecure ? { execute: [oidc.allowInsecureRequests] } : undefined)
        .catch((error: unknown) => {
          this.discovered.delete(provider.id);
          throw error;
        });
      this.discovered.set(provider.id, configuration);
    }
    return configuration;
  }
}

/** Checks one provider entry of the configuration file; returns problems, naming the entry. */
export function identityProviderProblems(entry: unknown, index: number): string[] {
  const where = `identity provider [${index}]`;
  if (typeof entry !== 'object' || entry === null) return [`${where}: must be an object`];
  const value = entry as Record<string, unknown>;
  const problems: string[] = [];
  for (const field of ['id', 'name', 'issuer', 'clientId', 'clientSecret']) {
    if (typeof value[field] !== 'string' || !value[field]) problems.push(`${where}: ${field} is required`);
  }
  if (typeof value.id === 'string' && !/^[a-z0-9-]{1,40}$/.test(value.id)) problems.push(`${where}: id must be lower-case letters, digits and dashes`);
  if (typeof value.issuer === 'string') {
    try {
      const issuer = new URL(value.issuer);
      if (issuer.protocol !== 'https:' && !(issuer.protocol === 'http:' && isLoopback(issuer))) problems.push(`${where}: issuer must be https (http only on localhost)`);
    } catch {
      problems.push(`${where}: issuer must be a URL`);
    }
  }
  return problems;
}
