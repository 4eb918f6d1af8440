import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startFaultProxy, type FaultProxy } from '../../test/ses-fault-proxy.ts';
import { startSesEmulator, type SesEmulator } from '../../test/local-services.ts';
import { createSesSender, type SesSettings } from './mailer.ts';

process.env.AWS_ACCESS_KEY_ID = 'local';
process.env.AWS_SECRET_ACCESS_KEY = 'local';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const email = { subject: 'Añadido: <prueba>', text: 'plain body', html: '<p>html body</p>' };
let emulator: SesEmulator;
const proxies: FaultProxy[] = [];

async function senderThrough(plan: Parameters<typeof startFaultProxy>[1], timeoutMs = 5000) {
  const proxy = await startFaultProxy(emulator.url, plan);
  proxies.push(proxy);
  const settings: SesSettings = {
    region: 'eu-west-1',
    endpoint: proxy.url,
    from: 'Trikey <keys@example.com>',
    timeoutMs,
  };
  return { send: createSesSender(settings), proxy };
}

test.before(async () => {
  emulator = await startSesEmulator();
});

test.after(async () => {
  await Promise.all(proxies.map((proxy) => proxy.close()));
  await emulator.stop();
});

test('sends through SESv2 SendEmail and returns the message id', async () => {
  const { send } = await senderThrough({});
  const result = await send('luis@example.com', email);
  assert.ok(result.ok);
  const stored = (await emulator.emails()).find(
    (each) => result.ok && each.messageId === result.messageId,
  );
  assert.ok(stored, 'the emulator holds the email');
  assert.equal(stored!.destination.to, ['luis@example.com']);
  assert.is(stored!.subject, 'Añadido: <prueba>');
  assert.is(stored!.body.text, 'plain body');
  assert.is(stored!.body.html, '<p>html body</p>');
});

test('a rejected address is a permanent failure that names the SES error', async () => {
  const { send, proxy } = await senderThrough({ reject: ['bounce@example.com'] });
  const result = await send('bounce@example.com', email);
  assert.equal(result, {
    ok: false,
    retryable: false,
    reason: 'SES refused the message: MessageRejected',
  });
  assert.is(proxy.counts.rejected, 1);
});

test('throttling and server errors are failures worth retrying', async () => {
  const { send, proxy } = await senderThrough({ failureRate: 1, seed: 7 });
  const results = await Promise.all(Array.from({ length: 8 }, () => send('a@example.com', email)));
  for (const result of results) {
    assert.is(result.ok, false);
    assert.is(!result.ok && result.retryable, true);
  }
  const reasons = results.map((result) => (!result.ok ? result.reason : '')).join(' ');
  assert.ok(proxy.counts.throttled > 0 && proxy.counts.failed > 0, 'both kinds were tried');
  assert.match(reasons, /TooManyRequestsException \(HTTP 429\)/);
  assert.match(reasons, /HTTP 500/);
});

test('a send that gets no answer ends at the timeout as a failure worth retrying', async () => {
  const { send } = await senderThrough({ hang: true }, 300);
  const started = performance.now();
  const result = await send('a@example.com', email);
  const elapsed = performance.now() - started;
  assert.is(result.ok, false);
  assert.is(!result.ok && result.retryable, true);
  assert.ok(elapsed >= 290 && elapsed < 2000, `ended after ${elapsed.toFixed(0)} ms`);
});

test.run();
