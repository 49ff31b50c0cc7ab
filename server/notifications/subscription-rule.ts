import type { Meta, Subscription } from 'fhir/r4';
import type { WriteChange, WriteRule, WriteRuleContext } from '../rest/write-rules.js';
import type { SubscriptionOwner, SubscriptionSpec, SubscriptionStatusCode } from '../subscriptions/model.js';
import { OWNER_TAG_SYSTEM, ownerTag } from '../subscriptions/owner.js';
import { refusal, refused } from '../subscriptions/problems.js';
import { checkSubscription, statusToStore } from '../subscriptions/subscription-request.js';
import { ownerOfCaller } from './owner-of-caller.js';

/**
 * Subscriptions as the Backport IG has them (server/subscriptions/subscription-request.ts checks each against it
 * and our topics): before the write, the Subscription is refused with every problem named, or stored with the
 * status the server decides (`requested` until its handshake is delivered) and its owner's tag (any tag of that
 * system the client sent is replaced: ownership is the server's to say). After the write, in the same transaction,
 * the delivery engine's record follows: created or replaced, or removed with its queue on delete, so a Subscription
 * exists for the engine exactly when it exists as a resource.
 */
export const subscriptionWriteRule: WriteRule = {
  name: 'subscription',
  resourceTypes: ['Subscription'],
  async check(change, context) {
    if (change.interaction === 'delete' || !change.resource) return;
    const resource = change.resource as Subscription;
    const { owner, interaction, currentStatus } = await judged(change, context);
    const spec = checkSubscription(resource, { id: change.id ?? resource.id ?? 'new', owner, interaction, ...(currentStatus ? { currentStatus } : {}), allowHttpLoopback: loopback(context) });
    if (spec.channel === 'email' && context.subscriptions?.email !== true) {
      throw refusal([refused('Subscription.channel.type', 'this server sends no email (no SMTP server is configured: SMTP_URL)')]);
    }
    const status = statusToStore(resource, { interaction, ...(currentStatus ? { currentStatus } : {}) });
    // `error` is the server's to set, with the engine's reason; a client sending it back leaves no stale note.
    const { error: _error, ...kept } = resource;
    return { ...kept, status, ...(status === 'error' && resource.error ? { error: resource.error } : {}), meta: withOwner(resource.meta, owner) };
  },
  async written(change, written, context) {
    if (change.interaction === 'delete') {
      if (change.id !== undefined) await context.store.removeSubscription(change.id);
      return;
    }
    const resource = written as Subscription | undefined;
    if (!resource?.id) return;
    const { owner, interaction, currentStatus } = await judged(change, context);
    const spec: SubscriptionSpec = checkSubscription(resource, {
      id: resource.id,
      owner,
      interaction,
      ...(currentStatus ? { currentStatus } : {}),
      allowHttpLoopback: loopback(context),
    });
    await context.store.putSubscription(spec, resource.status as SubscriptionStatusCode);
  },
};

/** Who the Subscription is for, and what the engine holds of it now (an update keeps its status unless asked). */
async function judged(change: WriteChange, context: WriteRuleContext): Promise<{ owner: SubscriptionOwner; interaction: 'create' | 'update'; currentStatus?: SubscriptionStatusCode }> {
  const owner = ownerOfCaller(change.caller);
  if (change.current === undefined || change.id === undefined) return { owner, interaction: 'create' };
  const state = await context.store.subscriptionState(change.id);
  return { owner, interaction: 'update', ...(state ? { currentStatus: state.status } : {}) };
}

function loopback(context: WriteRuleContext): boolean {
  return context.subscriptions?.allowHttpLoopback ?? false;
}

function withOwner(meta: Meta | undefined, owner: SubscriptionOwner): Meta {
  const tags = (meta?.tag ?? []).filter((tag) => tag.system !== OWNER_TAG_SYSTEM);
  return { ...meta, tag: [...tags, ownerTag(owner)] };
}
