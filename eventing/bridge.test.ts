// The ingress, RabbitMQ and the dispatcher together, with real subscribers on local ports.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EventTypes } from '../shared/event-types.ts';
import {
  createBroker,
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
  readProblem,
  readStream,
  startSubscriber,
  uniqueBrokerName,
  waitFor,
  type Answer,
} from './test-support.ts';
import type { StatusRecord, Trigger } from './triggers.ts';

const quickDelivery = {
  retry: 2,
  backoffPolicy: 'exponential',
  backoffDelay: 'PT0.02S',
  timeout: 'PT0.5S',
} as const;
const keysTrigger: Trigger = {
  name: 'keys',
  filter: { attributes: { type: EventTypes.ceremonyRequested } },
  subscriber: 'keys',
  delivery: quickDelivery,
  parallelism: 1,
};
const emailTrigger: Trigger = {
  name: 'email',
  filter: { attributes: { type: EventTypes.shareIssued } },
  subscriber: 'email',
  delivery: { ...quickDelivery, retry: 3, backoffPolicy: 'linear' },
  parallelism: 4,
};
const triggers = [keysTrigger, emailTrigger];
const record: StatusRecord = {
  types: [EventTypes.shareIssued, EventTypes.shareDelivered, EventTypes.shareFailed],
  maxAge: '1h',
};
// A type that neither a trigger nor the status stream takes.
const unknownType = 'dev.trikey.test.unknown';

const ceremonyJson = '{ "ceremonyId": "c-42",\n  "threshold": 2, "custodians": 3 }';
const requestHeaders = {
  'CE-SpecVersion': '1.0',
  'Ce-Id': 'evt-binary-1',
  'ce-SOURCE': '/trikey/cli',
  'Ce-Type': EventTypes.ceremonyRequested,
  'ce-subject': 'c-42',
  'ce-time': '2030-01-02T03:04:05.000Z',
  'ce-traceparent': '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  'Content-Type': 'application/json; charset=utf-8',
};
const accepted: Answer = { status: 202 };

// The request's headers with some replaced, whatever the case of their names.
function eventHeaders(overrides: Record<string, string>): Record<string, string> {
  const headers = new Headers(requestHeaders);
  for (const [name, value] of Object.entries(overrides)) headers.set(name, value);
  return Object.fromEntries(headers);
}

type Subscriber = Awaited<ReturnType<typeof startSubscriber>>;

interface Bridge {
  name: string;
  broker: Broker;
  lines: Array<Record<string, unknown>>;
  post(headers: Record<string, string>, body: string): Promise<Response>;
}

// Runs a test against a bridge with its own exchange and queues, and removes them afterwards.
async function withBridge(
  subscribers: { keys: Subscriber; email: Subscriber },
  run: (bridge: Bridge) => Promise<void>,
  { dispatch = true } = {},
): Promise<void> {
  const name = uniqueBrokerName('bridge');
  const { logger, lines } = captureLogger();
  const broker = createBroker({
    url: amqpUrl,
    name,
    triggers,
    record,
    logger,
    publishTimeoutMs: 2000,
  });
  const urls = { keys: subscribers.keys.url, email: subscribers.email.url };
  const dispatcher = dispatch
    ? startDispatcher({ broker, triggers, subscribers: urls, logger })
    : undefined;
  const app = createIngressApp({ broker, logger });
  try {
    await broker.connect();
    const post = (headers: Record<string, string>, body: string) =>
      Promise.resolve(app.request('/', { method: 'POST', headers, body }));
    await run({ name, broker, lines, post });
  } finally {
    await dispatcher?.stop(1000);
    await broker.close();
    await deleteTopology(amqpUrl, name, triggers);
    await subscribers.keys.close();
    await subscribers.email.close();
  }
}

function outcome(lines: Array<Record<string, unknown>>, message: string, eventId: string) {
  return lines.find((line) => line.message === message && line.eventId === eventId);
}

