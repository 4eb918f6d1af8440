// Dead letters: one publish to the dead-letter exchange reaches the trigger's dead-letter queue
// and the status stream; the trigger's dead-letter sink is then offered it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EventTypes } from '../shared/event-types.ts';
import {
  createBroker,
  deadLetterExchangeName,
  deadLetterQueueName,
  deleteTopology,
  statusStreamName,
  triggerQueueName,
  type Broker,
} from './broker.ts';
import { startDispatcher } from './dispatcher.ts';
import { createIngressApp } from './ingress.ts';
import {
  amqpUrl,
  captureLogger,
  countMessages,
  drainQueue,
  readStream,
  startSubscriber,
  uniqueBrokerName,
  waitFor,
  type Answer,
  type ReceivedRequest,
} from './test-support.ts';
import type { Destination, StatusRecord, Trigger } from './triggers.ts';

const quickDelivery = {
  retry: 2,
  backoffPolicy: 'linear',
  backoffDelay: 'PT0.02S',
  timeout: 'PT0.5S',
} as const;
const record: StatusRecord = { types: [EventTypes.shareIssued], maxAge: '1h' };
const shareJson = JSON.stringify({ ceremonyId: 'c-7', shareNumber: 2, seal: 'v1.k.iv.sealed' });
const eventHeaders = {
  'ce-specversion': '1.0',
  'ce-id': 'evt-share-2',
  'ce-source': '/trikey/generate-keys',
  'ce-type': EventTypes.shareIssued,
  'ce-subject': 'c-7',
  'content-type': 'application/json',
};

function emailTrigger(deadLetterSink?: Destination): Trigger {
  const delivery = deadLetterSink ? { ...quickDelivery, deadLetterSink } : quickDelivery;
  return {
    name: 'email',
    filter: { attributes: { type: EventTypes.shareIssued } },
    subscriber: 'email',
    delivery,
    parallelism: 1,
  };
}

interface Run {
  name: string;
  lines: Array<Record<string, unknown>>;
  deadLetterPublishes: () => number;
  stop: () => Promise<void>;
}

// Posts one share event to a bridge whose only trigger is `trigger`, runs the test, and removes
// the bridge's exchanges, queues and stream afterwards.
async function withEmailBridge(
  trigger: Trigger,
  subscriberUrl: string,
  run: (bridge: Run) => Promise<void>,
): Promise<void> {
  const name = uniqueBrokerName('dead-letter');
  const { logger, lines } = captureLogger();
  const triggers = [trigger];
  const broker = createBroker({ url: amqpUrl, name, triggers, record, logger });
  let publishes = 0;
  const counted: Parameters<typeof startDispatcher>[0]['broker'] = {
    name,
    onConnect: broker.onConnect,
    reconnect: broker.reconnect,
    publish: broker.publish,
    accepts: broker.accepts,
    publishDeadLetter: (target, message) => {
      publishes += 1;
      return broker.publishDeadLetter(target, message);
    },
  };
  const subscribers = { email: subscriberUrl };
  const dispatcher = startDispatcher({ broker: counted, triggers, subscribers, logger });
  const app = createIngressApp({ broker, logger });
  try {
    await broker.connect();
    const request = { method: 'POST', headers: eventHeaders, body: shareJson };
    assert.is((await app.request('/', request)).status, 202);
    const stop = () => dispatcher.stop(1000);
    await run({ name, lines, deadLetterPublishes: () => publishes, stop });
  } finally {
    await dispatcher.stop(1000);
    await broker.close();
    await deleteTopology(amqpUrl, name, triggers);
  }
}

function logLine(lines: Array<Record<string, unknown>>, message: string) {
  return () => lines.find((line) => line.message === message);
}

// After the dispatcher stops, an event it had not acked is back in its queue.
async function assertAcked(bridge: Run): Promise<void> {
  await bridge.stop();
  const queued = await countMessages(triggerQueueName(bridge.name, 'email'));
  assert.is(queued, 0, 'the original was acked');
}

