// Faults: RabbitMQ going away or going quiet, shutdown during deliveries, a missing
// dead-letter exchange. A TCP proxy in front of RabbitMQ breaks the connection on purpose.
import * as amqp from 'amqplib';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EventTypes } from '../shared/event-types.ts';
import {
  createBroker,
  deadLetterExchangeName,
  deadLetterQueueName,
  deleteTopology,
  PublishError,
  triggerQueueName,
} from './broker.ts';
import { startDispatcher } from './dispatcher.ts';
import { createIngressApp } from './ingress.ts';
import {
  amqpUrl,
  captureLogger,
  countMessages,
  readProblem,
  startAmqpProxy,
  startSubscriber,
  uniqueBrokerName,
  waitFor,
} from './test-support.ts';
import type { Trigger } from './triggers.ts';

const keysTrigger: Trigger = {
  name: 'keys',
  filter: { attributes: { type: EventTypes.ceremonyRequested } },
  subscriber: 'keys',
  delivery: { retry: 1, backoffPolicy: 'linear', backoffDelay: 'PT0.02S', timeout: 'PT5S' },
  parallelism: 2,
};
const triggers = [keysTrigger];
const eventHeaders = {
  'ce-specversion': '1.0',
  'ce-id': 'evt-fault-1',
  'ce-source': '/trikey/cli',
  'ce-type': EventTypes.ceremonyRequested,
  'content-type': 'application/json',
};
const eventBody = '{"ceremonyId":"c-7"}';
const publishTimeoutMs = 300;

function postEvent(app: ReturnType<typeof createIngressApp>) {
  const request = { method: 'POST', headers: eventHeaders, body: eventBody };
  return Promise.resolve(app.request('/', request));
}

test('answers 503 at once while RabbitMQ is away and 202 again after reconnecting', async () => {
  const proxy = await startAmqpProxy();
  const name = uniqueBrokerName('broker');
  const { logger, lines } = captureLogger();
  const broker = createBroker({
    url: proxy.url,
    name,
    triggers,
    logger,
    reconnectDelayMs: 20,
    reconnectMaxDelayMs: 50,
  });
  const app = createIngressApp({ broker, logger });
  try {
    await broker.connect();
    assert.is((await app.request('/health/readiness')).status, 200);
    assert.is((await postEvent(app)).status, 202);

    proxy.cut(true);
    await waitFor('the disconnection', () => !broker.connected);
    assert.is((await app.request('/health/readiness')).status, 503);
    const started = Date.now();
    const refused = await postEvent(app);
    assert.is(refused.status, 503);
    assert.ok(Date.now() - started < 200, 'a publish fails fast while disconnected');
    const problem = await readProblem(refused);
    assert.is(problem.detail, 'RabbitMQ is not connected; the event was not stored.');

    proxy.accept();
    await waitFor('the reconnection', () => broker.connected);
    assert.is((await app.request('/health/readiness')).status, 200);
    assert.is((await postEvent(app)).status, 202);
    assert.is(await countMessages(triggerQueueName(name, 'keys')), 2);
    assert.ok(lines.some((line) => line.message === 'lost RabbitMQ; reconnecting'));
  } finally {
    await broker.close();
    await proxy.close();
    await deleteTopology(amqpUrl, name, triggers);
  }
});

test('answers 503 within the bounded wait when RabbitMQ does not confirm', async () => {
  const proxy = await startAmqpProxy();
  const name = uniqueBrokerName('broker');
  const { logger } = captureLogger();
  const broker = createBroker({ url: proxy.url, name, triggers, logger, publishTimeoutMs });
  const app = createIngressApp({ broker, logger });
  try {
    await broker.connect();
    proxy.pause();

    const started = Date.now();
    const response = await postEvent(app);
    const waited = Date.now() - started;
    assert.is(response.status, 503);
    assert.match((await readProblem(response)).detail, 'did not confirm the event in time');
    assert.ok(waited >= publishTimeoutMs - 10 && waited < publishTimeoutMs + 500, `${waited} ms`);
  } finally {
    proxy.cut(true);
    await broker.close();
    await proxy.close();
    await deleteTopology(amqpUrl, name, triggers);
  }
});

test('rejects a publish when no queue is bound for the event, with reason unroutable', async () => {
  const name = uniqueBrokerName('broker');
  const broker = createBroker({ url: amqpUrl, name, triggers, logger: captureLogger().logger });
  try {
    await broker.connect();
    const message = {
      messageId: 'evt-nowhere',
      headers: { type: EventTypes.shareFailed },
      body: Buffer.from('{}'),
    };
    const error = await broker.publish(message).then(
      () => undefined,
      (failure: unknown) => failure,
    );
    assert.instance(error, PublishError);
    assert.is((error as PublishError).reason, 'unroutable');
    await broker.publish({ ...message, headers: { type: EventTypes.ceremonyRequested } });
    assert.is(await countMessages(triggerQueueName(name, 'keys')), 1);
  } finally {
    await broker.close();
    await deleteTopology(amqpUrl, name, triggers);
  }
});

