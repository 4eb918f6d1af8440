import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { testDispatchEmail } from './test-app.ts';
import {
  EventSources,
  EventTypes,
  encodeShareToken,
  generateCeremonyKey,
  identifyKey,
  parseTransportKeys,
  readCloudEvent,
  seal,
  splitKey,
  toBinary,
  type SealedShare,
  type ShareIssuedData,
} from '../../shared/index.ts';
import type { SendResult } from './mailer.ts';

const transportKeys = parseTransportKeys('t1:' + Buffer.alloc(32, 9).toString('base64'));
const otherKeys = parseTransportKeys('t1:' + Buffer.alloc(32, 3).toString('base64'));
const ceremonyId = '1b4e28ba-2fa1-41d2-883f-0016d3cca427';
const custodian = { name: 'Luis Gómez', email: 'luis@example.com' };

async function shareEvent(keys = transportKeys, change: Partial<ShareIssuedData> = {}) {
  const key = await generateCeremonyKey();
  const identity = identifyKey(key);
  const [first] = await splitKey(key, 2, 2);
  const facts = {
    ceremonyId,
    ...identity,
    threshold: 2,
    total: 2,
    shareNumber: 1,
    custodian,
    locale: 'en' as const,
  };
  const sealed: SealedShare = {
    ...facts,
    token: encodeShareToken(first!),
    admin: { name: 'Ana', email: 'ana@example.com' },
    custodianNames: ['Luis Gómez', 'Ana'],
    label: 'backup <2027>',
  };
  const binding = {
    id: `${ceremonyId}-1`,
    type: EventTypes.shareIssued,
    source: EventSources.generateKeys,
    subject: ceremonyId,
  };
  const data: ShareIssuedData = { ...facts, seal: seal(sealed, binding, keys), ...change };
  return { event: { ...binding, data }, token: sealed.token };
}

function makeApp(result: SendResult = { ok: true, messageId: 'ses-123' }) {
  return testDispatchEmail(transportKeys, { answer: () => result });
}

test('emails the sealed share from a binary-mode event and replies share.delivered', async () => {
  const { app, sent } = makeApp();
  const { event, token } = await shareEvent();
  const message = toBinary(event);
  const response = await app.request('/', {
    method: 'POST',
    headers: message.headers,
    body: message.body,
  });
  assert.is(response.status, 200);
  assert.is(sent.length, 1);
  assert.is(sent[0]!.to, 'luis@example.com');
  assert.ok(sent[0]!.email.text.includes(token));
  assert.ok(sent[0]!.email.html.includes(token));
  const reply = readCloudEvent(response.headers, await response.text());
  assert.is(reply.type, EventTypes.shareDelivered);
  assert.is(reply.source, EventSources.dispatchEmail);
  assert.equal(reply.data, {
    ceremonyId,
    keyId: event.data.keyId,
    shareNumber: 1,
    messageId: 'ses-123',
  });
});

test('takes the same event in structured mode with a parameterised media type', async () => {
  const { app, sent } = makeApp();
  const { event } = await shareEvent();
  const structured = { specversion: '1.0', datacontenttype: 'application/json', ...event };
  const response = await app.request('/', {
    method: 'POST',
    headers: { 'Content-Type': 'application/cloudevents+json; charset=UTF-8' },
    body: JSON.stringify(structured),
  });
  assert.is(response.status, 200);
  assert.is(sent.length, 1);
});

test('escapes caller text in the HTML and writes the facts in both bodies', async () => {
  const { app, sent } = makeApp();
  const { event } = await shareEvent();
  const message = toBinary(event);
  await app.request('/', { method: 'POST', headers: message.headers, body: message.body });
  const email = sent[0]!.email;
  assert.ok(email.html.includes('backup &lt;2027&gt;'));
  assert.not.ok(email.html.includes('backup <2027>'));
  assert.ok(email.text.includes('backup <2027>'));
  assert.ok(email.text.includes(event.data.fingerprint));
  assert.match(email.text, /Other custodians: *Ana\n/, 'names the others, not the reader');
  assert.ok(email.text.includes('npx trikey combine'));
  assert.is(email.subject, 'Your Trikey key share 1 of 2: backup <2027>');
});

test('refuses without sending a seal made with another transport key', async () => {
  const { app, sent } = makeApp();
  const { event } = await shareEvent(otherKeys);
  const message = toBinary(event);
  const response = await app.request('/', {
    method: 'POST',
    headers: message.headers,
    body: message.body,
  });
  assert.is(response.status, 400);
  assert.match(((await response.json()) as { detail: string }).detail, /does not open/);
  assert.is(sent.length, 0);
});

test('refuses a seal moved to another event id', async () => {
  const { app, sent } = makeApp();
  const { event } = await shareEvent();
  const message = toBinary({ ...event, id: 'replayed' });
  const response = await app.request('/', {
    method: 'POST',
    headers: message.headers,
    body: message.body,
  });
  assert.is(response.status, 400);
  assert.is(sent.length, 0);
});

test('refuses a share redirected to another address in the clear data', async () => {
  const { app, sent } = makeApp();
  const { event } = await shareEvent(transportKeys, {
    custodian: { name: 'Eve', email: 'eve@example.com' },
  });
  const message = toBinary(event);
  const response = await app.request('/', {
    method: 'POST',
    headers: message.headers,
    body: message.body,
  });
  assert.is(response.status, 400);
  assert.match(((await response.json()) as { detail: string }).detail, /disagrees with its seal/);
  assert.is(sent.length, 0);
});

test('answers 503 for a failure worth retrying and share.failed for a permanent one', async () => {
  const { event } = await shareEvent();
  const message = toBinary(event);
  const busy = makeApp({ ok: false, retryable: true, reason: 'TooManyRequestsException' });
  const retry = await busy.app.request('/', {
    method: 'POST',
    headers: message.headers,
    body: message.body,
  });
  assert.is(retry.status, 503);

  const rejected = makeApp({
    ok: false,
    retryable: false,
    reason: 'SES refused the message: MessageRejected',
  });
  const final = await rejected.app.request('/', {
    method: 'POST',
    headers: message.headers,
    body: message.body,
  });
  assert.is(final.status, 200);
  const reply = readCloudEvent(final.headers, await final.text());
  assert.is(reply.type, EventTypes.shareFailed);
  assert.match((reply.data as { reason: string }).reason, /MessageRejected/);
});

test('refuses a request that is not a CloudEvent and events of other types', async () => {
  const { app, sent } = makeApp();
  const plain = await app.request('/', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  assert.is(plain.status, 415);
  const other = toBinary({ id: 'x', type: EventTypes.ceremonyRequested, source: '/t', data: {} });
  assert.is(
    (await app.request('/', { method: 'POST', headers: other.headers, body: other.body })).status,
    400,
  );
  assert.is(sent.length, 0);
});

test('never repeats a token sent as event data in its error body', async () => {
  const { app, sent } = makeApp();
  const { event, token } = await shareEvent();
  const asText = toBinary(event);
  const bodies = [
    { headers: { ...asText.headers, 'content-type': 'text/plain' }, body: token },
    { headers: asText.headers, body: JSON.stringify({ ...event.data, ceremonyId: token }) },
    { headers: asText.headers, body: JSON.stringify({ ...event.data, extra: token }) },
  ];
  for (const { headers, body } of bodies) {
    const response = await app.request('/', { method: 'POST', headers, body });
    assert.is(response.status, 400);
    assert.not.ok((await response.text()).includes(token.slice(7, 30)));
  }
  assert.is(sent.length, 0);
});

test.run();
