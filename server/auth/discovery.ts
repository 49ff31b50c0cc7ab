import { NON_RESOURCE_SCOPES } from '../access/scopes.js';
import { ID_TOKEN_ALG } from './signing-keys.js';
import { ASSERTION_ALGORITHMS } from './token/check-client-assertion.js';

/** Where the authorization server's endpoints are, below the server's root (the FHIR base without `/fhir`). */
export function endpoints(root: string) {
  return {
    issuer: root,
    token: `${root}/auth/token`,
    jwks: `${root}/auth/jwks`,
  };
}

/**
 * `GET [base]/.well-known/smart-configuration` (SMART App Launch 2 §2.4): what this server really supports,
 * nothing more. The authorization endpoint and the app launch capabilities join when they are built.
 */
export function smartConfiguration(root: string): Record<string, unknown> {
  return {
    ...commonMetadata(root),
    scopes_supported: ['system/*.cruds', 'system/*.rs', 'system/*.read', 'system/*.write', ...NON_RESOURCE_SCOPES.filter((scope) => scope !== 'launch')],
    capabilities: ['client-confidential-asymmetric', 'client-confidential-symmetric', 'permission-v1', 'permission-v2'],
  };
}

/** `GET /.well-known/openid-configuration`: the same server in OpenID Connect Discovery terms. */
export function openidConfiguration(root: string): Record<string, unknown> {
  return {
    ...commonMetadata(root),
    response_types_supported: ['code'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [ID_TOKEN_ALG],
  };
}

/** What both documents say alike (RFC 8414 names): where the endpoints are and how clients authenticate. */
function commonMetadata(root: string): Record<string, unknown> {
  const at = endpoints(root);
  return {
    issuer: at.issuer,
    jwks_uri: at.jwks,
    token_endpoint: at.token,
    grant_types_supported: ['client_credentials'],
    token_endpoint_auth_methods_supported: ['private_key_jwt', 'client_secret_basic', 'client_secret_post'],
    token_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGORITHMS,
  };
}
