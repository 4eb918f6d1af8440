// Redelivery, voided ceremonies and the admin's notices, through the app with a scripted sender.
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
  type OutgoingEvent,
  type SealedShare,
} from '../../shared/index.ts';
import type { SendResult } from './mailer.ts';

const transportKeys = parseTransportKeys('k1:' + Buffer.alloc(32, 5).toString('base64'));
const strangerKeys = parseTransportKeys('k1:' + Buffer.alloc(32, 6).toString('base64'));
const admin = { name: 'Ana Ruiz', email: 'ana@example.com' };
const luis = { name: 'Luis Gómez', email: 'luis@example.com' };

interface Ceremony {
  ceremonyId: string;
  keyId: string;
  shares: OutgoingEvent[];
  tokens: string[];
}

async function ceremony(): Promise<Ceremony> {
  const ceremonyId = crypto.randomUUID();
  const key = await generateCeremonyKey();
  const identity = identifyKey(key);
  const custodians = [admin, luis];
  const shares = await splitKey(key, 2, 2);
  const tokens = shares.map(encodeShareToken);
  const events = shares.map((share, index) => {
    const facts = {
      ceremonyId,
      ...identity,
      threshold: 2,
      total: 2,
      shareNumber: share.shareNumber,
      custodian: custodians[index]!,
      locale: 'en' as const,
    };
    const sealed: SealedShare = {
      ...facts,
      token: tokens[index]!,
      admin,
      custodianNames: custodians.map((each) => each.name),
      label: 'backups',
    };
    const binding = {
      id: `${ceremonyId}-${share.shareNumber}`,
      type: EventTypes.shareIssued,
      source: EventSources.generateKeys,
      subject: ceremonyId,
    };
    return { ...binding, data: { ...facts, seal: seal(sealed, binding, transportKeys) } };
  });
  return { ceremonyId, keyId: identity.keyId, shares: events, tokens };
}

function voidedEvent(c: Ceremony, keys = transportKeys): OutgoingEvent {
  const binding = {
    id: `${c.ceremonyId}-voided`,
    type: EventTypes.ceremonyVoided,
    source: EventSources.generateKeys,
    subject: c.ceremonyId,
  };
  const content = { ceremonyId: c.ceremonyId, keyId: c.keyId, reason: 'the broker refused 1 of 2' };
  return { ...binding, data: { ...content, seal: seal(content, binding, keys) } };
}

// A sender whose answers are scripted by address; every call is kept.
function makeApp(script: Record<string, SendResult[]> = {}, ledgerNow?: () => number) {
  const { app, sent } = testDispatchEmail(transportKeys, {
    answer: (to) => script[to.email]?.shift(),
    now: ledgerNow,
    sendDelayMs: 5,
  });
  const post = async (event: OutgoingEvent, path = '/', extra: Record<string, string> = {}) => {
    const message = toBinary(event);
    const headers = { ...message.headers, ...extra };
    return app.request(path, { method: 'POST', headers, body: message.body });
  };
  return { sent, post };
}

test('sends one email when the same share event is delivered twice', async () => {
  const c = await ceremony();
  const { sent, post } = makeApp();
  const first = await post(c.shares[1]!);
  const second = await post(c.shares[1]!);
  assert.is(sent.length, 1);
  const replies = [first, second].map(async (r) => readCloudEvent(r.headers, await r.text()));
  const [a, b] = await Promise.all(replies);
  assert.is(a!.type, EventTypes.shareDelivered);
  assert.is(b!.type, EventTypes.shareDelivered);
  assert.equal(a!.data, b!.data, 'the second reply names the first email');
});

test('sends one email when the same share event arrives twice at once', async () => {
  const c = await ceremony();
  const { sent, post } = makeApp();
  const answers = await Promise.all([post(c.shares[0]!), post(c.shares[0]!), post(c.shares[0]!)]);
  assert.equal(
    answers.map((answer) => answer.status),
    [200, 200, 200],
  );
  assert.is(sent.length, 1);
});

test('sends again once the dedupe window has passed', async () => {
  const c = await ceremony();
  let now = 1_000_000;
  const { sent, post } = makeApp({}, () => now);
  await post(c.shares[0]!);
  now += 59_000;
  await post(c.shares[0]!);
  assert.is(sent.length, 1);
  now += 2_000;
  await post(c.shares[0]!);
  assert.is(sent.length, 2);
});

