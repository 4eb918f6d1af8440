import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError } from '../shared/config.ts';
import { EventTypes } from '../shared/event-types.ts';
import bundled from '../chart/files/triggers.json' with { type: 'json' };
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
  const list = parseTriggers(bundled, 'chart/files/triggers.json');
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

test('triggers.json routes ceremony requests to generate-keys, shares and voids to email', () => {
  const list = parseTriggers(bundled, 'chart/files/triggers.json');
  const byType = new Map(
    list.triggers.map((trigger) => [trigger.filter.attributes.type, trigger.subscriber]),
  );
  assert.is(byType.get(EventTypes.ceremonyRequested), 'generate-keys');
  assert.is(byType.get(EventTypes.shareIssued), 'dispatch-email');
  assert.is(byType.get(EventTypes.ceremonyVoided), 'dispatch-email');
  assert.is(byType.size, 3);
});

test('every record type in triggers.json is one of the EventTypes, and outcomes are recorded', () => {
  const { record } = parseTriggers(bundled, 'chart/files/triggers.json');
  const known: string[] = Object.values(EventTypes);
  for (const type of record.types) assert.ok(known.includes(type), `${type} is an EventType`);
  assert.equal(record.types, [
    EventTypes.shareIssued,
    EventTypes.shareDelivered,
    EventTypes.shareFailed,
    EventTypes.ceremonyVoided,
  ]);
  assert.is(record.maxAge, '7D');
});

test('dispatch-email retries long enough to outlast a mailer down for 30 s', () => {
  const { triggers } = parseTriggers(bundled, 'chart/files/triggers.json');
  const email = triggers.find((trigger) => trigger.name === 'dispatch-email')!;
  const waits = Array.from({ length: email.delivery.retry }, (_, index) =>
    backoffMs(email.delivery, index + 1),
  );
  const waitedMs = waits.reduce((sum, wait) => sum + wait, 0);
  assert.is(waitedMs, 127_500);
  assert.ok(waitedMs > 30_000);
  assert.equal(email.delivery.deadLetterSink, { ref: 'dispatch-email', uri: '/dead-letter' });

  const voided = triggers.find((trigger) => trigger.name === 'dispatch-email-voided')!;
  assert.is(voided.subscriber, 'dispatch-email');
  assert.is(voided.parallelism, 1);
  const { deadLetterSink: _sink, ...emailRetries } = email.delivery;
  assert.equal(voided.delivery, emailRetries);

  const keys = triggers.find((trigger) => trigger.name === 'generate-keys')!;
  assert.equal(keys.delivery, {
    retry: 3,
    backoffPolicy: 'exponential',
    backoffDelay: 'PT1S',
    timeout: 'PT30S',
  });
});

test('reads a dead-letter sink as a ref with a path or as an absolute uri', () => {
  const withSink = (deadLetterSink: unknown) => ({
    triggers: [{ ...validTrigger, delivery: { ...validTrigger.delivery, deadLetterSink } }],
  });
  const byRef = parseTriggers(withSink({ ref: 'dispatch-email', uri: '/dead-letter' }), 'f');
  assert.equal(byRef.triggers[0]!.delivery.deadLetterSink, {
    ref: 'dispatch-email',
    uri: '/dead-letter',
  });
  const byUri = parseTriggers(withSink({ uri: 'http://127.0.0.1:9/dead' }), 'f');
  assert.equal(byUri.triggers[0]!.delivery.deadLetterSink, { uri: 'http://127.0.0.1:9/dead' });

  const sink = 'triggers.0.delivery.deadLetterSink';
  assert.match(refusal(withSink({})), `${sink}: must have a ref, a uri or both`);
  assert.match(
    refusal(withSink({ ref: 'dispatch-email', uri: 'http://127.0.0.1:9/x' })),
    `${sink}.uri: must be a path such as /dead-letter when ref is set`,
  );
  assert.match(
    refusal(withSink({ ref: 'dispatch-email', uri: '//elsewhere/x' })),
    `${sink}.uri: must be a path`,
  );
  assert.match(
    refusal(withSink({ uri: '/dead-letter' })),
    `${sink}.uri: must be an absolute http or https URL when there is no ref`,
  );
  assert.match(refusal(withSink({ ref: 'Dispatch' })), `${sink}.ref: `);
});

test('records nothing by default and refuses a bad max age or a repeated type', () => {
  const list = parseTriggers({ triggers: [validTrigger] }, 'fixture');
  assert.equal(list.record, { types: [], maxAge: '7D' });

  const aged = parseTriggers({ triggers: [validTrigger], record: { types: ['a'] } }, 'fixture');
  assert.equal(aged.record, { types: ['a'], maxAge: '7D' });

  for (const maxAge of ['7', '7d', 'P7D', '0D', '7 D']) {
    const value = { triggers: [validTrigger], record: { types: [], maxAge } };
    assert.match(refusal(value), 'record.maxAge: must be a whole number and a unit');
  }
  const twice = { triggers: [validTrigger], record: { types: ['a', 'a'] } };
  assert.match(refusal(twice), 'record.types: types must differ');
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
