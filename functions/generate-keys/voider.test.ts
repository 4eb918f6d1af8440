import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createLogger, type OutgoingEvent, type SinkAnswer } from '../../shared/index.ts';
import { createVoider } from './voider.ts';

const event: OutgoingEvent = {
  id: 'c-voided',
  type: 'dev.trikey.ceremony.voided',
  source: '/trikey/generate-keys',
  subject: 'c',
  data: { ceremonyId: 'c' },
};

function scripted(answers: SinkAnswer[]) {
  const calls: number[] = [];
  const emit = async () => {
    calls.push(Date.now());
    return answers.shift() ?? { ok: true, status: 202 };
  };
  return { calls, emit };
}

test('retries a refused voided event with backoff until the broker takes it', async () => {
  const { calls, emit } = scripted([
    { ok: false, status: 503 },
    { ok: false, status: 0, reason: 'network' },
  ]);
  const lines: string[] = [];
  const logger = createLogger('test', 'info', (line) => lines.push(line));
  const voider = createVoider({
    sink: 'http://sink.test/',
    emit,
    publishTimeoutMs: 100,
    giveUpAfterMs: 5000,
    logger,
    firstDelayMs: 20,
  });
  voider.submit(event);
  assert.is(voider.pending, 1);
  assert.is(await voider.drain(2000), 0);
  assert.is(calls.length, 3);
  assert.ok(calls[2]! - calls[1]! >= calls[1]! - calls[0]!, 'the second wait is not shorter');
  assert.match(lines.at(-1)!, /"ceremony voided".*"attempts":3/);
});

test('gives up after its time and says so in an error line', async () => {
  const refusals = Array.from({ length: 50 }, () => ({ ok: false, status: 503 }));
  const { calls, emit } = scripted(refusals);
  const lines: string[] = [];
  const logger = createLogger('test', 'info', (line) => lines.push(line));
  const voider = createVoider({
    sink: 'http://sink.test/',
    emit,
    publishTimeoutMs: 100,
    giveUpAfterMs: 100,
    logger,
    firstDelayMs: 10,
    maxDelayMs: 20,
  });
  voider.submit(event);
  assert.is(await voider.drain(2000), 0);
  assert.ok(calls.length >= 3 && calls.length < 50, `${calls.length} tries`);
  assert.match(lines.at(-1)!, /"level":"error".*could not be voided/);
});

test.run();
