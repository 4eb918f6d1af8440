import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { setTimeout as sleep } from 'node:timers/promises';
import { mediaTypeEssence, post, type Logger, type PostAnswer } from '../shared/index.ts';
import { PublishError, triggerQueueName, type Broker } from './broker.ts';
import { deadLetterSinkUrl, postToSink } from './dead-letter-sink.ts';
import { headerText, readEventMessage, toBinaryHeaders, type BrokerMessage } from './message.ts';
import { answered, unanswered, withRetries, type Attempt } from './retry.ts';
import { parseDuration, type Trigger } from './triggers.ts';

/** What the dispatcher needs: the broker, its triggers and each subscriber's URL by name. */
export interface DispatcherOptions {
  broker: Pick<
    Broker,
    'name' | 'onConnect' | 'reconnect' | 'publish' | 'publishDeadLetter' | 'accepts'
  >;
  triggers: readonly Trigger[];
  subscribers: Readonly<Record<string, string>>;
  logger: Logger;
}

/** Consumers of every trigger's queue; `stop` lets deliveries in flight finish for a while. */
export interface Dispatcher {
  /** Cancels the consumers, waits up to `graceMs` (10 s) for deliveries, requeues the rest. */
  stop(graceMs?: number): Promise<void>;
}

interface Delivery {
  done: Promise<void>;
  abort: AbortController;
}

const requeuePauseMs = 1000;
// The largest reply read from a subscriber, as the ingress's default body limit.
const maxReplyBytes = 1024 * 1024;

/**
 * Starts a consumer on each trigger's queue, on every (re)connection of the broker, that POSTs
 * each event to its subscriber in binary mode, retries it per the trigger's delivery spec and
 * dead-letters it when it fails for good, then offers the dead letter to the trigger's sink. A
 * message is acked only after a 2xx answer or a confirmed dead-letter publish, so no event is
 * lost when the dead-letter exchange is not reachable.
 */
