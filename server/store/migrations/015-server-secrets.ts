/**
 * Secrets the server makes for itself and every process must share, such as the key of websocket binding tokens
 * (a token issued by one process is presented to another): made once by whichever process needs one first
 * (server/store/server-secrets.ts). A value set in the configuration takes precedence and is never stored.
 */
export const up = `
CREATE TABLE server_secret (
  name       text        PRIMARY KEY,
  value      text        NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
`;
