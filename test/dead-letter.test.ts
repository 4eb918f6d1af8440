// A share that runs out of retries: it is dead-lettered, the dead-letter sink (dispatch-email)
// tells the admin, and the status stream shows it, through the real RabbitMQ and SES emulator.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadTriggers, readCeremonyStatus } from '../eventing/index.ts';
import { startFaultProxy, type FaultProxy } from './ses-fault-proxy.ts';
import {
  amqpUrl,
  recipient,
  stackPorts,
  startTestStack,
  storedEmails,
  type StoredEmail,
  type TestStack,
} from './local-services.ts';

const brokerName = `dead-letter-${process.pid}`;
const transportKeys = `dl:${Buffer.alloc(32, 23).toString('base64')}`;
const folder = mkdtempSync(join(tmpdir(), 'trikey-dead-letter-'));
const triggersFile = join(folder, 'triggers.json');

let stack: TestStack;
let proxy: FaultProxy;

test.before(async () => {
  // The shipped trigger list with a retry budget a test can wait for.
  const list = await loadTriggers();
  for (const trigger of list.triggers) {
    trigger.delivery = { ...trigger.delivery, retry: 2, backoffDelay: 'PT0.1S' };
  }
  writeFileSync(triggersFile, JSON.stringify(list));
  const ports = await stackPorts();
  proxy = await startFaultProxy(`http://127.0.0.1:${ports.ses}`, {
    throttle: ['slow@example.com'],
  });
  stack = await startTestStack({
    ports,
    brokerName,
    transportKeys,
    sesEndpoint: proxy.url,
    triggersFile,
  });
});

test.after(async () => {
  await stack?.remove();
  await proxy?.close();
  rmSync(folder, { recursive: true, force: true });
});

test('a share out of retries is dead-lettered, the admin is told and the status says so', async () => {
  const response = await fetch(`${stack.urls.generateKeys}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      admin: 'Ana Ruiz <ana@example.com>',
      representatives: ['Slow Sam <slow@example.com>', 'fast@example.com'],
      threshold: 2,
    }),
  });
  assert.is(response.status, 202);
  const { ceremonyId } = (await response.json()) as { ceremonyId: string };

  const deadline = Date.now() + 20_000;
  let notice: StoredEmail | undefined;
  let stored: StoredEmail[] = [];
  while (!notice && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    stored = await storedEmails(stack.urls.ses);
    notice = stored.find((email) => /was not delivered$/.test(email.subject));
  }
  assert.ok(notice, 'the admin was told');
  assert.equal([recipient(notice!)], ['ana@example.com']);
  assert.ok(notice!.body.text.includes('Slow Sam <slow@example.com>'));
  assert.ok(notice!.body.text.includes(ceremonyId));
  assert.match(notice!.body.text, /after 3 attempts/);
  assert.not.match(notice!.body.text + notice!.body.html, /trikey1/);
  const shares = stored.filter((email) => /^Your Trikey key share/.test(email.subject));
  assert.equal(shares.map((email) => recipient(email)).sort(), [
    'ana@example.com',
    'fast@example.com',
  ]);

  const status = await readCeremonyStatus({ url: amqpUrl, brokerName, ceremonyId });
  const states = status.shares.map((share) => [share.shareNumber, share.state]);
  assert.equal(states, [
    [1, 'delivered'],
    [2, 'dead-lettered'],
    [3, 'delivered'],
  ]);
  assert.is(status.shares[1]!.attempts, 3);
});

test.run();
