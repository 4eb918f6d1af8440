import * as amqp from 'amqplib';
import type { ConsumeMessage } from 'amqplib';
import { deadLetterExchangeName, statusStreamName } from './broker.ts';
import { headerText } from './message.ts';
import { ceremonyStatusOf, type CeremonyStatus, type RecordedEvent } from './status-record.ts';

const connectTimeoutMs = 5000;
// Streams need a prefetch; acks only return credit, they remove nothing.
const prefetch = 500;

/** Which ceremony to look up, in the status stream of which broker, and how long to read. */
export interface StatusQuery {
  url: string;
  brokerName: string;
  ceremonyId: string;
  /** Reading stops after this long without a message; 300 ms by default. */
  idleMs?: number;
  /** Reading stops after this long in all, and the status is marked partial; 10 s by default. */
  timeoutMs?: number;
}

/**
 * Reads a broker's status stream from its first offset on a connection of its own and folds the
 * events whose subject is the ceremony into the ceremony's status. Throws when RabbitMQ cannot
 * be reached or the stream does not exist.
 */
export async function readCeremonyStatus(query: StatusQuery): Promise<CeremonyStatus> {
  const { url, brokerName, ceremonyId, idleMs = 300, timeoutMs = 10_000 } = query;
  const deadline = Date.now() + timeoutMs;
  const deadLetters = deadLetterExchangeName(brokerName);
  const stream = statusStreamName(brokerName);

  const connection = await amqp.connect(url, {
    timeout: Math.min(connectTimeoutMs, timeoutMs),
    clientProperties: { connection_name: `${brokerName} status reader` },
  });
  try {
    const events: RecordedEvent[] = [];
    const partial = await consume(connection, stream, idleMs, deadline, (message) => {
      const headers = message.properties.headers ?? {};
      if (headerText(headers.subject) !== ceremonyId) return;
      events.push(recordedEvent(message, message.fields.exchange === deadLetters));
    });
    const status = ceremonyStatusOf(ceremonyId, events);
    return partial ? { ...status, partial } : status;
  } finally {
    await connection.close().catch(() => {});
  }
}

// Consumes the stream until it stays idle or the deadline passes; resolves true at the deadline.
async function consume(
  connection: amqp.ChannelModel,
  stream: string,
  idleMs: number,
  deadline: number,
  take: (message: ConsumeMessage) => void,
): Promise<boolean> {
  let finish: (partial: boolean) => void = () => {};
  let fail: (error: Error) => void = () => {};
  const finished = new Promise<boolean>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  // Nobody awaits it when setting up the consumer fails first.
  finished.catch(() => {});
  // amqplib throws an error event that has no listener; these failures arrive as rejections.
  connection.on('error', () => {});
  connection.on('close', () => fail(new Error('the connection to RabbitMQ closed')));
  const channel = await connection.createChannel();
  channel.on('error', () => {});

  let idle: NodeJS.Timeout | undefined;
  const rearm = () => {
    clearTimeout(idle);
    idle = setTimeout(() => finish(false), idleMs);
  };
  await channel.prefetch(prefetch);
  try {
    await channel.consume(
      stream,
      (message) => {
        if (!message) return fail(new Error(`the status stream ${stream} was deleted`));
        rearm();
        channel.ack(message);
        take(message);
      },
      { noAck: false, arguments: { 'x-stream-offset': 'first' } },
    );
  } catch (error) {
    const missing = (error as { code?: number }).code === 404;
    const detail = missing
      ? 'it does not exist (the broker bridge makes it when it starts)'
      : (error as Error).message;
    throw new Error(`cannot read the status stream ${stream}: ${detail}`);
  }

  rearm();
  const limit = setTimeout(() => finish(true), Math.max(0, deadline - Date.now()));
  try {
    return await finished;
  } finally {
    clearTimeout(idle);
    clearTimeout(limit);
  }
}

function recordedEvent(message: ConsumeMessage, deadLetter: boolean): RecordedEvent {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.properties.headers ?? {})) {
    if (value != null) headers[name] = headerText(value);
  }
  const { timestamp } = message.properties;
  return {
    headers,
    data: parseJson(message.content),
    deadLetter,
    timestamp: typeof timestamp === 'number' ? timestamp : undefined,
  };
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}
