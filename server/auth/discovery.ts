import { SMART_SCOPES } from '../access/scopes.js';
import { ID_TOKEN_ALG } from './signing-keys.js';
import { ASSERTION_ALGORITHMS } from './token/check-client-assertion.js';

/** Where the authorization server's endpoints are, below the server's root (the FHIR base without `/fhir`). */
export function endpoints(root: string) {
  return {
    issuer: root,
    authorize: `${root}/auth/authorize`,
    token: `${root}/auth/token`,
    revoke: `${root}/auth/revoke`,
    introspect: `${root}/auth/introspect`,
    jwks: `${root}/auth/jwks`,
  };
}

/** SMART App Launch 2 §2.4 capabilities this server really has, nothing more. */
export const SMART_CAPABILITIES = [
  'launch-ehr',
  'launch-standalone',
  'client-public',
  'client-confidential-symmetric',
  'client-confidential-asymmetric',
  'context-banner',
  'context-ehr-patient',
  'context-ehr-encounter',
  'context-standalone-patient',
  'sso-openid-connect',
  'permission-offline',
  'permission-online',
  'permission-patient',
  'permission-user',
  'permission-v1',
  'permission-v2',
];

/** `GET [base]/.well-known/smart-configuration` (SMART App Launch 2 §2.4). */
export function smartConfiguration(root: string): Record<string, unknown> {
  return {
    ...commonMetadata(root),
    scopes_supported: [
      ...SMART_SCOPES,
      ...['patient', 'user', 'system'].flatMap((context) => [`${context}/*.cruds`, `${context}/*.rs`, `${context}/*.read`, `${context}/*.write`]),
    ],
    capabilities: SMART_CAPABILITIES,
  };
}

/** `GET /.well-known/openid-configuration`: the same server in OpenID Connect Discovery terms. */
export function openidConfiguration(root: string): Record<string, unknown> {
  return {
    ...commonMetadata(root),
    subject_types_supported: ['public'],
    claims_supported: ['iss', 'sub', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'fhirUser'],
    scopes_supported: ['openid', 'fhirUser', 'profile', 'offline_access'],
    id_token_signing_alg_values_supported: [ID_TOKEN_ALG],
  };
}

/** What both documents say alike (RFC 8414 names): where the endpoints are, the flows, how clients authenticate. */
function commonMetadata(root: string): Record<string, unknown> {
  const at = endpoints(root);
  return {
    issuer: at.issuer,
    jwks_uri: at.jwks,
    authorization_endpoint: at.authorize,
    token_endpoint: at.token,
    revocation_endpoint: at.revoke,
    introspection_endpoint: at.introspect,
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    code_challenge_methods_supported: ['S256'],
    grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
    token_endpoint_auth_methods_supported: ['private_key_jwt', 'client_secret_basic', 'client_secret_post', 'none'],
    token_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGORITHMS,
  };
}
