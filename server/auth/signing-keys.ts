import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import type { Database } from '../store/database.js';

/** id_tokens are signed with RS256, the algorithm every OpenID Connect client must accept. */
export const ID_TOKEN_ALG = 'RS256';

export interface SigningKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

/** Any constant works; every process sharing the database uses the same one. */
const KEY_LOCK = 7_041_905_822;

/**
 * The server's signing keys, shared through the database by every server process: the first process to start on
 * an empty database makes one (under an advisory lock, so two starting at once do not make two).
 */
export class SigningKeys {
  private current?: Promise<SigningKey>;

  constructor(private readonly db: Database) {}

  /** The key new id_tokens are signed with: the newest. */
  signingKey(): Promise<SigningKey> {
    this.current ??= this.load().catch((error: unknown) => {
      this.current = undefined;
      throw error;
    });
    return this.current;
  }

  /** The JSON Web Key Set clients verify our signatures with: every key, public parts only. */
  async jwks(): Promise<{ keys: JWK[] }> {
    await this.signingKey();
    const rows = await this.db.query<{ public_jwk: JWK }>('SELECT public_jwk FROM auth_signing_key ORDER BY created_at DESC');
    return { keys: rows.map((row) => row.public_jwk) };
  }

  private async load(): Promise<SigningKey> {
    const row = await this.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [KEY_LOCK]);
      const found = await tx.query<KeyRow>('SELECT kid, alg, private_jwk, public_jwk FROM auth_signing_key ORDER BY created_at DESC LIMIT 1');
      if (found.length) return found[0];
      const made = await makeKey();
      await tx.query('INSERT INTO auth_signing_key (kid, alg, private_jwk, public_jwk) VALUES ($1, $2, $3, $4)', [made.kid, made.alg, made.private_jwk, made.public_jwk]);
      return made;
    });
    return { kid: row.kid, alg: row.alg, privateKey: (await importJWK(row.private_jwk, row.alg)) as CryptoKey, publicJwk: row.public_jwk };
  }
}

interface KeyRow {
  kid: string;
  alg: string;
  private_jwk: JWK;
  public_jwk: JWK;
}

async function makeKey(): Promise<KeyRow> {
  const { privateKey, publicKey } = await generateKeyPair(ID_TOKEN_ALG, { extractable: true, modulusLength: 2048 });
  const kid = crypto.randomUUID();
  const private_jwk = { ...(await exportJWK(privateKey)), kid, alg: ID_TOKEN_ALG, use: 'sig' };
  const public_jwk = { ...(await exportJWK(publicKey)), kid, alg: ID_TOKEN_ALG, use: 'sig' };
  return { kid, alg: ID_TOKEN_ALG, private_jwk, public_jwk };
}