test('delivers a binary event in binary mode with its attributes and exact body', async () => {
  const keys = await startSubscriber(() => accepted);
  const email = await startSubscriber(() => accepted);

  await withBridge({ keys, email }, async ({ post, lines }) => {
    const response = await post(requestHeaders, ceremonyJson);
    assert.is(response.status, 202);
    assert.is(await response.text(), '');

    const request = await waitFor('the delivery', () => keys.requests[0]);
    assert.is(request.method, 'POST');
    assert.is(request.body.toString('utf8'), ceremonyJson);
    assert.is(request.headers['content-type'], 'application/json; charset=utf-8');
    assert.is(request.headers['ce-specversion'], '1.0');
    assert.is(request.headers['ce-id'], 'evt-binary-1');
    assert.is(request.headers['ce-source'], '/trikey/cli');
    assert.is(request.headers['ce-type'], EventTypes.ceremonyRequested);
    assert.is(request.headers['ce-subject'], 'c-42');
    assert.is(request.headers['ce-time'], '2030-01-02T03:04:05.000Z');
    assert.is(request.headers['ce-traceparent'], requestHeaders['ce-traceparent']);
    assert.is(request.headers['ce-datacontenttype'], undefined);
    assert.is(email.requests.length, 0);

    const line = await waitFor('the log', () => outcome(lines, 'event delivered', 'evt-binary-1'));
    assert.is(line.trigger, 'keys');
    assert.is(line.status, 202);
    assert.is(line.attempts, 1);
    assert.type(line.durationMs, 'number');
  });
});

test('delivers a structured event in binary mode with its data as JSON text', async () => {
  const keys = await startSubscriber(() => accepted);
  const email = await startSubscriber(() => ({ status: 204 }));
  const envelope = {
    specversion: '1.0',
    id: 'evt-structured-1',
    source: '/trikey/generate-keys',
    type: EventTypes.shareIssued,
    datacontenttype: 'application/json',
    shareindex: 2,
    data: { ceremonyId: 'c-42', custodian: 'ada@example.org' },
  };

  await withBridge({ keys, email }, async ({ post }) => {
    const headers = { 'content-type': 'application/cloudevents+json; charset=UTF-8' };
    const response = await post(headers, JSON.stringify(envelope));
    assert.is(response.status, 202);

    const request = await waitFor('the delivery', () => email.requests[0]);
    assert.is(request.body.toString('utf8'), JSON.stringify(envelope.data));
    assert.is(request.headers['content-type'], 'application/json');
    assert.is(request.headers['ce-id'], 'evt-structured-1');
    assert.is(request.headers['ce-source'], '/trikey/generate-keys');
    assert.is(request.headers['ce-type'], EventTypes.shareIssued);
    assert.is(request.headers['ce-shareindex'], '2');
    assert.is(keys.requests.length, 0);
  });
});

test('answers 400 for an event without source and stores nothing', async () => {
  const keys = await startSubscriber(() => accepted);
  const email = await startSubscriber(() => accepted);

  await withBridge(
    { keys, email },
    async ({ name, post }) => {
      const withoutSource = eventHeaders({});
      delete withoutSource['ce-source'];
      const refused = await post(withoutSource, ceremonyJson);
      assert.is(refused.status, 400);
      assert.is(refused.headers.get('content-type'), 'application/problem+json');
      assert.is(await countMessages(triggerQueueName(name, 'keys')), 0);

      // The same event with its source is stored, so the count above could have been 1.
      assert.is((await post(requestHeaders, ceremonyJson)).status, 202);
      assert.is(await countMessages(triggerQueueName(name, 'keys')), 1);
    },
    { dispatch: false },
  );
});

test('answers 400 and stores nothing when no trigger accepts the type and none records it', async () => {
  const keys = await startSubscriber(() => accepted);
  const email = await startSubscriber(() => accepted);

  await withBridge({ keys, email }, async ({ name, post }) => {
    const response = await post(eventHeaders({ 'ce-type': unknownType }), ceremonyJson);
    assert.is(response.status, 400);
    const problem = await readProblem(response);
    assert.is(
      problem.detail,
      `No trigger accepts events of type ${unknownType}; the event was not stored.`,
    );
    assert.is((await readStream(statusStreamName(name))).length, 0);
    assert.is(await countMessages(triggerQueueName(name, 'keys')), 0);
  });
});

