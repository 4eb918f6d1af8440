import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PublishError, type PublishFailure } from './broker.ts';
import { createIngressApp } from './ingress.ts';
import type { BrokerMessage } from './message.ts';
import { captureLogger, readProblem } from './test-support.ts';

const binaryEvent = {
  headers: {
    'ce-specversion': '1.0',
    'ce-id': 'evt-ingress-1',
    'ce-source': '/trikey/tests',
    'ce-type': 'dev.trikey.ceremony.requested',
    'content-type': 'application/json',
  },
  body: '{"ceremonyId":"c-1"}',
};

// A broker that records what it is given, or fails the way a test tells it to. It accepts the
// types in `accepted`.
function fakeBroker(failure?: PublishFailure, accepted = [binaryEvent.headers['ce-type']]) {
  const published: BrokerMessage[] = [];
  return {
    published,
    connected: failure !== 'disconnected',
    accepts: (attributes: Readonly<Record<string, string>>) =>
      accepted.includes(attributes.type ?? ''),
    async publish(message: BrokerMessage) {
      if (failure) throw new PublishError(failure, `event ${message.messageId}: ${failure}`);
      published.push(message);
    },
  };
}

type App = ReturnType<typeof createIngressApp>;

function post(app: App, headers: Record<string, string>, body: string) {
  return Promise.resolve(app.request('/', { method: 'POST', headers, body }));
}

function postEvent(app: App) {
  return post(app, binaryEvent.headers, binaryEvent.body);
}

function appWith(broker: ReturnType<typeof fakeBroker>, maxBodyBytes?: number): App {
  return createIngressApp({ broker, logger: captureLogger().logger, maxBodyBytes });
}

test('stores a valid event and answers 202 with no body', async () => {
  const broker = fakeBroker();
  const { logger, lines } = captureLogger();
  const response = await postEvent(createIngressApp({ broker, logger }));

  assert.is(response.status, 202);
  assert.is(await response.text(), '');
  assert.is(broker.published.length, 1);
  assert.is(broker.published[0]!.body.toString(), binaryEvent.body);
  assert.is(lines[0]!.message, 'event stored');
  assert.is(lines[0]!.eventId, 'evt-ingress-1');
  assert.not.ok(JSON.stringify(lines).includes('c-1'), 'the log holds no event data');
});

test('answers 400 problem+json for an event without source and publishes nothing', async () => {
  const broker = fakeBroker();
  const { 'ce-source': _source, ...headers } = binaryEvent.headers;
  const response = await post(appWith(broker), headers, '{}');

  assert.is(response.status, 400);
  assert.is(response.headers.get('content-type'), 'application/problem+json');
  const problem = await readProblem(response);
  assert.is(problem.detail, 'The CloudEvent is invalid.');
  assert.is(broker.published.length, 0);
});

test('answers 500 naming the type when RabbitMQ returns the event as unroutable', async () => {
  const response = await postEvent(appWith(fakeBroker('unroutable')));

  assert.is(response.status, 500);
  const problem = await readProblem(response);
  assert.is(
    problem.detail,
    'RabbitMQ has no queue bound for events of type dev.trikey.ceremony.requested; ' +
      'the event was not stored',
  );
});

test('answers 400 without publishing when the broker does not accept the type', async () => {
  const broker = fakeBroker(undefined, ['dev.trikey.share.delivered']);
  const { logger, lines } = captureLogger();
  const response = await postEvent(createIngressApp({ broker, logger }));

  assert.is(response.status, 400);
  const problem = await readProblem(response);
  assert.is(
    problem.detail,
    'No trigger accepts events of type dev.trikey.ceremony.requested; the event was not stored.',
  );
  assert.is(broker.published.length, 0);
  assert.is(lines[0]!.message, 'event not stored');
  assert.is(lines[0]!.reason, 'no trigger accepts its type');
  assert.is(lines[0]!.eventId, 'evt-ingress-1');
});

test('answers 503 when RabbitMQ is away, nacks or does not confirm in time', async () => {
  for (const failure of ['disconnected', 'nacked', 'timeout'] as const) {
    const response = await postEvent(appWith(fakeBroker(failure)));
    assert.is(response.status, 503, failure);
    assert.is(response.headers.get('content-type'), 'application/problem+json');
  }
});

test('refuses other methods with 405, other paths with 404 and big bodies with 413', async () => {
  const app = appWith(fakeBroker(), 64);

  const get = await app.request('/');
  assert.is(get.status, 405);
  assert.is(get.headers.get('allow'), 'POST');
  assert.is((await readProblem(get)).status, 405);

  const elsewhere = await app.request('/events', { method: 'POST' });
  assert.is(elsewhere.status, 404);
  assert.is(elsewhere.headers.get('content-type'), 'application/problem+json');

  const big = await post(app, binaryEvent.headers, JSON.stringify({ padding: 'x'.repeat(100) }));
  assert.is(big.status, 413);
  assert.is((await readProblem(big)).detail, 'The body is larger than 64 bytes.');
});

test('is live always and ready only while connected to RabbitMQ', async () => {
  const up = appWith(fakeBroker());
  const down = appWith(fakeBroker('disconnected'));

  assert.is((await up.request('/health/readiness')).status, 200);
  assert.is((await down.request('/health/readiness')).status, 503);
  assert.is((await down.request('/health/liveness')).status, 200);
  assert.is((await up.request('/health/liveness', { method: 'POST' })).status, 405);
});

test.run();
