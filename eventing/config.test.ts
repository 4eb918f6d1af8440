import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError } from '../shared/config.ts';
import { readBridgeConfig } from './config.ts';

const subscribers =
  'generate-keys=http://127.0.0.1:8080, dispatch-email=http://127.0.0.1:8081/events';

async function refusal(env: Record<string, string>): Promise<string> {
  try {
    await readBridgeConfig(env);
  } catch (error) {
    assert.instance(error, ConfigError);
    return (error as Error).message;
  }
  throw new Error('the configuration was accepted');
}

test('reads defaults, the subscribers and the bundled triggers', async () => {
  const config = await readBridgeConfig({ TRIKEY_SUBSCRIBERS: subscribers });

  assert.is(config.amqpUrl, 'amqp://guest:guest@127.0.0.1:5672');
  assert.is(config.host, '127.0.0.1');
  assert.is(config.port, 8082);
  assert.is(config.brokerName, 'trikey');
  assert.is(config.publishTimeoutMs, 5000);
  assert.is(config.logLevel, 'info');
  assert.equal(config.subscribers, {
    'generate-keys': 'http://127.0.0.1:8080',
    'dispatch-email': 'http://127.0.0.1:8081/events',
  });
  assert.equal(
    config.triggers.triggers.map((trigger) => trigger.name),
    ['generate-keys', 'dispatch-email', 'dispatch-email-voided'],
  );
  assert.equal(config.triggers.record.types.length, 4);
  assert.ok(Object.isFrozen(config));
});

test('names TRIKEY_SUBSCRIBERS and the subscriber that has no URL', async () => {
  const message = await refusal({ TRIKEY_SUBSCRIBERS: 'generate-keys=http://127.0.0.1:8080' });
  assert.match(message, 'TRIKEY_SUBSCRIBERS: no URL for subscriber dispatch-email');
});

test('names TRIKEY_SUBSCRIBERS when a dead-letter sink refers to a subscriber without URL', async () => {
  const folder = await mkdtemp(join(tmpdir(), 'trikey-config-'));
  try {
    const file = join(folder, 'triggers.json');
    const delivery = { retry: 1, backoffPolicy: 'linear', backoffDelay: 'PT1S', timeout: 'PT1S' };
    const trigger = {
      name: 'keys',
      filter: { attributes: { type: 'dev.trikey.ceremony.requested' } },
      subscriber: 'generate-keys',
      delivery: { ...delivery, deadLetterSink: { ref: 'admin-desk', uri: '/dead' } },
      parallelism: 1,
    };
    await writeFile(file, JSON.stringify({ triggers: [trigger] }));

    const message = await refusal({ TRIKEY_SUBSCRIBERS: subscribers, TRIKEY_TRIGGERS_FILE: file });
    assert.match(
      message,
      'TRIKEY_SUBSCRIBERS: no URL for dead-letter sink admin-desk of trigger keys',
    );
    const withDesk = `${subscribers},admin-desk=http://127.0.0.1:8090`;
    const config = await readBridgeConfig({
      TRIKEY_SUBSCRIBERS: withDesk,
      TRIKEY_TRIGGERS_FILE: file,
    });
    assert.is(config.triggers.triggers[0]!.delivery.deadLetterSink?.ref, 'admin-desk');
  } finally {
    await rm(folder, { recursive: true });
  }
});

test('names the variable of each bad value without repeating a secret', async () => {
  const badUrl = await refusal({
    TRIKEY_SUBSCRIBERS: subscribers,
    AMQP_URL: 'http://guest:hunter2@127.0.0.1',
  });
  assert.match(badUrl, 'AMQP_URL: must be an amqp:// or amqps:// URL');
  assert.not.match(badUrl, 'hunter2');

  const badName = await refusal({
    TRIKEY_SUBSCRIBERS: subscribers,
    TRIKEY_BROKER_NAME: 'Trikey_1',
  });
  assert.match(badName, 'TRIKEY_BROKER_NAME: must be lowercase letters, digits and hyphens');

  const badPair = await refusal({ TRIKEY_SUBSCRIBERS: 'generate-keys' });
  assert.match(badPair, 'TRIKEY_SUBSCRIBERS: "generate-keys" is not a name=url pair');

  const badFile = await refusal({
    TRIKEY_SUBSCRIBERS: subscribers,
    TRIKEY_TRIGGERS_FILE: '/nonexistent/triggers.json',
  });
  const fileLine = 'TRIKEY_TRIGGERS_FILE: /nonexistent/triggers.json: cannot be read (ENOENT)';
  assert.is(badFile, `invalid configuration: ${fileLine}`);
});

test.run();
