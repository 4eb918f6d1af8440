// The largest ceremony generate-keys accepts must produce share events dispatch-email takes:
// a 202 must never stand for shares too large to mail.
import { testGenerateKeys } from '../functions/generate-keys/test-app.ts';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { testDispatchEmail } from '../functions/dispatch-email/test-app.ts';
import { parseTransportKeys, toBinary } from '../shared/index.ts';

const transportKeys = parseTransportKeys('big:' + Buffer.alloc(32, 1).toString('base64'));
const largestBody = 131_072;
// 100 UTF-16 units, as many as a name may have, of 3 bytes each in UTF-8: the most bytes a name
// can take, in the request and in every seal that lists it.
const longName = (n: number) => `${'€'.repeat(96)}${String(n).padStart(4, '0')}`;

test('the largest accepted ceremony is mailed, share by share', async () => {
  const custodians = Array.from({ length: 255 }, (_, n) => ({
    name: longName(n),
    email: `custodian-${n}@${'d'.repeat(60)}.${'e'.repeat(60)}.${'f'.repeat(38)}.example.com`,
  }));
  const body = JSON.stringify({ admin: custodians[0], representatives: custodians.slice(1) });
  assert.ok(Buffer.byteLength(body) <= largestBody, `${Buffer.byteLength(body)} bytes`);
  assert.ok(Buffer.byteLength(body) > largestBody * 0.95, `${Buffer.byteLength(body)} bytes`);

  const { app: generate, emitted } = testGenerateKeys({
    transportKeys,
    maxCustodians: 255,
    maxBodyBytes: largestBody,
  });
  const accepted = await generate.request('/', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  assert.is(accepted.status, 202);
  assert.is(emitted.length, 255);

  const { app: dispatch, sent } = testDispatchEmail(transportKeys);
  for (const event of [emitted[0]!, emitted[254]!]) {
    const message = toBinary(event);
    const response = await dispatch.request('/', { method: 'POST', ...message });
    assert.is(response.status, 200);
  }
  assert.equal(
    sent.map((each) => each.to),
    [custodians[0]!.email, custodians[254]!.email],
  );
});

test.run();