test('answers 400 for a recorded share.issued when no trigger takes it, and records nothing', async () => {
  const name = uniqueBrokerName('bridge');
  const { logger } = captureLogger();
  const onlyKeys = [keysTrigger];
  const broker = createBroker({ url: amqpUrl, name, triggers: onlyKeys, record, logger });
  const app = createIngressApp({ broker, logger });
  try {
    await broker.connect();
    const headers = eventHeaders({ 'ce-type': EventTypes.shareIssued });
    const response = await app.request('/', { method: 'POST', headers, body: ceremonyJson });

    assert.is(response.status, 400);
    const problem = await readProblem(response);
    assert.match(problem.detail, `No trigger accepts events of type ${EventTypes.shareIssued}`);
    assert.is((await readStream(statusStreamName(name))).length, 0);
  } finally {
    await broker.close();
    await deleteTopology(amqpUrl, name, onlyKeys);
  }
});

test('answers 202 for a type only the status stream records, and records it', async () => {
  const keys = await startSubscriber(() => accepted);
  const email = await startSubscriber(() => accepted);
  const delivered = { 'ce-id': 'evt-delivered-1', 'ce-type': EventTypes.shareDelivered };

  await withBridge({ keys, email }, async ({ name, post }) => {
    const response = await post(eventHeaders(delivered), ceremonyJson);
    assert.is(response.status, 202);

    const [stored, ...others] = await readStream(statusStreamName(name));
    assert.is(others.length, 0);
    assert.is(stored!.properties.messageId, 'evt-delivered-1');
    assert.is(stored!.properties.headers!.type, EventTypes.shareDelivered);
    assert.is(stored!.content.toString('utf8'), ceremonyJson);
    assert.is(keys.requests.length + email.requests.length, 0);
  });
});

test('retries after 503 answers and a timeout until the subscriber accepts', async () => {
  const keys = await startSubscriber((_, index) =>
    index === 0 ? { status: 503 } : index === 1 ? { status: 202, delayMs: 800 } : accepted,
  );
  const email = await startSubscriber(() => accepted);

  await withBridge({ keys, email }, async ({ name, post, lines }) => {
    assert.is((await post(requestHeaders, ceremonyJson)).status, 202);

    const line = await waitFor('delivery', () => outcome(lines, 'event delivered', 'evt-binary-1'));
    assert.is(line.attempts, 3);
    assert.is(line.status, 202);
    assert.is(keys.requests.length, 3);
    assert.ok(keys.requests.every((request) => request.body.toString() === ceremonyJson));
    assert.is(await countMessages(deadLetterQueueName(name, 'keys')), 0);
  });
});

test('dead-letters at once after a 400, keeping the attributes, with one attempt', async () => {
  const keys = await startSubscriber(() => ({ status: 400, body: 'secret detail of the body' }));
  const email = await startSubscriber(() => accepted);

  await withBridge({ keys, email }, async ({ name, post, lines }) => {
    assert.is((await post(requestHeaders, ceremonyJson)).status, 202);

    const queue = deadLetterQueueName(name, 'keys');
    await waitFor('dead letter', () => outcome(lines, 'event dead-lettered', 'evt-binary-1'));
    const [dead, ...others] = await drainQueue(queue);
    assert.is(others.length, 0);
    assert.is(keys.requests.length, 1);
    assert.is(dead!.content.toString('utf8'), ceremonyJson);
    assert.is(dead!.properties.messageId, 'evt-binary-1');
    assert.is(dead!.properties.contentType, 'application/json; charset=utf-8');
    assert.is(dead!.properties.deliveryMode, 2);
    const headers = dead!.properties.headers!;
    assert.is(headers.id, 'evt-binary-1');
    assert.is(headers.type, EventTypes.ceremonyRequested);
    assert.is(headers.source, '/trikey/cli');
    assert.is(headers.subject, 'c-42');
    assert.is(headers.traceparent, requestHeaders['ce-traceparent']);
    assert.is(headers.knativeerrordest, keys.url);
    assert.is(headers.knativeerrorcode, '400');
    assert.is(headers.trikeyattempts, '1');
    assert.is(headers.trikeydeadletterreason, 'subscriber answered 400');
    assert.not.ok(JSON.stringify(headers).includes('secret'), 'no response body is kept');
    assert.is(await countMessages(triggerQueueName(name, 'keys')), 0);
  });
});

