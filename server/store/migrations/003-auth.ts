/**
 * The authorization server's state (server/auth). Every secret a client or browser holds (tokens, codes,
 * session ids, client secrets, passwords) is stored only as a hash, so a copy of the database grants nothing.
 * A user's roles and organization are not here: they are the user's PractitionerRole resource, so the FHIR
 * data and the access rules cannot disagree.
 */
export const up = `
CREATE TABLE auth_signing_key (
  kid          text        PRIMARY KEY,
  alg          text        NOT NULL,
  private_jwk  jsonb       NOT NULL,
  public_jwk   jsonb       NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE auth_client (
  client_id       text        PRIMARY KEY,
  name            text        NOT NULL,
  -- public: a browser or native SMART app (PKCE, no secret); confidential: a SMART app with a secret or keys;
  -- backend: SMART Backend Services (client_credentials)
  kind            text        NOT NULL CHECK (kind IN ('public', 'confidential', 'backend')),
  auth_method     text        NOT NULL CHECK (auth_method IN ('none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt')),
  secret_hash     text,
  redirect_uris   text[]      NOT NULL DEFAULT '{}',
  -- the most this client may be granted, space separated SMART scopes
  scope           text        NOT NULL,
  jwks            jsonb,
  jwks_uri        text,
  -- the Organization a backend client acts for (an EMR vendor, a provincial viewer)
  organization_id text,
  active          boolean     NOT NULL DEFAULT true,
  -- 'config' for clients of the static configuration file, 'api' for those registered through the admin API
  source          text        NOT NULL DEFAULT 'api',
  created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE auth_user (
  id                   text        PRIMARY KEY,
  username             text        UNIQUE,
  password_hash        text,
  practitioner_role_id text,
  active               boolean     NOT NULL DEFAULT true,
  failed_attempts      integer     NOT NULL DEFAULT 0,
  locked_until         timestamptz,
  created_at           timestamptz NOT NULL DEFAULT now()
);

-- A user's accounts at external OpenID Connect providers.
CREATE TABLE auth_identity (
  issuer   text NOT NULL,
  subject  text NOT NULL,
  user_id  text NOT NULL REFERENCES auth_user (id),
  PRIMARY KEY (issuer, subject)
);

CREATE TABLE auth_terms (
  version      integer     PRIMARY KEY,
  text         text        NOT NULL,
  published_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE auth_terms_acceptance (
  user_id     text        NOT NULL REFERENCES auth_user (id),
  version     integer     NOT NULL REFERENCES auth_terms (version),
  accepted_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, version)
);

-- A signed-in browser.
CREATE TABLE auth_session (
  id_hash    text        PRIMARY KEY,
  user_id    text        NOT NULL REFERENCES auth_user (id),
  auth_time  timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  ended_at   timestamptz
);

-- An authorization request between /authorize and the code: sign-in, Terms of Use, patient choice, approval.
CREATE TABLE auth_request (
  id_hash    text        PRIMARY KEY,
  params     jsonb       NOT NULL,
  state      jsonb       NOT NULL DEFAULT '{}',
  expires_at timestamptz NOT NULL
);

CREATE TABLE auth_code (
  code_hash      text        PRIMARY KEY,
  client_id      text        NOT NULL,
  user_id        text        NOT NULL,
  session_hash   text,
  redirect_uri   text        NOT NULL,
  code_challenge text        NOT NULL,
  scope          text        NOT NULL,
  context        jsonb       NOT NULL DEFAULT '{}',
  nonce          text,
  auth_time      timestamptz NOT NULL,
  expires_at     timestamptz NOT NULL,
  used_at        timestamptz,
  grant_id       text        NOT NULL
);

-- Access and refresh tokens. One grant (an authorization, or a client_credentials request) groups the tokens
-- issued from it, so that reusing a code or a rotated refresh token revokes the whole grant.
CREATE TABLE auth_token (
  token_hash   text        PRIMARY KEY,
  kind         text        NOT NULL CHECK (kind IN ('access', 'refresh')),
  grant_id     text        NOT NULL,
  client_id    text        NOT NULL,
  user_id      text,
  session_hash text,
  scope        text        NOT NULL,
  context      jsonb       NOT NULL DEFAULT '{}',
  auth_time    timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL,
  revoked_at   timestamptz,
  rotated_at   timestamptz
);
CREATE INDEX auth_token_grant ON auth_token (grant_id);

-- EHR launch contexts: what the EHR had open when it launched an app (patient, encounter, CarePlan).
CREATE TABLE auth_launch (
  id         text        PRIMARY KEY,
  context    jsonb       NOT NULL,
  created_by text        NOT NULL,
  expires_at timestamptz NOT NULL
);

-- Client assertion ids seen, until they expire: a replayed private_key_jwt assertion is refused.
CREATE TABLE auth_assertion (
  client_id  text        NOT NULL,
  jti        text        NOT NULL,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (client_id, jti)
);
`;