export function startDispatcher(options: DispatcherOptions): Dispatcher {
  const { broker, triggers, subscribers, logger } = options;
  const sinks = new Map<string, string>();
  for (const trigger of triggers) {
    if (!subscribers[trigger.subscriber]) {
      throw new Error(`trigger ${trigger.name}: subscriber ${trigger.subscriber} has no URL`);
    }
    const sink = deadLetterSinkUrl(trigger, subscribers);
    if (sink) sinks.set(trigger.name, sink);
  }

  const inFlight = new Set<Delivery>();
  let consumers: Array<{ channel: Channel; consumerTag: string }> = [];
  let generation = 0;
  let stopping = false;

  broker.onConnect(async (connection: ChannelModel) => {
    if (stopping) return;
    const current = ++generation;
    consumers = [];
    for (const trigger of triggers) {
      const channel = await connection.createChannel();
      const lost = (why: string) => {
        if (stopping || current !== generation) return;
        broker.reconnect(`trigger ${trigger.name}: ${why}`);
      };
      channel.on('error', (error: Error) => logger.warn('consumer channel error', reasonOf(error)));
      channel.on('close', () => lost('consumer channel closed'));

      // Prefetch bounds the deliveries in flight per consumer: the trigger's parallelism.
      await channel.prefetch(trigger.parallelism);
      const queue = triggerQueueName(broker.name, trigger.name);
      const { consumerTag } = await channel.consume(queue, (message) => {
        if (message) receive(trigger, channel, message);
        else lost('consumer cancelled by RabbitMQ');
      });
      consumers.push({ channel, consumerTag });
    }
  });

  function receive(trigger: Trigger, channel: Channel, message: ConsumeMessage): void {
    if (stopping) {
      settle(channel, message, 'requeue');
      return;
    }
    const abort = new AbortController();
    const delivery: Delivery = {
      abort,
      done: deliver(trigger, channel, message, abort.signal)
        .catch((error: unknown) => {
          logger.error('delivery failed unexpectedly', reasonOf(error));
          settle(channel, message, 'requeue');
        })
        .finally(() => inFlight.delete(delivery)),
    };
    inFlight.add(delivery);
  }

  async function deliver(
    trigger: Trigger,
    channel: Channel,
    message: ConsumeMessage,
    signal: AbortSignal,
  ): Promise<void> {
    const started = performance.now();
    const url = subscribers[trigger.subscriber]!;
    const timeoutMs = parseDuration(trigger.delivery.timeout);

    const { attempt, attempts } = await withRetries(trigger.delivery, signal, () =>
      attemptOnce(url, message, timeoutMs, signal),
    );

    const fields = {
      eventId: String(message.properties.messageId),
      eventType: headerText(message.properties.headers?.type),
      trigger: trigger.name,
      status: attempt.status,
      attempts,
    };
    const done = () => ({ durationMs: Math.round(performance.now() - started) });
    if (attempt.outcome === 'delivered') {
      settle(channel, message, 'ack');
      logger.debug('event delivered', { ...fields, ...done() });
      return;
    }
    if (signal.aborted) {
      settle(channel, message, 'requeue');
      logger.warn('delivery stopped by shutdown; event requeued', { ...fields, ...done() });
      return;
    }

    const deadLetter = deadLetterMessage(message, url, attempt, attempts);
    try {
      await broker.publishDeadLetter(trigger.name, deadLetter);
    } catch (error) {
      // A pause keeps a dead-letter exchange that stays unreachable from becoming a busy loop.
      await sleep(requeuePauseMs, undefined, { signal }).catch(() => {});
      settle(channel, message, 'requeue');
      const why = `${attempt.reason}; dead-letter publish failed: ${reasonOf(error).reason}`;
      logger.error('event not delivered; requeued', { ...fields, reason: why, ...done() });
      return;
    }

    // Note: the original stays unacked while the sink is tried, so a connection lost meanwhile
    // has RabbitMQ redeliver it and dead-letter it a second time.
    const sink = sinks.get(trigger.name);
    if (sink) await offerToSink(sink, trigger, deadLetter, signal);
    settle(channel, message, 'ack');
    logger.warn('event dead-lettered', { ...fields, reason: attempt.reason, ...done() });
  }

  // The dead letter is already stored, so whatever the sink answers, the original is acked.
  async function offerToSink(
    url: string,
    trigger: Trigger,
    deadLetter: BrokerMessage,
    signal: AbortSignal,
  ): Promise<void> {
    const { attempt, attempts } = await postToSink(url, deadLetter, trigger.delivery, signal);
    const fields = {
      eventId: deadLetter.messageId,
      eventType: deadLetter.headers.type,
      trigger: trigger.name,
      status: attempt.status,
      attempts,
    };
    if (attempt.outcome === 'delivered') {
      logger.info('dead letter sent to the sink', fields);
      return;
    }
    const reason = signal.aborted ? 'stopped by shutdown' : attempt.reason;
    logger.warn('dead-letter sink did not take the event; it stays in the dead-letter queue', {
      ...fields,
      reason,
    });
  }

  async function attemptOnce(
    url: string,
    message: ConsumeMessage,
    timeoutMs: number,
    shutdown: AbortSignal,
  ): Promise<Attempt> {
    let answer: PostAnswer;
    try {
      answer = await post(url, {
        headers: toBinaryHeaders(message.properties),
        body: message.content,
        timeoutMs,
        signal: shutdown,
        keepBodyBytes: maxReplyBytes,
      });
    } catch (error) {
      return unanswered(error, timeoutMs);
    }
    const { status } = answer;
    if (status < 200 || status >= 300) return answered(status, 'subscriber');
    const { headers, body } = answer;
    if (!isReply(headers)) return { outcome: 'delivered', status, reason: 'delivered' };
    if (answer.tooLarge) {
      // Retrying would run the subscriber again for a reply just as large.
      return {
        outcome: 'final',
        status,
        reason: `the reply is larger than ${maxReplyBytes} bytes`,
      };
    }
    return await forwardReply(headers, body, status);
  }

  // A CloudEvent in a 2xx answer is a reply: it goes back through the exchange, to the triggers
  // and the status stream. One that neither takes is dropped, as Knative's broker drops it.
  async function forwardReply(headers: Headers, body: Buffer, status: number): Promise<Attempt> {
    let reply: { id: string; type: string; message: BrokerMessage };
    try {
      const { event, message } = readEventMessage(headers, body);
      reply = { id: event.id, type: event.type, message };
    } catch {
      // Retrying would run the subscriber again for a reply that is most likely just as broken.
      return { outcome: 'final', status, reason: 'the reply is not a valid CloudEvent' };
    }

    const delivered: Attempt = { outcome: 'delivered', status, reason: 'delivered' };
    const dropped = () => {
      const fields = { eventId: reply.id, eventType: reply.type };
      logger.info('reply dropped: no trigger accepts its type', fields);
      return delivered;
    };
    if (!broker.accepts(reply.message.headers)) return dropped();
    try {
      await broker.publish(reply.message);
    } catch (error) {
      if (error instanceof PublishError && error.reason === 'unroutable') return dropped();
      return { outcome: 'retry', status, reason: `reply not stored: ${reasonOf(error).reason}` };
    }
    return delivered;
  }

  function settle(channel: Channel, message: ConsumeMessage, how: 'ack' | 'requeue'): void {
    try {
      if (how === 'ack') channel.ack(message);
      else channel.nack(message, false, true);
    } catch (error) {
      // The channel is gone, and RabbitMQ requeues every message it had not seen acked.
      logger.warn('cannot settle a message on a closed channel', reasonOf(error));
    }
  }

  return {
    async stop(graceMs = 10_000) {
      stopping = true;
      for (const { channel, consumerTag } of consumers) {
        await quietly(() => channel.cancel(consumerTag));
      }

      const all = Promise.allSettled([...inFlight].map((delivery) => delivery.done));
      const grace = new AbortController();
      const finished = await Promise.race([
        all.then(() => true),
        sleep(graceMs, false, { signal: grace.signal }).catch(() => false),
      ]);
      grace.abort();
      if (!finished) {
        for (const delivery of inFlight) delivery.abort.abort();
        await all;
      }

      for (const { channel } of consumers) await quietly(() => channel.close());
      consumers = [];
    },
  };
}

function isReply(headers: Headers): boolean {
  const essence = mediaTypeEssence(headers.get('content-type'));
  return headers.has('ce-specversion') || essence === 'application/cloudevents+json';
}

// The original attributes and data, with Knative's error extensions and Trikey's own: the
// subscriber's status and a short reason, never its response body, which may hold event data.
function deadLetterMessage(
  message: ConsumeMessage,
  subscriber: string,
  attempt: Attempt,
  attempts: number,
): BrokerMessage {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.properties.headers ?? {})) {
    if (value != null) headers[name] = headerText(value);
  }
  return {
    messageId: String(message.properties.messageId),
    contentType: message.properties.contentType,
    headers: {
      ...headers,
      knativeerrordest: subscriber,
      knativeerrorcode: String(attempt.status),
      trikeyattempts: String(attempts),
      trikeydeadletterreason: attempt.reason,
    },
    body: message.content,
  };
}

// amqplib throws at once on a closed channel, or rejects later: both mean there is nothing to do.
async function quietly(operation: () => Promise<unknown>): Promise<void> {
  try {
    await operation();
  } catch {
    // Nothing to undo.
  }
}

function reasonOf(error: unknown): { reason: string } {
  return { reason: error instanceof Error ? error.message : String(error) };
}
