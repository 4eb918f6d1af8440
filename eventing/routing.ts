import { EventTypes } from '../shared/index.ts';
import type { StatusRecord, Trigger } from './triggers.ts';

// Events that ask a subscriber for work, such as a sealed share to mail. Recording one in the
// status stream delivers it to nobody, so only a trigger makes it acceptable.
const workTypes: ReadonlySet<string> = new Set([
  EventTypes.ceremonyRequested,
  EventTypes.shareIssued,
  EventTypes.ceremonyVoided,
]);

/** True when a trigger's filter matches every one of its attributes exactly, as RabbitMQ's does. */
export function matchesTrigger(trigger: Trigger, attributes: Readonly<Record<string, string>>) {
  return Object.entries(trigger.filter.attributes).every(
    ([name, value]) => attributes[name] === value,
  );
}

/**
 * True when the broker takes an event with these attributes: a trigger accepts it, or the status
 * stream records its type and the type asks nobody for work. The ingress and the reply path ask
 * this before publishing; RabbitMQ's return of an unroutable message stays the final guard.
 */
export function acceptsEvent(
  triggers: readonly Trigger[],
  record: StatusRecord,
  attributes: Readonly<Record<string, string>>,
): boolean {
  if (triggers.some((trigger) => matchesTrigger(trigger, attributes))) return true;
  const type = attributes.type ?? '';
  return record.types.includes(type) && !workTypes.has(type);
}