test('dead-letters after retry + 1 attempts when the subscriber keeps failing', async () => {
  const keys = await startSubscriber(() => accepted);
  const email = await startSubscriber(() => ({ status: 500 }));
  const headers = eventHeaders({ 'ce-id': 'evt-failing', 'ce-type': EventTypes.shareIssued });

  await withBridge({ keys, email }, async ({ name, post, lines }) => {
    assert.is((await post(headers, ceremonyJson)).status, 202);

    const line = await waitFor('dead letter', () =>
      outcome(lines, 'event dead-lettered', 'evt-failing'),
    );
    assert.is(line.attempts, emailTrigger.delivery.retry + 1);
    assert.is(email.requests.length, 4);
    const [dead] = await drainQueue(deadLetterQueueName(name, 'email'));
    assert.is(dead!.properties.headers!.trikeyattempts, '4');
    assert.is(dead!.properties.headers!.knativeerrorcode, '500');
  });
});

test('dead-letters with code 0 when the subscriber cannot be reached', async () => {
  const gone = await startSubscriber(() => accepted);
  await gone.close();
  const keys = { ...gone, close: async () => {} };
  const email = await startSubscriber(() => accepted);

  await withBridge({ keys, email }, async ({ name, post, lines }) => {
    assert.is((await post(requestHeaders, ceremonyJson)).status, 202);

    const line = await waitFor('dead letter', () =>
      outcome(lines, 'event dead-lettered', 'evt-binary-1'),
    );
    assert.is(line.attempts, 3);
    const [dead] = await drainQueue(deadLetterQueueName(name, 'keys'));
    assert.is(dead!.properties.headers!.knativeerrorcode, '0');
    assert.is(dead!.properties.headers!.trikeydeadletterreason, 'network error: ECONNREFUSED');
  });
});

test('publishes a reply event back so the trigger of its type receives it', async () => {
  const replyData = '{"ceremonyId":"c-42","shareIndex":1}';
  const keys = await startSubscriber(() => ({
    status: 200,
    headers: {
      'ce-specversion': '1.0',
      'ce-id': 'evt-reply-1',
      'ce-source': '/trikey/generate-keys',
      'ce-type': EventTypes.shareIssued,
      'content-type': 'application/json',
    },
    body: replyData,
  }));
  const email = await startSubscriber(() => accepted);

  await withBridge({ keys, email }, async ({ lines, post }) => {
    assert.is((await post(requestHeaders, ceremonyJson)).status, 202);

    const request = await waitFor('the reply', () => email.requests[0]);
    assert.is(request.headers['ce-id'], 'evt-reply-1');
    assert.is(request.headers['ce-type'], EventTypes.shareIssued);
    assert.is(request.headers['ce-source'], '/trikey/generate-keys');
    assert.is(request.body.toString('utf8'), replyData);
    assert.ok(outcome(lines, 'event delivered', 'evt-binary-1'));
  });
});

// A subscriber that answers every event with a structured reply of `type`.
function replyingSubscriber(type: string, id: string) {
  return startSubscriber(() => ({
    status: 200,
    headers: { 'content-type': 'application/cloudevents+json' },
    body: JSON.stringify({
      specversion: '1.0',
      id,
      source: '/trikey/generate-keys',
      type,
      subject: 'c-42',
      data: { ceremonyId: 'c-42', shareNumber: 1, messageId: 'ses-1' },
    }),
  }));
}

test('records a share.delivered reply in the status stream', async () => {
  const keys = await replyingSubscriber(EventTypes.shareDelivered, 'evt-reply-3');
  const email = await startSubscriber(() => accepted);

  await withBridge({ keys, email }, async ({ name, lines, post }) => {
    assert.is((await post(requestHeaders, ceremonyJson)).status, 202);

    await waitFor('delivery', () => outcome(lines, 'event delivered', 'evt-binary-1'));
    const [reply, ...others] = await readStream(statusStreamName(name));
    assert.is(others.length, 0);
    assert.is(reply!.properties.messageId, 'evt-reply-3');
    assert.is(reply!.properties.headers!.type, EventTypes.shareDelivered);
    assert.is(reply!.properties.headers!.subject, 'c-42');
    assert.equal(JSON.parse(reply!.content.toString('utf8')), {
      ceremonyId: 'c-42',
      shareNumber: 1,
      messageId: 'ses-1',
    });
    assert.not.ok(outcome(lines, 'reply dropped: no trigger accepts its type', 'evt-reply-3'));
  });
});

