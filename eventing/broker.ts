import * as amqp from 'amqplib';
import type { ChannelModel, ConfirmChannel, Message } from 'amqplib';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../shared/index.ts';
import type { BrokerMessage } from './message.ts';
import { acceptsEvent } from './routing.ts';
import type { StatusRecord, Trigger } from './triggers.ts';

const connectTimeoutMs = 5000;
const closeTimeoutMs = 2000;

/** The headers exchange every event of a broker is published to. */
export const exchangeName = (broker: string) => `${broker}.broker`;

/** The queue holding one trigger's events. */
export const triggerQueueName = (broker: string, trigger: string) => `${broker}.trigger.${trigger}`;

/** The queue holding one trigger's events that could not be delivered. */
export const deadLetterQueueName = (broker: string, trigger: string) =>
  `${triggerQueueName(broker, trigger)}.dead-letter`;

/** The direct exchange dead letters are published to, with the trigger's name as routing key. */
export const deadLetterExchangeName = (broker: string) => `${broker}.dead-letter`;

/** The stream that records a broker's outcome events and dead letters: a ceremony's record. */
export const statusStreamName = (broker: string) => `${broker}.status`;

const noRecord: StatusRecord = { types: [], maxAge: '7D' };

/** Why a publish failed: no connection, a nack, no confirm in time, no queue, or a bad message. */
export type PublishFailure = 'disconnected' | 'nacked' | 'timeout' | 'unroutable' | 'invalid';

/** A publish that RabbitMQ did not confirm as stored; `reason` says why. */
export class PublishError extends Error {
  constructor(
    readonly reason: PublishFailure,
    message: string,
  ) {
    super(message);
    this.name = 'PublishError';
  }
}

/** What a broker needs: where RabbitMQ is, its name, its triggers and its limits. */
export interface BrokerOptions {
  url: string;
  name: string;
  triggers: readonly Trigger[];
  /** The types the status stream records; none by default, and it keeps them 7 days. */
  record?: StatusRecord;
  logger: Logger;
  /** How long a publish waits for RabbitMQ's confirm; 5 s by default. */
  publishTimeoutMs?: number;
  /** First wait before reconnecting, doubled each failed attempt; 500 ms by default. */
  reconnectDelayMs?: number;
  /** Longest wait before reconnecting; 10 s by default. */
  reconnectMaxDelayMs?: number;
}

/** A connection to RabbitMQ that declares the broker's topology and publishes with confirms. */
export interface Broker {
  readonly name: string;
  readonly exchange: string;
  /** True while a channel is open and the topology is declared. */
  readonly connected: boolean;
  /** Starts connecting; resolves once first connected, retrying with backoff until then. */
  connect(): Promise<void>;
  /** Publishes an event to the exchange; resolves only after RabbitMQ's confirm. */
  publish(message: BrokerMessage): Promise<void>;
  /** Publishes a dead letter of a trigger; resolves only after RabbitMQ's confirm. */
  publishDeadLetter(trigger: string, message: BrokerMessage): Promise<void>;
  /** True when a trigger or the status stream takes an event with these attributes. */
  accepts(attributes: Readonly<Record<string, string>>): boolean;
  /** Adds a step run after the topology on every (re)connection, such as starting consumers. */
  onConnect(setup: (connection: ChannelModel) => Promise<void>): void;
  /** Drops the current connection and reconnects, for a consumer whose channel was lost. */
  reconnect(reason: string): void;
  /** Closes the connection and stops reconnecting. */
  close(): Promise<void>;
}

