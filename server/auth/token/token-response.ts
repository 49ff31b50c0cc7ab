import type { LaunchContext } from '../tokens.js';

/** RFC 6749 §5.1 with SMART's launch context and OpenID Connect's id_token. */
export interface TokenResponse extends LaunchContext {
  access_token: string;
  /** Backend Services writes `bearer`, App Launch `Bearer` (RFC 6750 §4: the value is case-insensitive). */
  token_type: 'bearer' | 'Bearer';
  expires_in: number;
  scope: string;
  refresh_token?: string;
  id_token?: string;
}