test('a permanent refusal replies share.failed and tells the admin, without the share', async () => {
  const c = await ceremony();
  const refusal = {
    ok: false as const,
    retryable: false,
    reason: 'SES refused the message: MessageRejected',
  };
  const { sent, post } = makeApp({ [luis.email]: [refusal] });
  const response = await post(c.shares[1]!);
  assert.is(response.status, 200);
  const reply = readCloudEvent(response.headers, await response.text());
  assert.is(reply.type, EventTypes.shareFailed);
  assert.match((reply.data as { reason: string }).reason, /MessageRejected/);

  assert.equal(
    sent.map((each) => each.to),
    [luis.email, admin.email],
  );
  const notice = sent[1]!.email;
  assert.match(notice.subject, /share 2 of 2 of backups was not delivered/);
  assert.ok(notice.text.includes('Luis Gómez <luis@example.com>'));
  assert.ok(notice.text.includes(c.ceremonyId));
  assert.ok(notice.text.includes('MessageRejected'));
  assert.ok(notice.html.includes('Luis Gómez &lt;luis@example.com&gt;'));
  for (const token of c.tokens) {
    assert.not.ok(notice.text.includes(token) || notice.html.includes(token), 'no share');
  }
  assert.not.match(notice.text + notice.html, /trikey1/);
});

test('a notice to the admin that fails for now is retried by the broker, and sent once', async () => {
  const c = await ceremony();
  const refusal = { ok: false as const, retryable: false, reason: 'MessageRejected' };
  const busy = { ok: false as const, retryable: true, reason: 'TooManyRequestsException' };
  const { sent, post } = makeApp({ [luis.email]: [refusal, refusal], [admin.email]: [busy] });
  assert.is((await post(c.shares[1]!)).status, 503);
  assert.is((await post(c.shares[1]!)).status, 200);
  assert.equal(
    sent.map((each) => each.to),
    [luis.email, admin.email, luis.email, admin.email],
  );
  assert.is((await post(c.shares[1]!)).status, 200);
  assert.is(sent.filter((each) => each.to === admin.email).length, 2, 'no third notice');
});

test('a share of a voided ceremony is not emailed', async () => {
  const c = await ceremony();
  const { sent, post } = makeApp();
  assert.is((await post(voidedEvent(c))).status, 204);
  const response = await post(c.shares[0]!);
  const reply = readCloudEvent(response.headers, await response.text());
  assert.is(reply.type, EventTypes.shareFailed);
  assert.match((reply.data as { reason: string }).reason, /voided/);
  assert.is(sent.length, 0);
});

test('custodians already emailed are told once that their share is void', async () => {
  const c = await ceremony();
  const { sent, post } = makeApp();
  await post(c.shares[0]!);
  await post(c.shares[1]!);
  assert.is((await post(voidedEvent(c))).status, 204);
  assert.is((await post(voidedEvent(c))).status, 204);
  const notices = sent.slice(2);
  assert.equal(notices.map((each) => each.to).sort(), [admin.email, luis.email]);
  assert.match(notices[0]!.email.subject, /is void/);
  assert.ok(notices[0]!.email.text.includes(c.ceremonyId));
  assert.not.match(notices[0]!.email.text, /trikey1/);
});

test('refuses a void sealed with another key and keeps emailing the ceremony', async () => {
  const c = await ceremony();
  const { sent, post } = makeApp();
  const response = await post(voidedEvent(c, strangerKeys));
  assert.is(response.status, 400);
  assert.is((await post(c.shares[0]!)).status, 200);
  assert.is(sent.length, 1);
});

test('a dead-lettered share makes one notice to the admin with the reason and attempts', async () => {
  const c = await ceremony();
  const { sent, post } = makeApp();
  const deadLetter = { 'ce-trikeyattempts': '9', 'ce-trikeydeadletterreason': 'HTTP 503' };
  assert.is((await post(c.shares[1]!, '/dead-letter', deadLetter)).status, 204);
  assert.is((await post(c.shares[1]!, '/dead-letter', deadLetter)).status, 204);
  assert.is(sent.length, 1);
  assert.is(sent[0]!.to, admin.email);
  assert.ok(sent[0]!.email.text.includes('HTTP 503 (after 9 attempts)'));
  assert.ok(sent[0]!.email.text.includes('Luis Gómez'));
  assert.not.match(sent[0]!.email.text + sent[0]!.email.html, /trikey1/);
});

test('a dead letter of a share that was in fact emailed tells nobody', async () => {
  const c = await ceremony();
  const { sent, post } = makeApp();
  await post(c.shares[0]!);
  assert.is((await post(c.shares[0]!, '/dead-letter')).status, 204);
  assert.is(sent.length, 1);
});

test('refuses a forged dead letter', async () => {
  const c = await ceremony();
  const { sent, post } = makeApp();
  const forged = { ...c.shares[0]!, id: 'forged' };
  assert.is((await post(forged, '/dead-letter')).status, 400);
  assert.is(sent.length, 0);
});

test.run();