/** Creates a broker; nothing connects until `connect()`. */
export function createBroker(options: BrokerOptions): Broker {
  const { url, name, triggers, logger, record = noRecord } = options;
  const publishTimeoutMs = options.publishTimeoutMs ?? 5000;
  const firstDelayMs = options.reconnectDelayMs ?? 500;
  const maxDelayMs = options.reconnectMaxDelayMs ?? 10_000;
  const exchange = exchangeName(name);
  const deadLetterExchange = deadLetterExchangeName(name);
  const setups: Array<(connection: ChannelModel) => Promise<void>> = [];
  // Correlation ids of publishes that came back unroutable; the return precedes their ack.
  const returned = new Set<string>();

  let connection: ChannelModel | undefined;
  let channel: ConfirmChannel | undefined;
  let opening: Promise<void> | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let failures = 0;
  let publishes = 0;
  let closed = false;
  let started = false;
  let firstConnected: () => void = () => {};
  let closedFirst: (error: Error) => void = () => {};
  const ready = new Promise<void>((resolve, reject) => {
    firstConnected = resolve;
    closedFirst = reject;
  });
  // Nobody may be waiting for the first connection when the broker closes.
  ready.catch(() => {});

  async function open(): Promise<void> {
    retryTimer = undefined;
    let opened: ChannelModel | undefined;
    let lost = false;
    try {
      opened = await amqp.connect(url, {
        // A publish is several frames: without TCP_NODELAY, Nagle's algorithm holds the later
        // ones until the broker's delayed ACK, about 40 ms a publish.
        noDelay: true,
        timeout: connectTimeoutMs,
        clientProperties: { connection_name: `${name} bridge` },
      });
      if (closed) throw new Error('broker closed');
      const current = opened;
      const drop = (why: string) => {
        lost = true;
        dropped(current, why);
      };
      opened.on('error', (error: Error) => logger.warn('RabbitMQ connection error', reason(error)));
      opened.on('close', () => drop('connection closed'));
      // RabbitMQ blocks publishers when it runs low on memory or disk; confirms then time out.
      opened.on('blocked', (why: string) => logger.warn('RabbitMQ blocked', { reason: why }));
      opened.on('unblocked', () => logger.info('RabbitMQ unblocked'));

      const confirm = await opened.createConfirmChannel();
      confirm.on('error', (error: Error) => logger.warn('RabbitMQ channel error', reason(error)));
      confirm.on('close', () => drop('publishing channel closed'));
      confirm.on('return', (message: Message) => returned.add(message.properties.correlationId));
      await declareTopology(confirm);
      for (const setup of setups) await setup(opened);
      if (closed) throw new Error('broker closed');
      if (lost) throw new Error('connection lost while opening');

      connection = opened;
      channel = confirm;
      failures = 0;
      logger.info('connected to RabbitMQ', { broker: name, exchange });
      firstConnected();
    } catch (error) {
      opened?.close().catch(() => {});
      if (closed) return;
      const delay = nextDelay();
      logger.warn('cannot connect to RabbitMQ', { ...reason(error), retryInMs: delay });
      retryTimer = setTimeout(() => (opening = open()), delay);
    }
  }

  async function declareTopology(confirm: ConfirmChannel): Promise<void> {
    await confirm.assertExchange(exchange, 'headers', { durable: true });
    await confirm.assertExchange(deadLetterExchange, 'direct', { durable: true });
    // Note: RabbitMQ refuses to declare the stream again with another maxAge, and a type taken
    // off the record list keeps its binding; changing either needs the stream deleted, record
    // and all (or, for the age, a RabbitMQ policy).
    const stream = statusStreamName(name);
    await confirm.assertQueue(stream, {
      durable: true,
      arguments: { 'x-queue-type': 'stream', 'x-max-age': record.maxAge },
    });
    for (const type of record.types) {
      await confirm.bindQueue(stream, exchange, '', { 'x-match': 'all', type });
    }

    for (const trigger of triggers) {
      const queue = triggerQueueName(name, trigger.name);
      const deadLetters = deadLetterQueueName(name, trigger.name);
      await confirm.assertQueue(queue, { durable: true });
      await confirm.assertQueue(deadLetters, { durable: true });
      // Note: a binding from an earlier filter stays on the durable queue until it is deleted,
      // as a Knative Trigger's filter cannot change either.
      await confirm.bindQueue(queue, exchange, '', {
        'x-match': 'all',
        ...trigger.filter.attributes,
      });
      // One publish reaches both, so the record never lacks a dead letter the queue holds.
      await confirm.bindQueue(deadLetters, deadLetterExchange, trigger.name);
      await confirm.bindQueue(stream, deadLetterExchange, trigger.name);
    }
  }

  function nextDelay(): number {
    const delay = Math.min(maxDelayMs, firstDelayMs * 2 ** failures);
    failures += 1;
    return delay;
  }

  function dropped(lostConnection: ChannelModel, why: string): void {
    if (lostConnection !== connection) return;
    connection = undefined;
    channel = undefined;
    lostConnection.close().catch(() => {});
    if (closed) return;
    const delay = nextDelay();
    logger.warn('lost RabbitMQ; reconnecting', { reason: why, retryInMs: delay });
    retryTimer = setTimeout(() => (opening = open()), delay);
  }

  function send(target: string, routingKey: string, message: BrokerMessage): Promise<void> {
    const where = target ? `exchange ${target}` : `queue ${routingKey}`;
    const current = channel;
    if (!current) {
      const text = `event ${message.messageId} to ${where}: RabbitMQ is not connected`;
      return Promise.reject(new PublishError('disconnected', text));
    }

    const correlationId = String(++publishes);
    return new Promise<void>((resolve, reject) => {
      const fail = (failure: PublishFailure, detail: string) => {
        clearTimeout(timer);
        reject(new PublishError(failure, `event ${message.messageId} to ${where}: ${detail}`));
      };
      const timer = setTimeout(
        () => fail('timeout', `RabbitMQ did not confirm within ${publishTimeoutMs} ms`),
        publishTimeoutMs,
      );
      const confirmed = (error: unknown) => {
        const unroutable = returned.delete(correlationId);
        if (error) {
          const nacked = error instanceof Error && error.message === 'message nacked';
          if (nacked) fail('nacked', 'RabbitMQ refused to store it (nack)');
          else fail('disconnected', 'the channel closed before RabbitMQ confirmed it');
        } else if (unroutable) {
          fail('unroutable', 'no queue is bound for its headers');
        } else {
          clearTimeout(timer);
          resolve();
        }
      };
      const properties = {
        persistent: true,
        mandatory: true,
        messageId: message.messageId,
        correlationId,
        timestamp: Math.floor(Date.now() / 1000),
        contentType: message.contentType,
        headers: message.headers,
      };
      try {
        current.publish(target, routingKey, message.body, properties, confirmed);
      } catch (error) {
        // A closed channel throws IllegalOperationError; anything else is a message amqplib
        // cannot encode, such as a headers table over 64 KiB.
        const closedChannel = error instanceof Error && error.name === 'IllegalOperationError';
        fail(closedChannel ? 'disconnected' : 'invalid', (error as Error).message);
      }
    });
  }

  return {
    name,
    exchange,
    get connected() {
      return channel !== undefined;
    },
    connect() {
      if (!started && !closed) {
        started = true;
        opening = open();
      }
      return ready;
    },
    publish: (message) => send(exchange, '', message),
    // Note: the stream takes the dead letter too, so a dead-letter queue deleted while the bridge
    // runs goes unnoticed until the next connection declares it again.
    publishDeadLetter: (trigger, message) => send(deadLetterExchange, trigger, message),
    accepts: (attributes) => acceptsEvent(triggers, record, attributes),
    onConnect(setup) {
      setups.push(setup);
    },
    reconnect(why) {
      if (connection) dropped(connection, why);
    },
    async close() {
      closed = true;
      closedFirst(new Error(`broker ${name} closed before it connected`));
      clearTimeout(retryTimer);
      const current = connection;
      connection = undefined;
      channel = undefined;
      await opening;
      if (current) await shut(current);
    },
  };
}

