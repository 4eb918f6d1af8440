// The whole path, as `npm start` runs it: bundles as processes, the real RabbitMQ, the SES
// emulator. Every log line, every error body and every RabbitMQ message is kept and searched
// for share tokens and key bytes at the end.
import amqp from 'amqplib';
import { spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { combineShares, EventTypes } from '../shared/index.ts';
import {
  amqpUrl,
  recipient,
  startTestStack,
  storedEmails,
  type StoredEmail,
  type TestStack,
} from './local-services.ts';

const brokerName = `e2e-${process.pid}`;
const transportKeys = `e2e:${Buffer.alloc(32, 42).toString('base64')}`;
const custodians = {
  admin: 'Ana Ruiz <ana@example.com>',
  representantes: ['Luis Gómez <luis@example.com>', 'Marta Díaz <marta@example.com>'],
};

const logLines: string[] = [];
const errorBodies: string[] = [];
const brokerMessages: string[] = [];
const tokensSeen = new Set<string>();
const keysSeen: Buffer[] = [];
let stack: TestStack;
let tap: amqp.ChannelModel | undefined;

const emails = () => storedEmails(stack.urls.ses);

async function waitForEmails(count: number, timeoutMs = 10_000): Promise<StoredEmail[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stored = await emails();
    if (stored.length >= count || Date.now() > deadline) return stored;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function tokenOf(email: StoredEmail): string {
  const match = /trikey1[02-9ac-hj-np-z]+/.exec(email.body.text);
  assert.ok(match, 'the email holds a share token');
  return match![0];
}

async function postCeremony(body: unknown) {
  const response = await fetch(`${stack.urls.generateKeys}/generate-keys`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) errorBodies.push(text);
  return { status: response.status, body: JSON.parse(text) };
}

test.before(async () => {
  stack = await startTestStack({
    brokerName,
    transportKeys,
    onLine: (_service, line) => logLines.push(line),
  });
  // A tap on the broker's exchange: a headers binding with no arguments matches every message.
  tap = await amqp.connect(amqpUrl);
  const channel = await tap.createChannel();
  const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
  await channel.bindQueue(queue, `${brokerName}.broker`, '', {});
  await channel.consume(
    queue,
    (message) => {
      if (!message) return;
      brokerMessages.push(
        message.content.toString('utf8') + JSON.stringify(message.properties.headers),
      );
    },
    { noAck: true },
  );
});

test.after(async () => {
  await stack?.remove();
  await tap?.close();
});

test('a POSTed ceremony of three ends as three emails whose tokens rebuild the key', async () => {
  const started = performance.now();
  const accepted = await postCeremony({ ...custodians, label: 'warehouse-2027' });
  const acceptedMs = performance.now() - started;
  assert.is(accepted.status, 202);
  assert.is(accepted.body.total, 3);
  assert.is(accepted.body.threshold, 3);

  const stored = await waitForEmails(3);
  const deliveredMs = performance.now() - started;
  assert.is(stored.length, 3);
  const recipients = stored.map((email) => recipient(email)).sort();
  assert.equal(recipients, ['ana@example.com', 'luis@example.com', 'marta@example.com']);
  const mailboxes = stored.map((email) => email.destination.to[0]);
  assert.ok(mailboxes.includes('Ana Ruiz <ana@example.com>'));
  assert.ok(mailboxes.includes('=?UTF-8?B?THVpcyBHw7NtZXo=?= <luis@example.com>'), 'RFC 2047');
  for (const email of stored) {
    assert.ok(email.body.text.includes(accepted.body.fingerprint));
    assert.ok(email.body.html.includes(accepted.body.keyId));
  }

  const tokens = stored.map(tokenOf);
  tokens.forEach((token) => tokensSeen.add(token));
  const rebuilt = await combineShares(tokens, accepted.body.fingerprint);
  assert.is(rebuilt.keyId, accepted.body.keyId);
  keysSeen.push(Buffer.from(rebuilt.key));

  const status = spawnSync(
    process.execPath,
    ['dist/trikey.mjs', 'status', '--json', accepted.body.ceremonyId],
    {
      env: { ...process.env, AMQP_URL: amqpUrl, TRIKEY_BROKER_NAME: brokerName },
      encoding: 'utf8',
    },
  );
  assert.is(status.status, 0, status.stderr);
  const report = JSON.parse(status.stdout) as {
    shares: { shareNumber: number; state: string; messageId?: string }[];
  };
  assert.equal(
    report.shares.map((share) => [share.shareNumber, share.state]),
    [
      [1, 'delivered'],
      [2, 'delivered'],
      [3, 'delivered'],
    ],
  );
  const messageIds = stored.map((email) => email.messageId).sort();
  assert.equal(report.shares.map((share) => share.messageId).sort(), messageIds);
  process.stdout.write(
    `\n    202 after ${acceptedMs.toFixed(0)} ms, 3 emails after ${deliveredMs.toFixed(0)} ms\n`,
  );
});

test('with threshold 2 every pair rebuilds the same key and one token alone does not', async () => {
  const before = (await emails()).length;
  const accepted = await postCeremony({ ...custodians, threshold: 2, locale: 'es' });
  assert.is(accepted.status, 202);
  const stored = (await waitForEmails(before + 3)).slice(before);
  assert.is(stored.length, 3);
  assert.match(stored[0]!.subject, /fragmento/);
  const tokens = stored.map(tokenOf);
  tokens.forEach((token) => tokensSeen.add(token));
  for (const [a, b] of [
    [0, 1],
    [0, 2],
    [1, 2],
  ] as const) {
    const rebuilt = await combineShares([tokens[a]!, tokens[b]!]);
    assert.is(rebuilt.fingerprint, accepted.body.fingerprint);
    keysSeen.push(Buffer.from(rebuilt.key));
  }
  for (const token of tokens) {
    try {
      await combineShares([token]);
      assert.unreachable('one token alone must be refused');
    } catch (error) {
      assert.match((error as Error).message, /needs 2 of its 3 shares/);
    }
  }
});

test('a ceremony.requested CloudEvent sent to the broker ends as emails too', async () => {
  const before = (await emails()).length;
  const response = await fetch(`${stack.urls.bridge}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents+json; charset=utf-8' },
    body: JSON.stringify({
      specversion: '1.0',
      id: `request-${process.pid}`,
      type: EventTypes.ceremonyRequested,
      source: '/test/end-to-end',
      datacontenttype: 'application/json',
      data: { admin: 'ops@example.com', representatives: ['dba@example.com'] },
    }),
  });
  assert.is(response.status, 202);
  const stored = (await waitForEmails(before + 2)).slice(before);
  assert.equal(stored.map((email) => recipient(email)).sort(), [
    'dba@example.com',
    'ops@example.com',
  ]);
  const rebuilt = await combineShares(stored.map(tokenOf));
  stored.map(tokenOf).forEach((token) => tokensSeen.add(token));
  keysSeen.push(Buffer.from(rebuilt.key));
});

test('refused requests send nothing and say which field is wrong', async () => {
  const before = (await emails()).length;
  const refused = await postCeremony({ admin: 'Nombre del Admin', representantes: ['Nadie'] });
  assert.is(refused.status, 422);
  assert.equal(
    refused.body.errors.map((error: { pointer: string }) => error.pointer),
    ['/admin', '/representantes/0'],
  );
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.is((await emails()).length, before);
});

test('no log line, error body or RabbitMQ message holds a share token or key bytes', async () => {
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.ok(tokensSeen.size >= 8, 'the searched tokens came from real emails');
  assert.ok(keysSeen.length >= 5, 'the searched keys were rebuilt');
  assert.ok(logLines.length > 10, 'logs were captured');
  assert.ok(brokerMessages.length >= 8, 'RabbitMQ messages were captured');
  const needles: string[] = [...tokensSeen];
  for (const key of keysSeen) {
    needles.push(key.toString('base64'), key.toString('base64url'), key.toString('hex'));
  }
  const haystacks = { logs: logLines, errors: errorBodies, broker: brokerMessages };
  for (const [name, lines] of Object.entries(haystacks)) {
    const text = lines.join('\n');
    for (const needle of needles) {
      assert.not.ok(text.includes(needle), `${name} hold a secret`);
      assert.not.ok(text.includes(needle.slice(7, 40)), `${name} hold part of a secret`);
    }
  }
});

test.run();
