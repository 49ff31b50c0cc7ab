import { SignJWT } from 'jose';
import type { AuthServer } from '../auth-server.js';
import { readPractitionerRole } from '../../store/auth-activity.js';

/** An id_token is read at once by the app that asked for it. */
const ID_TOKEN_SECONDS = 3600;

/**
 * The OpenID Connect id_token (RS256, our key): who signed in, for which app, and (SMART `fhirUser`) the FHIR
 * resource that is this user, as an absolute URL: their Practitioner.
 */
export async function idToken(
  auth: AuthServer,
  claims: { root: string; userId: string; clientId: string; nonce?: string; authTime?: Date; practitionerRoleId?: string },
): Promise<string> {
  const key = await auth.keys.signingKey();
  const fhirUser = await practitionerOf(auth, claims.practitionerRoleId);
  const payload: Record<string, unknown> = {};
  if (fhirUser) payload.fhirUser = `${claims.root}/fhir/${fhirUser}`;
  if (claims.nonce) payload.nonce = claims.nonce;
  if (claims.authTime) payload.auth_time = Math.floor(claims.authTime.getTime() / 1000);
  return new SignJWT(payload)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
    .setIssuer(claims.root)
    .setSubject(claims.userId)
    .setAudience(claims.clientId)
    .setIssuedAt()
    .setExpirationTime(`${ID_TOKEN_SECONDS}s`)
    .sign(key.privateKey);
}

/** `Practitioner/123`, from the user's PractitionerRole. */
async function practitionerOf(auth: AuthServer, practitionerRoleId: string | undefined): Promise<string | undefined> {
  const reference = (await readPractitionerRole(auth.db, practitionerRoleId))?.practitioner?.reference;
  return reference && /^Practitioner\/[A-Za-z0-9\-.]{1,64}$/.test(reference) ? reference : undefined;
}
