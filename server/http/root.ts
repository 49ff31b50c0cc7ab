import type { Request } from 'express';

/**
 * The server's public root (the FHIR base without `/fhir`): from BASE_URL when configured, otherwise from the
 * request. Issuer, endpoints, `aud` and `fhirUser` are all built from it.
 */
export function rootOf(req: Request, baseUrl: string | undefined): string {
  return baseUrl ? baseUrl.replace(/\/fhir\/?$/, '') : `${req.protocol}://${req.get('host')}`;
}
