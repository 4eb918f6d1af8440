import { Hono } from 'hono';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { problemHandler, silentLogger, toBinary } from '../../shared/index.ts';
import { createApiTokens, requireAuth, tokenHashes, type AuthOptions } from './auth.ts';
import { rateLimit } from './rate-limit.ts';

const token = 'a-token-long-enough-to-be-a-real-one-0001';
const rotated = 'a-token-long-enough-to-be-a-real-one-0002';
const hashedLine = `sha256:${Buffer.from(
  await crypto.subtle.digest('SHA-256', new TextEncoder().encode(rotated)),
).toString('hex')}`;
const event = toBinary({
  id: 'e',
  type: 'dev.trikey.ceremony.requested',
  source: '/broker',
  data: {},
});

function appWith(
  options: AuthOptions,
  limit?: { perMinute: number; burst: number; now?: () => number },
) {
  const app = new Hono<{ Variables: { client: string } }>();
  app.use(requireAuth(options));
  if (limit) app.use(rateLimit(limit));
  app.post('/', (c) => c.text(c.get('client')));
  app.onError(problemHandler(silentLogger));
  return app;
}

const tokens = createApiTokens(tokenHashes([token, hashedLine]));
const post = (app: Hono<any>, headers: Record<string, string> = {}, body = '{}') =>
  app.request('/', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });

test('refuses a request without a token or with a wrong one, with 401 problem+json', async () => {
  const app = appWith({ tokens, allowedSources: [] });
  const attempts: Record<string, string>[] = [
    {},
    { authorization: 'Bearer wrong' },
    { authorization: `Basic ${token}` },
  ];
  for (const headers of attempts) {
    const response = await post(app, headers);
    assert.is(response.status, 401);
    assert.is(response.headers.get('content-type'), 'application/problem+json');
    assert.is(response.headers.get('www-authenticate'), 'Bearer');
  }
});

test('takes any configured token, raw or stored as its SHA-256 hash', async () => {
  const app = appWith({ tokens, allowedSources: [] });
  const first = await post(app, { authorization: `Bearer ${token}` });
  const second = await post(app, { authorization: `Bearer ${rotated}` });
  assert.is(first.status, 200);
  assert.is(second.status, 200);
  const [firstId, secondId] = [await first.text(), await second.text()];
  assert.match(firstId, /^token:[0-9a-f]{12}$/);
  assert.is.not(firstId, secondId);
});

test('takes a CloudEvent from an allowed source without a token, and no other source', async () => {
  const app = appWith({ tokens, allowedSources: ['/broker'] });
  assert.is((await post(app, event.headers, event.body)).status, 200);
  const other = toBinary({
    id: 'e',
    type: 'dev.trikey.ceremony.requested',
    source: '/elsewhere',
    data: {},
  });
  const refused = await post(app, other.headers, other.body);
  assert.is(refused.status, 401);
  const structured = JSON.stringify({
    specversion: '1.0',
    id: 'e',
    type: 't',
    source: '/broker',
    data: {},
  });
  const accepted = await post(app, { 'content-type': 'application/cloudevents+json' }, structured);
  assert.is(await accepted.text(), 'source:/broker');
});

test('reads a binary source percent-decoded, as the handler reads the event', async () => {
  // A percent sign is valid in a URI reference, and the binding sends it encoded as %25.
  const app = appWith({ tokens, allowedSources: ['/broker%41'] });
  const encoded = toBinary({
    id: 'e',
    type: 'dev.trikey.ceremony.requested',
    source: '/broker%41',
    data: {},
  });
  assert.is(encoded.headers['ce-source'], '/broker%2541');
  const accepted = await post(app, encoded.headers, encoded.body);
  assert.is(await accepted.text(), 'source:/broker%41');
  const decodedTwice = await post(
    app,
    { ...encoded.headers, 'ce-source': '/brokerA' },
    encoded.body,
  );
  assert.is(decodedTwice.status, 401);
});

test('with authentication off, takes requests and still checks sources when a list is set', async () => {
  const open = appWith({ tokens: undefined, allowedSources: undefined });
  assert.is(await (await post(open)).text(), 'anonymous');
  assert.is((await post(open, event.headers, event.body)).status, 200);
  const listed = appWith({ tokens: undefined, allowedSources: ['/other'] });
  assert.is((await post(listed, event.headers, event.body)).status, 401);
});

test('limits each token to its rate and answers 429 with Retry-After', async () => {
  let now = 0;
  const app = appWith({ tokens, allowedSources: [] }, { perMinute: 6, burst: 2, now: () => now });
  const asToken = { authorization: `Bearer ${token}` };
  assert.is((await post(app, asToken)).status, 200);
  assert.is((await post(app, asToken)).status, 200);
  const limited = await post(app, asToken);
  assert.is(limited.status, 429);
  assert.is(limited.headers.get('retry-after'), '10');
  assert.is((await post(app, { authorization: `Bearer ${rotated}` })).status, 200, 'per token');
  now += 10_000;
  assert.is((await post(app, asToken)).status, 200);
});

test('takes the scheme in any case, and the source a structured event really has', async () => {
  const app = appWith({ tokens, allowedSources: ['/broker'] });
  assert.is((await post(app, { authorization: `bearer ${token}` })).status, 200);
  assert.is((await post(app, { authorization: `BEARER ${token}` })).status, 200);
  const disguised = JSON.stringify({
    specversion: '1.0',
    id: 'e',
    type: 't',
    source: '/evil',
    data: {},
  });
  const headers = { 'content-type': 'application/cloudevents+json', 'ce-source': '/broker' };
  assert.is((await post(app, headers, disguised)).status, 401);
});

test('with authentication off, event sources share one rate bucket', async () => {
  const app = appWith({ tokens: undefined, allowedSources: undefined }, { perMinute: 6, burst: 2 });
  const statuses: number[] = [];
  for (let i = 0; i < 4; i++) {
    const event = toBinary({ id: `e${i}`, type: 't', source: `/source-${i}`, data: {} });
    statuses.push((await post(app, event.headers, event.body)).status);
  }
  assert.equal(statuses, [200, 200, 429, 429]);
});

test.run();
