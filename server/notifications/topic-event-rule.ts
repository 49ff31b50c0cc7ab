import type { WriteRule } from '../rest/write-rules.js';
import { topicEventsOf } from './topic-events.js';

/**
 * Records the topic events of a write in the notification outbox, in the write's own transaction (DESIGN rule 7):
 * an event exists exactly when the change that caused it commits, and a refused or rolled-back write leaves none.
 * Registered after the domain rules, so what it sees is the version they let through.
 */
export const topicEventRule: WriteRule = {
  name: 'topic-events',
  resourceTypes: ['CarePlan', 'Task', 'Consent', 'Organization', 'Communication'],
  async written(change, written, context) {
    for (const event of topicEventsOf(change, written)) await context.store.recordTopicEvent(event);
  },
};
