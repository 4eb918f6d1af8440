import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError } from '../shared/config.ts';
import { EventTypes } from '../shared/event-types.ts';
import bundled from './triggers.json' with { type: 'json' };
import {
  backoffMs,
  loadTriggers,
  parseDuration,
  parseTriggers,
  type Delivery,
} from './triggers.ts';

const validTrigger = {
  name: 'dispatch-email',
  filter: { attributes: { type: 'dev.trikey.share.issued' } },
  subscriber: 'dispatch-email',
  delivery: { retry: 5, backoffPolicy: 'exponential', backoffDelay: 'PT0.5S', timeout: 'PT10S' },
  parallelism: 10,
};

function refusal(value: unknown): string {
  try {
    parseTriggers(value, 'fixture');
  } catch (error) {
    assert.instance(error, ConfigError);
    return (error as Error).message;
  }
  throw new Error('the trigger list was accepted');
}

async function rejection(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    assert.instance(error, ConfigError);
    return (error as Error).message;
  }
  throw new Error('the promise was fulfilled');
}

test('reads the ISO 8601 durations triggers use', () => {
  assert.is(parseDuration('PT0.5S'), 500);
  assert.is(parseDuration('PT10S'), 10_000);
  assert.is(parseDuration('PT1M'), 60_000);
  assert.is(parseDuration('PT1H30M'), 5_400_000);
  assert.is(parseDuration('PT0.001S'), 1);
  assert.is(parseDuration('PT0S'), 0);
});

test('refuses durations with days, no figures, lower case or other forms', () => {
  const refused = ['P1D', 'PT', 'PT5', 'pt1s', '10s', '-PT1S', 'PT1,5S', 'PT0.0001S', 'P1DT1S'];
  for (const text of refused) {
    assert.throws(() => parseDuration(text), /is not a duration the broker bridge reads.*PT0\.5S/);
  }
});

test('every filter type in triggers.json is one of the EventTypes', () => {
  const list = parseTriggers(bundled, 'eventing/triggers.json');
  const known: string[] = Object.values(EventTypes);
  assert.ok(list.triggers.length >= 2);
  for (const trigger of list.triggers) {
    assert.ok(trigger.filter.attributes.type, `${trigger.name} filters on type`);
    assert.ok(
      known.includes(trigger.filter.attributes.type!),
      `${trigger.filter.attributes.type} is an EventType`,
    );
  }
});

test('triggers.json routes ceremony requests to generate-keys and issued shares to email', () => {
  const list = parseTriggers(bundled, 'eventing/triggers.json');
  const byType = new Map(
    list.triggers.map((trigger) => [trigger.filter.attributes.type, trigger.subscriber]),
  );
  assert.is(byType.get(EventTypes.ceremonyRequested), 'generate-keys');
  assert.is(byType.get(EventTypes.shareIssued), 'dispatch-email');
});

test('refuses a typo, a bad policy, a zero timeout or a duplicate name, naming the path', () => {
  const typo = refusal({ triggers: [{ ...validTrigger, parallelsm: 2 }] });
  assert.match(typo, /^fixture: triggers\.0\.parallelsm: /);

  const policy = { ...validTrigger.delivery, backoffPolicy: 'random' };
  assert.match(
    refusal({ triggers: [{ ...validTrigger, delivery: policy }] }),
    'triggers.0.delivery.backoffPolicy: must be linear or exponential',
  );

  const days = { ...validTrigger.delivery, timeout: 'P1D' };
  assert.match(refusal({ triggers: [{ ...validTrigger, delivery: days }] }), 'delivery.timeout');

  const zero = { ...validTrigger.delivery, timeout: 'PT0S' };
  assert.match(
    refusal({ triggers: [{ ...validTrigger, delivery: zero }] }),
    'delivery.timeout: must not be zero',
  );

  assert.match(refusal({ triggers: [validTrigger, validTrigger] }), 'trigger names must differ');
  assert.match(
    refusal({ triggers: [{ ...validTrigger, filter: { attributes: { 'x-match': 'any' } } }] }),
    'triggers.0.filter.attributes.x-match',
  );
});

test('loads a trigger file from a path, and names the path when it is wrong', async () => {
  const folder = await mkdtemp(join(tmpdir(), 'trikey-triggers-'));
  try {
    const good = join(folder, 'good.json');
    await writeFile(good, JSON.stringify({ triggers: [{ ...validTrigger, parallelism: 3 }] }));
    const list = await loadTriggers(good);
    assert.is(list.triggers[0]!.parallelism, 3);

    const broken = join(folder, 'broken.json');
    await writeFile(broken, '{ "triggers": [');
    assert.is(await rejection(loadTriggers(broken)), `${broken}: is not valid JSON`);
    const missing = join(folder, 'none.json');
    assert.is(await rejection(loadTriggers(missing)), `${missing}: cannot be read (ENOENT)`);
  } finally {
    await rm(folder, { recursive: true });
  }
});

test('waits linearly or exponentially longer before each retry', () => {
  const linear: Delivery = {
    retry: 3,
    backoffPolicy: 'linear',
    backoffDelay: 'PT0.2S',
    timeout: 'PT1S',
  };
  const exponential: Delivery = { ...linear, backoffPolicy: 'exponential' };
  assert.equal(
    [1, 2, 3].map((attempt) => backoffMs(linear, attempt)),
    [200, 400, 600],
  );
  const waits = [1, 2, 3, 4].map((attempt) => backoffMs(exponential, attempt));
  assert.equal(waits, [200, 400, 800, 1600]);
});

test.run();