/**
 * Deletes a broker's exchanges, queues and status stream, messages included: for tests and local
 * resets. Missing ones are skipped.
 */
export async function deleteTopology(
  url: string,
  name: string,
  triggers: readonly Trigger[],
): Promise<void> {
  const connection = await amqp.connect(url);
  try {
    const channel = await connection.createChannel();
    for (const trigger of triggers) {
      await channel.deleteQueue(triggerQueueName(name, trigger.name));
      await channel.deleteQueue(deadLetterQueueName(name, trigger.name));
    }
    await channel.deleteQueue(statusStreamName(name));
    await channel.deleteExchange(deadLetterExchangeName(name));
    await channel.deleteExchange(exchangeName(name));
  } finally {
    await connection.close();
  }
}

// amqplib's close() never settles when the socket ends before RabbitMQ's CloseOk arrives (it
// emits 'close' instead), and waits without limit for a broker that does not answer.
async function shut(connection: ChannelModel): Promise<void> {
  const deadline = new AbortController();
  const gone = new Promise<void>((resolve) => connection.once('close', () => resolve()));
  await Promise.race([
    connection.close().catch(() => {}),
    gone,
    sleep(closeTimeoutMs, undefined, { signal: deadline.signal }).catch(() => {}),
  ]);
  deadline.abort();
}

function reason(error: unknown): { reason: string } {
  return { reason: error instanceof Error ? error.message : String(error) };
}
