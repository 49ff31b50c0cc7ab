import type { Extension } from 'fhir/r4';
import { FILTER_CRITERIA_EXTENSION } from './backport.js';
import type { TopicFilter } from './model.js';
import { malformed, refused, type Problem } from './problems.js';
import { filterTargetType, filterValueId, isFilterName, type SubscriptionTopicDefinition } from './topics.js';

/**
 * The `backport-filter-criteria` extensions on `Subscription.criteria`, one filter each, combined with AND. Each is
 * `name=value`, or `Type?name=value` as the IG's examples write it (`Encounter?patient=Patient/123`), with a name
 * the topic lists in its `canFilterBy`. The IG: a server that cannot apply a requested filter SHALL reject the
 * Subscription, so every filter we do not understand is refused rather than ignored (ignoring one would send the
 * subscriber more than it asked for).
 */

export interface CheckedFilters {
  /** Each filter's value as the id it names (`Patient/123` → `123`). */
  filters: TopicFilter[];
  problems: Problem[];
}

export function checkFilterCriteria(extensions: readonly Extension[], topic: SubscriptionTopicDefinition): CheckedFilters {
  const filters: TopicFilter[] = [];
  const problems: Problem[] = [];
  extensions.forEach((extension, index) => {
    const expression = `Subscription.criteria.extension('${FILTER_CRITERIA_EXTENSION}')[${index}]`;
    const read = readFilter(extension, topic, expression, filters);
    if ('status' in read) problems.push(read);
    else filters.push(read);
  });
  return { filters, problems };
}

/** The filter, or the problem with it. */
function readFilter(
  extension: Extension,
  topic: SubscriptionTopicDefinition,
  expression: string,
  earlier: readonly TopicFilter[],
): TopicFilter | Problem {
  const text: unknown = extension.valueString;
  if (typeof text !== 'string' || !text.trim()) {
    return malformed(expression, 'a filter-criteria extension takes a valueString: `name=value`, e.g. `patient=Patient/123`');
  }
  const query = /^([A-Za-z]+)\?(.*)$/.exec(text.trim());
  const resource = query?.[1];
  const pair = query ? query[2] : text.trim();
  if (pair.includes('&')) {
    return refused(expression, 'a filter-criteria extension holds one filter; give each its own extension (they combine with AND)');
  }
  const equals = pair.indexOf('=');
  if (equals < 1) return malformed(expression, 'a filter-criteria must be `name=value`, e.g. `patient=Patient/123`');
  const name = pair.slice(0, equals);
  let value: string;
  try {
    value = decodeURIComponent(pair.slice(equals + 1));
  } catch {
    return malformed(expression, `the value of filter ${name} is not valid percent-encoding`, 'value');
  }
  if (name.includes(':')) return refused(expression, `filter ${name}: search modifiers are not supported on topic filters`);
  const definition = topic.canFilterBy.find((filter) => filter.filterParameter === name);
  if (!definition || !isFilterName(name)) {
    const accepted = topic.canFilterBy.map((filter) => filter.filterParameter);
    return refused(
      expression,
      accepted.length
        ? `topic ${topic.name} cannot filter by ${name}: it takes ${accepted.join(', ')}`
        : `topic ${topic.name} takes no filters (it is about the whole service), so it cannot filter by ${name}`,
    );
  }
  if (resource !== undefined && !definition.resource.includes(resource)) {
    return refused(expression, `topic ${topic.name}'s ${name} filter applies to ${definition.resource.join(', ')}, not ${resource}`);
  }
  const id = filterValueId(name, value);
  if (id === undefined) {
    const type = filterTargetType(name);
    return malformed(expression, `filter ${name} takes ${type}/[id] or [id]`, 'value');
  }
  if (earlier.some((filter) => filter.name === name)) {
    return refused(expression, `a second ${name} filter: filters combine with AND, so two different ${name}s could never match; one subscription per ${name}`, 'business-rule');
  }
  return { name, value: id };
}