test('consumes again after the connection to RabbitMQ comes back', async () => {
  const proxy = await startAmqpProxy();
  const name = uniqueBrokerName('broker');
  const { logger } = captureLogger();
  const subscriber = await startSubscriber(() => ({ status: 202 }));
  const broker = createBroker({ url: proxy.url, name, triggers, logger, reconnectDelayMs: 20 });
  const subscribers = { keys: subscriber.url };
  const dispatcher = startDispatcher({ broker, triggers, subscribers, logger });
  const app = createIngressApp({ broker, logger });
  try {
    await broker.connect();
    proxy.cut(false);
    await waitFor('the disconnection', () => !broker.connected);
    await waitFor('the reconnection', () => broker.connected);

    assert.is((await postEvent(app)).status, 202);
    const request = await waitFor('the delivery', () => subscriber.requests[0]);
    assert.is(request.headers['ce-id'], 'evt-fault-1');
  } finally {
    await dispatcher.stop(1000);
    await broker.close();
    await proxy.close();
    await subscriber.close();
    await deleteTopology(amqpUrl, name, triggers);
  }
});

// Starts a bridge whose subscriber takes `delayMs` to answer, posts one event, waits until the
// subscriber has it and stops the dispatcher with `graceMs`; answers what is left in the queue.
async function stopDuringDelivery(delayMs: number, graceMs: number) {
  const name = uniqueBrokerName('broker');
  const { logger, lines } = captureLogger();
  const subscriber = await startSubscriber(() => ({ status: 202, delayMs }));
  const broker = createBroker({ url: amqpUrl, name, triggers, logger });
  const subscribers = { keys: subscriber.url };
  const dispatcher = startDispatcher({ broker, triggers, subscribers, logger });
  const app = createIngressApp({ broker, logger });
  try {
    await broker.connect();
    assert.is((await postEvent(app)).status, 202);
    await waitFor('the delivery to start', () => subscriber.requests.length === 1);
    await dispatcher.stop(graceMs);
    await broker.close();
    return { lines, queued: await countMessages(triggerQueueName(name, 'keys')) };
  } finally {
    await broker.close();
    await subscriber.close();
    await deleteTopology(amqpUrl, name, triggers);
  }
}

test('lets a delivery in flight finish when stopped within the grace period', async () => {
  const { lines, queued } = await stopDuringDelivery(150, 2000);

  assert.is(queued, 0);
  const delivered = lines.find((line) => line.message === 'event delivered');
  assert.is(delivered?.eventId, 'evt-fault-1');
});

test('requeues a delivery that outlasts the grace period on stop', async () => {
  const { lines, queued } = await stopDuringDelivery(3000, 100);

  assert.is(queued, 1, 'the event is kept');
  const stopped = lines.find((line) => String(line.message).startsWith('delivery stopped'));
  assert.is(stopped?.eventId, 'evt-fault-1');
  assert.not.ok(lines.some((line) => line.message === 'event delivered'));
});

test('requeues an event whose dead-letter publish fails, and dead-letters it once it can', async () => {
  const name = uniqueBrokerName('broker');
  const { logger, lines } = captureLogger();
  // The delay lets the ingress's confirm arrive before the dead-letter publish closes the channel.
  const subscriber = await startSubscriber(() => ({ status: 400, delayMs: 100 }));
  const broker = createBroker({ url: amqpUrl, name, triggers, logger, reconnectDelayMs: 20 });
  const subscribers = { keys: subscriber.url };
  const dispatcher = startDispatcher({ broker, triggers, subscribers, logger });
  const app = createIngressApp({ broker, logger });
  try {
    await broker.connect();
    const connection = await amqp.connect(amqpUrl);
    await (await connection.createChannel()).deleteExchange(deadLetterExchangeName(name));
    await connection.close();

    assert.is((await postEvent(app)).status, 202);
    const line = await waitFor('the requeue', () =>
      lines.find((entry) => entry.message === 'event not delivered; requeued'),
    );
    assert.is(line.eventId, 'evt-fault-1');
    assert.match(String(line.reason), 'subscriber answered 400; dead-letter publish failed');

    // The failed publish closed the channel; reconnecting declares the exchange again, and
    // RabbitMQ redelivers the event that was never acked.
    const dead = await waitFor('the dead letter', () => {
      const found = lines.filter((entry) => entry.message === 'event dead-lettered');
      return found.length > 0 && found;
    });
    assert.is(dead.length, 1);
    assert.is(dead[0]!.eventId, 'evt-fault-1');
    assert.is(subscriber.requests.length, 2);
    await dispatcher.stop(100);
    assert.is(await countMessages(triggerQueueName(name, 'keys')), 0, 'the original was acked');
    assert.is(await countMessages(deadLetterQueueName(name, 'keys')), 1);
  } finally {
    await dispatcher.stop(100);
    await broker.close();
    await subscriber.close();
    await deleteTopology(amqpUrl, name, triggers);
  }
});

test.run();
