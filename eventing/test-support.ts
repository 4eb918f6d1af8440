// Helpers for the eventing tests: local subscribers, a TCP proxy in front of RabbitMQ to break
// the connection on purpose, and a look into queues. Everything listens on 127.0.0.1 only.
import * as amqp from 'amqplib';
import type { ConsumeMessage, GetMessage } from 'amqplib';
import { createServer as createHttpServer, type IncomingHttpHeaders } from 'node:http';
import { createServer as createTcpServer, connect, type AddressInfo, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger, type Logger, type ProblemBody } from '../shared/index.ts';

/** The RabbitMQ the tests use. */
export const amqpUrl = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

let names = 0;

/** A broker name no other test, test file or running bridge uses. */
export function uniqueBrokerName(file: string): string {
  return `test-${file}-${process.pid}-${++names}`;
}

/** A request a test subscriber received. */
export interface ReceivedRequest {
  method: string;
  /** The path and query it was sent to. */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** What a test subscriber answers. */
export interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  delayMs?: number;
}

/** An HTTP subscriber on an ephemeral port that records requests and answers as told. */
export async function startSubscriber(answer: (request: ReceivedRequest, index: number) => Answer) {
  const requests: ReceivedRequest[] = [];
  const load = { active: 0, most: 0 };
  const server = createHttpServer(async (incoming, outgoing) => {
    load.active += 1;
    load.most = Math.max(load.most, load.active);
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const { method = '', url = '', headers } = incoming;
    const request = { method, url, headers, body };
    requests.push(request);
    const reply = answer(request, requests.length - 1);
    if (reply.delayMs) await sleep(reply.delayMs);
    load.active -= 1;
    if (outgoing.destroyed) return;
    outgoing.writeHead(reply.status, reply.headers);
    outgoing.end(reply.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    /** The most requests it was handling at once. */
    get mostAtOnce() {
      return load.most;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A TCP proxy to RabbitMQ that a test can pause, cut or make refuse connections. */
export async function startAmqpProxy() {
  const target = new URL(amqpUrl);
  const pairs = new Set<[Socket, Socket]>();
  let refusing = false;
  let paused = false;

  const server = createTcpServer((client) => {
    if (refusing) return void client.destroy();
    const upstream = connect(Number(target.port || 5672), target.hostname);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    client.pipe(upstream);
    upstream.pipe(client);
    if (paused) upstream.unpipe(client);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = new URL(amqpUrl);
  url.hostname = '127.0.0.1';
  url.port = String(port);

  return {
    url: url.toString(),
    /** Stops passing RabbitMQ's frames to the client: confirms never arrive. */
    pause() {
      paused = true;
      for (const [client, upstream] of pairs) upstream.unpipe(client);
    },
    /** Cuts every connection; new ones are refused while `refuse` is on. */
    cut(refuse: boolean) {
      refusing = refuse;
      for (const [client, upstream] of pairs) {
        client.destroy();
        upstream.destroy();
      }
    },
    accept() {
      refusing = false;
      paused = false;
    },
    async close() {
      this.cut(true);
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Every message now in a queue, taken off it. */
export async function drainQueue(queue: string): Promise<GetMessage[]> {
  const connection = await amqp.connect(amqpUrl);
  try {
    const channel = await connection.createChannel();
    const messages: GetMessage[] = [];
    for (;;) {
      const message = await channel.get(queue, { noAck: true });
      if (!message) return messages;
      messages.push(message);
    }
  } finally {
    await connection.close();
  }
}

/** Every message in a stream from its first offset, read until none came for `idleMs`. */
export async function readStream(stream: string, idleMs = 300): Promise<ConsumeMessage[]> {
  const connection = await amqp.connect(amqpUrl);
  try {
    const channel = await connection.createChannel();
    await channel.prefetch(100);
    const messages: ConsumeMessage[] = [];
    let last = Date.now();
    await channel.consume(
      stream,
      (message) => {
        if (!message) return;
        last = Date.now();
        messages.push(message);
        channel.ack(message);
      },
      { arguments: { 'x-stream-offset': 'first' } },
    );
    while (Date.now() - last < idleMs) await sleep(20);
    return messages;
  } finally {
    await connection.close();
  }
}

/** The number of ready messages in a queue. */
export async function countMessages(queue: string): Promise<number> {
  const connection = await amqp.connect(amqpUrl);
  try {
    const channel = await connection.createChannel();
    return (await channel.checkQueue(queue)).messageCount;
  } finally {
    await connection.close();
  }
}

/** Polls until `check` returns a value other than undefined or false, or fails after a while. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** The problem+json body of an error response. */
export async function readProblem(response: Response): Promise<ProblemBody> {
  return (await response.json()) as ProblemBody;
}

/** A logger whose lines the test can read as objects. */
export function captureLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger('test', 'debug', (line) => lines.push(JSON.parse(line)));
  return { logger, lines };
}
