/**
 * Every change that can end or alter what an access token's caller may do announces itself on the channel
 * `ccp_access` (payload: the schema), whoever makes it: the server, `npm run import`, `reset-admin`, or SQL typed
 * by hand. Server processes keep the callers of tokens in memory (server/auth/caller-cache.ts) and forget them on
 * hearing it. NOTIFY is delivered at COMMIT, and not at all after a rollback. Creations are left out: a caller
 * is only ever cached once its token, client, user, role and organization all exist, so a new row changes none.
 * `pg_notify` sends one notification per transaction and payload however many rows change.
 */
export const up = `
CREATE FUNCTION ccp_access_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('ccp_access', current_schema());
  RETURN NULL;
END $$;

CREATE TRIGGER resource_access_changed AFTER UPDATE ON resource FOR EACH ROW
  WHEN (NEW.resource_type IN ('PractitionerRole', 'Practitioner', 'Organization')) EXECUTE FUNCTION ccp_access_changed();
CREATE TRIGGER resource_access_removed AFTER DELETE ON resource FOR EACH ROW
  WHEN (OLD.resource_type IN ('PractitionerRole', 'Practitioner', 'Organization')) EXECUTE FUNCTION ccp_access_changed();

CREATE TRIGGER auth_token_access_changed AFTER UPDATE ON auth_token FOR EACH ROW
  WHEN ((OLD.revoked_at, OLD.expires_at, OLD.scope) IS DISTINCT FROM (NEW.revoked_at, NEW.expires_at, NEW.scope)) EXECUTE FUNCTION ccp_access_changed();
CREATE TRIGGER auth_token_access_removed AFTER DELETE ON auth_token FOR EACH ROW EXECUTE FUNCTION ccp_access_changed();

CREATE TRIGGER auth_session_access_changed AFTER UPDATE ON auth_session FOR EACH ROW
  WHEN (OLD.ended_at IS DISTINCT FROM NEW.ended_at) EXECUTE FUNCTION ccp_access_changed();
CREATE TRIGGER auth_session_access_removed AFTER DELETE ON auth_session FOR EACH ROW EXECUTE FUNCTION ccp_access_changed();

CREATE TRIGGER auth_user_access_changed AFTER UPDATE ON auth_user FOR EACH ROW
  WHEN ((OLD.active, OLD.practitioner_role_id) IS DISTINCT FROM (NEW.active, NEW.practitioner_role_id)) EXECUTE FUNCTION ccp_access_changed();
CREATE TRIGGER auth_user_access_removed AFTER DELETE ON auth_user FOR EACH ROW EXECUTE FUNCTION ccp_access_changed();

CREATE TRIGGER auth_client_access_changed AFTER UPDATE ON auth_client FOR EACH ROW
  WHEN ((OLD.active, OLD.organization_id, OLD.scope) IS DISTINCT FROM (NEW.active, NEW.organization_id, NEW.scope)) EXECUTE FUNCTION ccp_access_changed();
CREATE TRIGGER auth_client_access_removed AFTER DELETE ON auth_client FOR EACH ROW EXECUTE FUNCTION ccp_access_changed();
`;
