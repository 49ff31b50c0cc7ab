import { OAuthError } from '../oauth-error.js';
import type { AuthorizationDraft, AuthorizationRequest } from './authorization-request.js';

const PROMPTS: AuthorizationRequest['prompt'][] = ['none', 'login', 'consent'];

/** OpenID Connect `prompt`, and `nonce` kept for the id_token. */
export function checkPrompt(draft: AuthorizationDraft): void {
  const prompt = draft.params.prompt;
  if (prompt !== undefined) {
    if (!PROMPTS.includes(prompt as AuthorizationRequest['prompt'])) throw new OAuthError('invalid_request', `prompt must be one of ${PROMPTS.join(', ')}`);
    draft.request.prompt = prompt as AuthorizationRequest['prompt'];
  }
  if (draft.params.nonce) draft.request.nonce = draft.params.nonce;
}