test('drops a reply that no trigger accepts and none records, and still acks the original', async () => {
  const keys = await replyingSubscriber(unknownType, 'evt-reply-2');
  const email = await startSubscriber(() => accepted);

  await withBridge({ keys, email }, async ({ name, lines, post }) => {
    assert.is((await post(requestHeaders, ceremonyJson)).status, 202);

    await waitFor('delivery', () => outcome(lines, 'event delivered', 'evt-binary-1'));
    const dropped = outcome(lines, 'reply dropped: no trigger accepts its type', 'evt-reply-2');
    assert.is(dropped?.level, 'info');
    assert.is(keys.requests.length, 1);
    assert.is(await countMessages(deadLetterQueueName(name, 'keys')), 0);
    assert.is((await readStream(statusStreamName(name))).length, 0);
  });
});

test('takes a 2xx with a large body that is no event as delivered, and dead-letters a reply over 1 MiB', async () => {
  const large = 'x'.repeat(2 * 1024 * 1024);
  const keys = await startSubscriber(() => ({ status: 200, body: large }));
  const email = await startSubscriber(() => ({
    status: 200,
    headers: {
      'ce-specversion': '1.0',
      'ce-id': 'evt-huge-reply',
      'ce-source': '/trikey/dispatch-email',
      'ce-type': EventTypes.shareDelivered,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ padding: large }),
  }));

  await withBridge({ keys, email }, async ({ name, lines, post }) => {
    assert.is((await post(requestHeaders, ceremonyJson)).status, 202);
    await waitFor('delivery', () => outcome(lines, 'event delivered', 'evt-binary-1'));

    const share = { ...requestHeaders, 'Ce-Id': 'evt-share-1', 'Ce-Type': EventTypes.shareIssued };
    assert.is((await post(share, '{"shareNumber":1}')).status, 202);
    const dead = await waitFor('the dead letter', () =>
      outcome(lines, 'event dead-lettered', 'evt-share-1'),
    );
    assert.match(String(dead.reason), /reply is larger than 1048576 bytes/);
    assert.is(dead.attempts, 1);
    assert.is(await countMessages(deadLetterQueueName(name, 'email')), 1);
  });
});

test('refuses a structured event whose attributes would not fit in binary-mode headers', async () => {
  const keys = await startSubscriber(() => accepted);
  const email = await startSubscriber(() => accepted);

  await withBridge({ keys, email }, async ({ name, post }) => {
    const base = {
      specversion: '1.0',
      id: 'evt-wide',
      source: '/trikey/cli',
      type: EventTypes.ceremonyRequested,
      data: {},
    };
    const structured = { 'content-type': 'application/cloudevents+json' };
    const wide = { ...base, note: 'é'.repeat(3000) };
    const tooWide = await post(structured, JSON.stringify(wide));
    assert.is(tooWide.status, 400);
    assert.match((await readProblem(tooWide)).detail, /do not fit in HTTP headers/);
    const many = Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`x${i}`, 'v']));
    assert.is((await post(structured, JSON.stringify({ ...base, ...many }))).status, 400);
    assert.is(await countMessages(triggerQueueName(name, 'keys')), 0);
  });
});

test('sends a trigger no more events at once than its parallelism', async () => {
  const keys = await startSubscriber(() => ({ status: 202, delayMs: 60 }));
  const email = await startSubscriber(() => ({ status: 202, delayMs: 60 }));

  await withBridge({ keys, email }, async ({ post }) => {
    for (let index = 0; index < 6; index += 1) {
      const id = `evt-many-${index}`;
      assert.is((await post(eventHeaders({ 'ce-id': id }), ceremonyJson)).status, 202);
      const issued = eventHeaders({ 'ce-id': id, 'ce-type': EventTypes.shareIssued });
      assert.is((await post(issued, ceremonyJson)).status, 202);
    }

    await waitFor('all deliveries', () => keys.requests.length + email.requests.length === 12);
    assert.is(keys.mostAtOnce, 1);
    assert.ok(email.mostAtOnce > 1 && email.mostAtOnce <= 4, `email had ${email.mostAtOnce}`);
  });
});

test.run();
