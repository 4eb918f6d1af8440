import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfig } from './config.ts';

const base = {
  K_SINK: 'http://127.0.0.1:8082/',
  TRIKEY_TRANSPORT_KEYS: 'k:' + Buffer.alloc(32, 1).toString('base64'),
};
const token = 'x'.repeat(40);
const folder = mkdtempSync(join(tmpdir(), 'trikey-config-'));

const refusal = (env: Record<string, string>) => {
  try {
    loadConfig({ ...base, ...env });
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('the configuration was accepted');
};

test.after(() => rmSync(folder, { recursive: true, force: true }));

test('refuses to start without tokens unless authentication is switched off', () => {
  assert.match(refusal({}), /TRIKEY_API_TOKENS: must be set .* unless TRIKEY_AUTH=off/);
  const off = loadConfig({ ...base, TRIKEY_AUTH: 'off' });
  assert.is(off.auth.tokens, undefined);
  assert.is(off.auth.allowedSources, undefined);
  assert.match(refusal({ TRIKEY_AUTH: 'maybe' }), /TRIKEY_AUTH: must be required or off/);
});

test('reads several tokens for rotation and refuses short ones without repeating them', () => {
  const config = loadConfig({ ...base, TRIKEY_API_TOKENS: `${token}, ${'y'.repeat(40)}` });
  assert.ok(config.auth.tokens!.verify(token));
  assert.ok(config.auth.tokens!.verify('y'.repeat(40)));
  assert.is(config.auth.tokens!.verify('z'.repeat(40)), undefined);
  assert.equal(config.auth.allowedSources, [], 'with tokens, no source is trusted by default');
  const message = refusal({ TRIKEY_API_TOKENS: 'short-secret' });
  assert.match(message, /TRIKEY_API_TOKENS: each token must be 32/);
  assert.not.match(message, /short-secret/);
});

test('reads hashed tokens from a file and refuses a file with a raw token', async () => {
  const hash = Buffer.from(
    await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token)),
  ).toString('hex');
  const good = join(folder, 'tokens');
  writeFileSync(good, `# ops team\nsha256:${hash}\n`);
  const config = loadConfig({ ...base, TRIKEY_API_TOKENS_FILE: good });
  assert.ok(config.auth.tokens!.verify(token));
  const raw = join(folder, 'raw');
  writeFileSync(raw, `${token}\n`);
  const message = refusal({ TRIKEY_API_TOKENS_FILE: raw });
  assert.match(message, /TRIKEY_API_TOKENS_FILE: line 1 of the file is not sha256:HEX/);
  assert.not.match(message, new RegExp(token));
  assert.match(
    refusal({ TRIKEY_API_TOKENS_FILE: join(folder, 'missing') }),
    /TRIKEY_API_TOKENS_FILE/,
  );
});

test('reads allowed sources, rate limits and the request timeout', () => {
  const config = loadConfig({
    ...base,
    TRIKEY_API_TOKENS: token,
    TRIKEY_ALLOWED_SOURCES: '/apis/v1/namespaces/ops/brokers/default, /ops/scheduler',
    TRIKEY_RATE_LIMIT_PER_MINUTE: '120',
    TRIKEY_RATE_LIMIT_BURST: '5',
    TRIKEY_REQUEST_TIMEOUT_MS: '3000',
  });
  assert.equal(config.auth.allowedSources, [
    '/apis/v1/namespaces/ops/brokers/default',
    '/ops/scheduler',
  ]);
  assert.equal(config.rateLimit, { perMinute: 120, burst: 5 });
  assert.is(config.requestTimeoutMs, 3000);
  assert.match(
    refusal({ TRIKEY_API_TOKENS: token, TRIKEY_RATE_LIMIT_BURST: '0' }),
    /TRIKEY_RATE_LIMIT_BURST/,
  );
});

test.run();