test('one dead-letter publish reaches the dead-letter queue and the status stream', async () => {
  const subscriber = await startSubscriber(() => ({ status: 400 }));

  try {
    await withEmailBridge(emailTrigger(), subscriber.url, async (bridge) => {
      await waitFor('the dead letter', logLine(bridge.lines, 'event dead-lettered'));
      assert.is(bridge.deadLetterPublishes(), 1);

      const [queued, ...more] = await drainQueue(deadLetterQueueName(bridge.name, 'email'));
      assert.is(more.length, 0);
      const recorded = await readStream(statusStreamName(bridge.name));
      const exchange = deadLetterExchangeName(bridge.name);
      const dead = recorded.filter((message) => message.fields.exchange === exchange);
      assert.is(dead.length, 1);
      assert.is(recorded.length, 2, 'the stream also holds the original share.issued');

      const { 'x-stream-offset': _offset, ...streamHeaders } = dead[0]!.properties.headers!;
      assert.equal(streamHeaders, queued!.properties.headers);
      assert.is(streamHeaders.knativeerrorcode, '400');
      assert.is(streamHeaders.trikeyattempts, '1');
      assert.is(streamHeaders.subject, 'c-7');
      assert.is(dead[0]!.fields.routingKey, 'email');
      assert.is(dead[0]!.properties.messageId, 'evt-share-2');
      assert.is(dead[0]!.content.toString('utf8'), shareJson);
      assert.is(queued!.content.toString('utf8'), shareJson);
      await assertAcked(bridge);
    });
  } finally {
    await subscriber.close();
  }
});

test('offers the dead letter to the sink in binary mode with the error attributes', async () => {
  let sinkCalls = 0;
  const answer = (request: ReceivedRequest): Answer => {
    if (request.url !== '/dead-letter') return { status: 400 };
    sinkCalls += 1;
    return { status: sinkCalls === 1 ? 503 : 202 };
  };
  const subscriber = await startSubscriber(answer);
  const trigger = emailTrigger({ ref: 'email', uri: '/dead-letter' });

  try {
    await withEmailBridge(trigger, subscriber.url, async (bridge) => {
      const sent = await waitFor('the sink', logLine(bridge.lines, 'dead letter sent to the sink'));
      assert.is(sent.eventId, 'evt-share-2');
      assert.is(sent.attempts, 2, 'a 503 of the sink is retried');
      assert.is(sent.status, 202);

      const posts = subscriber.requests.filter((request) => request.url === '/dead-letter');
      assert.is(posts.length, 2);
      const { headers, body, method } = posts[1]!;
      assert.is(method, 'POST');
      assert.is(body.toString('utf8'), shareJson);
      assert.is(headers['content-type'], 'application/json');
      assert.is(headers['ce-specversion'], '1.0');
      assert.is(headers['ce-id'], 'evt-share-2');
      assert.is(headers['ce-type'], EventTypes.shareIssued);
      assert.is(headers['ce-source'], '/trikey/generate-keys');
      assert.is(headers['ce-subject'], 'c-7');
      assert.is(headers['ce-knativeerrordest'], subscriber.url);
      assert.is(headers['ce-knativeerrorcode'], '400');
      assert.is(headers['ce-trikeyattempts'], '1');
      const reason = decodeURIComponent(String(headers['ce-trikeydeadletterreason']));
      assert.is(reason, 'subscriber answered 400');

      assert.is(await countMessages(deadLetterQueueName(bridge.name, 'email')), 1);
      await assertAcked(bridge);
    });
  } finally {
    await subscriber.close();
  }
});

test('keeps the dead letter queued, acks the original and warns when the sink is down', async () => {
  const subscriber = await startSubscriber(() => ({ status: 500 }));
  const gone = await startSubscriber(() => ({ status: 202 }));
  await gone.close();
  const trigger = emailTrigger({ uri: `${gone.url}dead-letter` });

  try {
    await withEmailBridge(trigger, subscriber.url, async (bridge) => {
      const warning = await waitFor(
        'the warning',
        logLine(
          bridge.lines,
          'dead-letter sink did not take the event; it stays in the dead-letter queue',
        ),
      );
      assert.is(warning.level, 'warn');
      assert.is(warning.eventId, 'evt-share-2');
      assert.is(warning.reason, 'network error: ECONNREFUSED');
      assert.is(warning.attempts, quickDelivery.retry + 1);
      assert.is(subscriber.requests.length, quickDelivery.retry + 1);

      const dead = await waitFor('the ack', logLine(bridge.lines, 'event dead-lettered'));
      assert.is(dead.reason, 'subscriber answered 500');
      const [queued, ...more] = await drainQueue(deadLetterQueueName(bridge.name, 'email'));
      assert.is(more.length, 0);
      assert.is(queued!.properties.messageId, 'evt-share-2');
      await assertAcked(bridge);
    });
  } finally {
    await subscriber.close();
  }
});

test('refuses to start when a sink refers to a subscriber without URL', () => {
  const trigger = emailTrigger({ ref: 'admin-desk', uri: '/dead' });
  const broker = { name: 'unused' } as Broker;
  const { logger } = captureLogger();
  assert.throws(
    () =>
      startDispatcher({
        broker,
        triggers: [trigger],
        subscribers: { email: 'http://127.0.0.1:9/' },
        logger,
      }),
    /trigger email: dead-letter sink admin-desk has no URL/,
  );
});

test.run();
