import type { WriteRule } from '../rest/write-rules.js';
import { correctionRule } from './correction-rule.js';
import { identityRule } from './identity-rule.js';
import { narrativeRule } from './narrative-rule.js';
import { noDeleteRule } from './no-delete-rule.js';
import { oneActiveRule } from './one-active-rule.js';
import { statusRule } from './status-rule.js';

/** The CCP's rules, in order: what may be written at all, then the one-active check under its lock, then the correction trail and the narrative. */
export const CCP_RULES: readonly WriteRule[] = [noDeleteRule, identityRule, statusRule, oneActiveRule, correctionRule, narrativeRule];
