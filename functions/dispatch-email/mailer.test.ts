import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startFaultProxy, type FaultProxy } from '../../test/ses-fault-proxy.ts';
import { startSesEmulator, type SesEmulator } from '../../test/local-services.ts';
import { createServer } from 'node:http';
import type { SealedShare } from '../../shared/index.ts';
import { renderShareEmail } from './email.ts';
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
    from: { name: 'Trikey', email: 'keys@example.com' },
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
  const result = await send({ name: 'Custodian', email: 'luis@example.com' }, email);
  assert.ok(result.ok);
  const stored = (await emulator.emails()).find(
    (each) => result.ok && each.messageId === result.messageId,
  );
  assert.ok(stored, 'the emulator holds the email');
  assert.equal(stored!.destination.to, ['Custodian <luis@example.com>']);
  assert.is(stored!.subject, 'Añadido: <prueba>');
  assert.is(stored!.body.text, 'plain body');
  assert.is(stored!.body.html, '<p>html body</p>');
});

test('a rejected address is a permanent failure that names the SES error', async () => {
  const { send, proxy } = await senderThrough({ reject: ['bounce@example.com'] });
  const result = await send({ name: 'Custodian', email: 'bounce@example.com' }, email);
  assert.equal(result, {
    ok: false,
    retryable: false,
    reason: 'SES refused the message: MessageRejected',
  });
  assert.is(proxy.counts.rejected, 1);
});

test('throttling and server errors are failures worth retrying', async () => {
  const { send, proxy } = await senderThrough({ failureRate: 1, seed: 7 });
  const results = await Promise.all(
    Array.from({ length: 8 }, () => send({ name: 'Custodian', email: 'a@example.com' }, email)),
  );
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
  const result = await send({ name: 'Custodian', email: 'a@example.com' }, email);
  const elapsed = performance.now() - started;
  assert.is(result.ok, false);
  assert.is(!result.ok && result.retryable, true);
  assert.ok(elapsed >= 290 && elapsed < 2000, `ended after ${elapsed.toFixed(0)} ms`);
});

test('the exact SES request: encoded names, ASCII domain, UTF-8 parts, escaped HTML', async () => {
  const requests: { path: string; body: any }[] = [];
  const fakeSes = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    requests.push({ path: request.url!, body: JSON.parse(Buffer.concat(chunks).toString()) });
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ MessageId: 'fake-1' }));
  });
  await new Promise<void>((resolve) => fakeSes.listen(0, '127.0.0.1', resolve));
  const { port } = fakeSes.address() as { port: number };
  const send = createSesSender({
    region: 'eu-west-1',
    endpoint: `http://127.0.0.1:${port}`,
    from: { name: 'Trikey Señal', email: 'keys@example.com' },
    timeoutMs: 5000,
  });
  const share: SealedShare = {
    ceremonyId: '1b4e28ba-2fa1-41d2-883f-0016d3cca427',
    keyId: '0123456789abcdef',
    fingerprint: 'ab'.repeat(32),
    threshold: 2,
    total: 2,
    shareNumber: 2,
    custodian: { name: 'Luis Gómez', email: 'luis@münchen.de' },
    locale: 'es',
    token: 'trikey1qqqq',
    admin: { name: 'Ana', email: 'ana@example.com' },
    custodianNames: ['Ana <b>', 'Luis Gómez'],
    label: '<script>alert(1)</script>',
  };
  try {
    const result = await send(share.custodian, renderShareEmail(share));
    assert.equal(result, { ok: true, messageId: 'fake-1' });
  } finally {
    fakeSes.close();
  }

  assert.is(requests.length, 1);
  const { path, body } = requests[0]!;
  assert.is(path, '/v2/email/outbound-emails');
  assert.is(body.FromEmailAddress, '=?UTF-8?B?VHJpa2V5IFNlw7FhbA==?= <keys@example.com>');
  assert.equal(body.Destination.ToAddresses, [
    '=?UTF-8?B?THVpcyBHw7NtZXo=?= <luis@xn--mnchen-3ya.de>',
  ]);
  const content = body.Content.Simple;
  assert.is(content.Subject.Charset, 'UTF-8');
  assert.is(content.Subject.Data, 'Tu fragmento de clave Trikey 2 de 2: <script>alert(1)</script>');
  assert.is(content.Body.Text.Charset, 'UTF-8');
  assert.is(content.Body.Html.Charset, 'UTF-8');
  assert.ok(content.Body.Html.Data.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
  assert.ok(content.Body.Html.Data.includes('Ana &lt;b&gt;'));
  assert.not.ok(content.Body.Html.Data.includes('<script>'));
  assert.ok(content.Body.Html.Data.includes('Luis Gómez'));
});

test.run();
