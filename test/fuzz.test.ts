// Property-based: thousands of malformed requests and CloudEvents thrown at both functions.
// Whatever arrives, the answer is a 4xx problem, nothing crashes, no share event is published
// and no email is sent.
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { testDispatchEmail } from '../functions/dispatch-email/test-app.ts';
import { testGenerateKeys } from '../functions/generate-keys/test-app.ts';
import { EventTypes, parseTransportKeys } from '../shared/index.ts';

const runs = 600;
const transportKeys = parseTransportKeys('fz:' + Buffer.alloc(32, 8).toString('base64'));
const { app: generateKeys, emitted: published } = testGenerateKeys({ transportKeys });
const { app: dispatchEmail, sent } = testDispatchEmail(transportKeys);

const valid = { admin: 'Ana <ana@example.com>', representatives: ['luis@example.com'] };
// Replacements that can never make a field valid.
const notAThreshold = fc.oneof(
  fc.integer({ max: 1 }),
  fc.integer({ min: 3 }),
  fc.double().filter((x) => !Number.isInteger(x)),
  fc.string(),
  fc.constant(null),
  fc.array(fc.integer()),
);
const notACustodian = fc.oneof(
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.string().filter((text) => !text.includes('@')),
  fc.array(fc.string()),
  fc.record({ name: fc.string() }),
  fc.string().map((text) => `Eve${text}\r\nBcc: x@example.test <e@example.com>`),
);
const mutated = fc.oneof(
  notAThreshold.map((threshold) => ({ ...valid, threshold })),
  notACustodian.map((admin) => ({ ...valid, admin })),
  notACustodian.map((bad) => ({ ...valid, representatives: [bad] })),
  fc
    .oneof(fc.constant([]), fc.string(), fc.integer())
    .map((representatives) => ({ ...valid, representatives })),
  fc
    .string()
    .filter(
      (key) =>
        !['admin', 'representatives', 'representantes', 'threshold', 'label', 'locale'].includes(
          key,
        ),
    )
    .map((key) => ({ ...valid, [key]: 1 })),
  fc
    .string()
    .filter((locale) => locale !== 'es' && locale !== 'en')
    .map((locale) => ({ ...valid, locale })),
  fc.string({ minLength: 101 }).map((label) => ({ ...valid, label })),
);
const contentType = fc.constantFrom(
  'application/json',
  'Application/JSON; charset=UTF-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  'application/cloudevents+json',
  'application/cloudevents-batch+json',
  '',
);
const attribute = fc.oneof(fc.string(), fc.constant(''), fc.webUrl(), fc.uuid());

function assertRefused(status: number, what: string) {
  assert.ok(status >= 400 && status < 500, `${what}: ${status}`);
}

test('malformed ceremony requests are refused with a 4xx and publish nothing', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        mutated.map((body) => JSON.stringify(body)),
        fc.jsonValue().map((value) => JSON.stringify(value)),
        fc.string(),
        fc.uint8Array({ maxLength: 512 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
      ),
      contentType,
      async (body, type) => {
        const headers: Record<string, string> = type ? { 'content-type': type } : {};
        const response = await generateKeys.request('/generate-keys', {
          method: 'POST',
          headers,
          body,
        });
        assertRefused(response.status, `${type} ${body.slice(0, 80)}`);
      },
    ),
    { numRuns: runs },
  );
  assert.is(published.length, 0);
});

test('malformed CloudEvents are refused by both functions and do nothing', async () => {
  const binary = fc.record(
    {
      'ce-specversion': fc.oneof(fc.constant('1.0'), fc.string()),
      'ce-id': attribute,
      'ce-source': attribute,
      'ce-type': fc.oneof(fc.constantFrom(...Object.values(EventTypes)), fc.string()),
      'ce-time': fc.oneof(
        fc.string(),
        fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
      ),
      'content-type': contentType,
    },
    { requiredKeys: ['ce-specversion'] },
  );
  const data = fc.oneof(
    mutated.map((body) => JSON.stringify(body)),
    fc.jsonValue().map((value) => JSON.stringify(value)),
    fc
      .record({ seal: fc.string(), ceremonyId: fc.uuid(), shareNumber: fc.integer() })
      .map((value) => JSON.stringify(value)),
    fc.string(),
  );
  await fc.assert(
    fc.asyncProperty(binary, data, fc.boolean(), async (headers, body, toMailer) => {
      const clean = Object.fromEntries(
        Object.entries(headers).filter(([, value]) => /^[\t\x20-\x7e]*$/.test(value)),
      );
      const app = toMailer ? dispatchEmail : generateKeys;
      const response = await app.request('/', { method: 'POST', headers: clean, body });
      assertRefused(response.status, `${JSON.stringify(clean)} ${body.slice(0, 80)}`);
    }),
    { numRuns: runs },
  );

  const structured = fc.record(
    {
      specversion: fc.oneof(fc.constant('1.0'), fc.jsonValue()),
      id: fc.oneof(attribute, fc.jsonValue()),
      source: fc.oneof(attribute, fc.jsonValue()),
      type: fc.oneof(fc.constantFrom(...Object.values(EventTypes)), fc.jsonValue()),
      data: fc.oneof(mutated, fc.jsonValue()),
      data_base64: fc.base64String(),
    },
    { requiredKeys: [] },
  );
  await fc.assert(
    fc.asyncProperty(structured, fc.boolean(), async (event, toMailer) => {
      const app = toMailer ? dispatchEmail : generateKeys;
      const response = await app.request('/', {
        method: 'POST',
        headers: { 'content-type': 'application/cloudevents+json' },
        body: JSON.stringify(event),
      });
      assertRefused(response.status, JSON.stringify(event).slice(0, 120));
    }),
    { numRuns: runs },
  );
  assert.is(published.length, 0);
  assert.is(sent.length, 0);
});

test('share events with forged or altered seals send no email', async () => {
  const facts = fc.record({
    ceremonyId: fc.uuid(),
    keyId: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((n) => n.toString(16).padStart(16, '0')),
    fingerprint: fc.constant('ab'.repeat(32)),
    threshold: fc.integer({ min: 2, max: 5 }),
    total: fc.constant(5),
    shareNumber: fc.integer({ min: 1, max: 5 }),
    custodian: fc.record({
      name: fc.string({ maxLength: 20 }),
      email: fc.constant('eve@example.com'),
    }),
    locale: fc.constantFrom('es', 'en'),
    seal: fc.oneof(
      fc.string(),
      fc.tuple(fc.base64String(), fc.base64String()).map(([iv, body]) => `v1.fz.${iv}.${body}`),
    ),
  });
  await fc.assert(
    fc.asyncProperty(facts, fc.uuid(), async (data, id) => {
      const response = await dispatchEmail.request('/', {
        method: 'POST',
        headers: {
          'ce-specversion': '1.0',
          'ce-id': id,
          'ce-source': '/trikey/generate-keys',
          'ce-type': EventTypes.shareIssued,
          'ce-subject': data.ceremonyId,
          'content-type': 'application/json',
        },
        body: JSON.stringify(data),
      });
      assertRefused(response.status, JSON.stringify(data).slice(0, 120));
    }),
    { numRuns: runs },
  );
  assert.is(sent.length, 0);
});

test.run();
