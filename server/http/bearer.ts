import type { RequestHandler, Response } from 'express';
import { ANONYMOUS, type Caller, UNRESTRICTED } from '../access/caller.js';
import type { AuthServer } from '../auth/auth-server.js';
import { callerOfToken } from '../auth/caller-of-token.js';
import { FhirError } from '../fhir/outcome.js';

/**
 * RFC 6750 bearer tokens on the FHIR API: the caller of the request, put where the FHIR endpoint finds it. No
 * token is an anonymous caller (public routes only); a token that does not work is a 401 at once. Without an
 * authorization server (AUTH_DISABLED) every request is unrestricted.
 */
export function bearer(auth: AuthServer | undefined): RequestHandler {
  return async (req, res, next) => {
    try {
      res.locals.caller = await callerOfAuthorization(auth, req.get('authorization'));
      next();
    } catch (error) {
      next(error);
    }
  };
}

/**
 * The caller an `Authorization` header names (the rule of `bearer`, without Express: the FHIR pipeline calls it
 * directly). Rejects with the 400/401 FhirError and its `WWW-Authenticate` challenge when the header does not work.
 */
export async function callerOfAuthorization(auth: AuthServer | undefined, header: string | undefined): Promise<Caller> {
  if (!auth) return UNRESTRICTED;
  if (header === undefined) return ANONYMOUS;
  // `Bearer` and nothing after it: most often a `TOKEN=$(…)` that got no token, which is the thing to look at.
  if (/^Bearer\s*$/i.test(header)) throw challenge('invalid_request', 'the Authorization header holds no token after Bearer (is the variable holding it empty? getting the token may have failed)', 400);
  const token = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i.exec(header)?.[1];
  if (!token) throw challenge('invalid_request', 'the Authorization header must be "Bearer <token>"', 400);
  const caller = await callerOfToken(auth, token);
  if (!caller) throw challenge('invalid_token', 'the access token is unknown, expired or revoked');
  return caller;
}

function challenge(error: string, description: string, status = 401): FhirError {
  return new FhirError(status, { code: status === 401 ? 'login' : 'invalid', diagnostics: description }, {
    'WWW-Authenticate': `Bearer error="${error}", error_description="${description}"`,
  });
}

/** The caller `bearer` found; deny by default if it did not run. */
export function callerOf(res: Response): Caller {
  return (res.locals.caller as Caller | undefined) ?? ANONYMOUS;
}
