import { post } from '../shared/index.ts';
import { toBinaryHeaders, type BrokerMessage } from './message.ts';
import { answered, unanswered, withRetries, type Attempt } from './retry.ts';
import { parseDuration, type Delivery, type Trigger } from './triggers.ts';

/**
 * The URL of a trigger's dead-letter sink: its `uri` path resolved against the URL of the
 * subscriber its `ref` names, or its absolute `uri`; undefined when it has none. Throws when the
 * ref names a subscriber without a URL.
 */
export function deadLetterSinkUrl(
  trigger: Trigger,
  subscribers: Readonly<Record<string, string>>,
): string | undefined {
  const sink = trigger.delivery.deadLetterSink;
  if (!sink) return undefined;
  if (!sink.ref) return sink.uri;

  const base = subscribers[sink.ref];
  if (!base) {
    throw new Error(`trigger ${trigger.name}: dead-letter sink ${sink.ref} has no URL`);
  }
  return sink.uri ? new URL(sink.uri, base).toString() : base;
}

/**
 * POSTs a dead letter in binary mode to a sink, its error attributes as `ce-` headers, retrying
 * per the trigger's delivery spec. Never throws; an answer in the response body is ignored.
 */
export function postToSink(
  url: string,
  deadLetter: BrokerMessage,
  delivery: Delivery,
  signal: AbortSignal,
): Promise<{ attempt: Attempt; attempts: number }> {
  const timeoutMs = parseDuration(delivery.timeout);
  const headers = toBinaryHeaders(deadLetter);

  return withRetries(delivery, signal, async () => {
    try {
      const { status } = await post(url, { headers, body: deadLetter.body, timeoutMs, signal });
      if (status >= 200 && status < 300)
        return { outcome: 'delivered', status, reason: 'delivered' };
      return answered(status, 'dead-letter sink');
    } catch (error) {
      return unanswered(error, timeoutMs);
    }
  });
}
