import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  EventTypes,
  openSeal,
  parseTransportKeys,
  toBinary,
  type SinkAnswer,
} from '../../shared/index.ts';
import { testGenerateKeys } from './test-app.ts';

const transportKeys = parseTransportKeys('t1:' + Buffer.alloc(32, 7).toString('base64'));
const pocBody = {
  admin: 'Ana Ruiz <ana@example.com>',
  representantes: ['Luis Gómez <luis@example.com>', 'marta@example.com'],
};

function makeApp(answer: SinkAnswer = { ok: true, status: 202 }) {
  const made = testGenerateKeys({ transportKeys, maxCustodians: 5 }, answer);
  return { ...made, voids: made.voided };
}

const postJson = (body: unknown, path = '/generate-keys', type = 'application/json') => ({
  path,
  init: { method: 'POST', headers: { 'content-type': type }, body: JSON.stringify(body) },
});

async function problemFor(body: unknown) {
  const { app, emitted } = makeApp();
  const { path, init } = postJson(body);
  const response = await app.request(path, init);
  assert.is(response.status, 422);
  assert.is(response.headers.get('content-type'), 'application/problem+json');
  assert.is(emitted.length, 0, 'nothing is published for an invalid request');
  return (await response.json()) as { errors: { pointer: string; detail: string }[] };
}

test('accepts the proof of concept body and answers 202 with the ceremony facts', async () => {
  const { app, emitted } = makeApp();
  const { path, init } = postJson(pocBody);
  const response = await app.request(path, init);
  assert.is(response.status, 202);
  const body = (await response.json()) as Record<string, any>;
  assert.match(body.ceremonyId, /^[0-9a-f-]{36}$/);
  assert.match(body.keyId, /^[0-9a-f]{16}$/);
  assert.match(body.fingerprint, /^[0-9a-f]{64}$/);
  assert.is(body.threshold, 3);
  assert.is(body.total, 3);
  assert.equal(body.custodians, [
    { name: 'Ana Ruiz', email: 'ana@example.com', shareNumber: 1, role: 'admin' },
    { name: 'Luis Gómez', email: 'luis@example.com', shareNumber: 2, role: 'representative' },
    { name: 'marta', email: 'marta@example.com', shareNumber: 3, role: 'representative' },
  ]);
  assert.is(emitted.length, 3);
  assert.not.match(JSON.stringify(body), /trikey1/);
});

test('publishes one sealed share.issued event per custodian, bound to the event', async () => {
  const { app, emitted } = makeApp();
  const { path, init } = postJson({
    ...pocBody,
    threshold: 2,
    label: 'warehouse-2027',
    locale: 'es',
  });
  const body = (await (await app.request(path, init)).json()) as Record<string, any>;
  const tokens = new Set<string>();
  emitted.forEach((event, index) => {
    assert.is(event.type, EventTypes.shareIssued);
    assert.is(event.subject, body.ceremonyId);
    const data = event.data as Record<string, any>;
    assert.is(data.shareNumber, index + 1);
    assert.is(data.custodian.email, body.custodians[index].email);
    assert.is(data.threshold, 2);
    assert.is(data.locale, 'es');
    assert.not.match(JSON.stringify(data), /trikey1/, 'no token in the clear');
    const sealed = openSeal(data.seal, event, transportKeys) as Record<string, any>;
    assert.is(sealed.custodian.email, data.custodian.email);
    assert.is(sealed.label, 'warehouse-2027');
    assert.equal(sealed.custodianNames, ['Ana Ruiz', 'Luis Gómez', 'marta']);
    tokens.add(sealed.token);
    assert.throws(() => openSeal(data.seal, { ...event, id: 'other' }, transportKeys));
  });
  assert.is(tokens.size, 3);
});

test('takes POST / and media types with parameters in any case', async () => {
  const { app } = makeApp();
  const { init } = postJson(pocBody, '/', 'Application/JSON; charset=UTF-8');
  assert.is((await app.request('/', init)).status, 202);
});

test('answers 415 for another media type and 400 for malformed JSON', async () => {
  const { app, emitted } = makeApp();
  const wrongType = await app.request('/', {
    method: 'POST',
    headers: { 'content-type': 'text/plain' },
    body: JSON.stringify(pocBody),
  });
  assert.is(wrongType.status, 415);
  const malformed = await app.request('/', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"admin": ',
  });
  assert.is(malformed.status, 400);
  assert.is(malformed.headers.get('content-type'), 'application/problem+json');
  assert.is(emitted.length, 0);
});

test('names each invalid field with a JSON pointer', async () => {
  const cases: [unknown, string, RegExp][] = [
    [{ admin: 'Nombre del Admin', representantes: ['b@example.com'] }, '/admin', /address/],
    [
      { admin: 'a@example.com', representatives: ['not an address'] },
      '/representatives/0',
      /address/,
    ],
    [{ admin: 'a@example.com', representatives: [] }, '/representatives', /at least one/],
    [{ admin: 'a@example.com' }, '/representatives', /required/],
    [
      { admin: 'a@example.com', representatives: ['b@example.com'], threshold: 3 },
      '/threshold',
      /at most 2/,
    ],
    [
      { admin: 'a@example.com', representatives: ['b@example.com'], threshold: 1 },
      '/threshold',
      /at least 2/,
    ],
    [
      { admin: 'a@example.com', representatives: ['b@example.com'], threshold: 2.5 },
      '/threshold',
      /whole/,
    ],
    [
      { admin: 'a@example.com', representatives: ['b@example.com'], threshold: '2' },
      '/threshold',
      /number/,
    ],
    [
      { admin: 'a@example.com', representatives: ['A@example.com'] },
      '/representatives/0',
      /repeats/,
    ],
    [
      { admin: 'a@example.com', representatives: ['b@example.com'], locale: 'fr' },
      '/locale',
      /"es" or "en"/,
    ],
    [
      { admin: 'a@example.com', representatives: ['b@example.com'], colour: 'red' },
      '/colour',
      /not a field/,
    ],
    [
      { admin: 'a@example.com', representatives: ['b@example.com'], label: 'x'.repeat(101) },
      '/label',
      /at most 100/,
    ],
    [
      { admin: 'Eve\r\nBcc: x@example.test <e@example.com>', representatives: ['b@example.com'] },
      '/admin',
      /control characters, line breaks/,
    ],
    [
      { admin: 'Eve\r\n <e@example.com>', representatives: ['b@example.com'] },
      '/admin',
      /control characters, line breaks/,
    ],
    [
      {
        admin: { name: 'Eve\nBcc: x@example.test', email: 'e@example.com' },
        representatives: ['b@example.com'],
      },
      '/admin/name',
      /control characters, line breaks/,
    ],
    [
      { admin: 'Ana \u202egnp.exe <zoe@example.com>', representatives: ['b@example.com'] },
      '/admin',
      /invisible marks/,
    ],
    [
      { admin: 'a@example.com', representatives: ['b@example.com'], label: 'x\u200by' },
      '/label',
      /invisible marks/,
    ],
    [{ representatives: ['b@example.com'] }, '/admin', /is required/],
    [
      { admin: '\ud800 <surrogate@example.com>', representatives: ['b@example.com'] },
      '/admin',
      /control/,
    ],
    [
      { admin: 'a@example.com', representatives: ['b@example.com'], label: '\ud800x' },
      '/label',
      /control/,
    ],
    [
      {
        admin: { name: 'x'.repeat(101), email: 'a@example.com' },
        representatives: ['b@example.com'],
      },
      '/admin/name',
      /at most 100/,
    ],
    [
      {
        admin: { email: 'a@example.com', ageRecipient: 'age1x' },
        representatives: ['b@example.com'],
      },
      '/admin/ageRecipient',
      /not a valid age recipient/,
    ],
    [
      { admin: { email: 'a@example.com', role: 'x' }, representatives: ['b@example.com'] },
      '/admin/role',
      /not a field of a custodian/,
    ],
    [{ admin: { name: 'A' }, representatives: ['b@example.com'] }, '/admin/email', /is required/],
    [
      { admin: 'a@example.com', representatives: ['b@example.com', 7] },
      '/representatives/1',
      /Name <address>/,
    ],
    [
      {
        admin: 'a@example.com',
        representatives: ['b@example.com'],
        representantes: ['c@example.com'],
      },
      '/representantes',
      /not both/,
    ],
    [
      {
        admin: 'a@example.com',
        representatives: Array.from({ length: 5 }, (_, i) => `r${i}@example.com`),
      },
      '/representatives',
      /at most 5/,
    ],
  ];
  for (const [body, pointer, detail] of cases) {
    const problem = await problemFor(body);
    const error = problem.errors.find((each) => each.pointer === pointer);
    assert.ok(error, `${JSON.stringify(body)} names ${pointer}: ${JSON.stringify(problem.errors)}`);
    assert.match(error!.detail, detail);
  }
});

test('refuses a body that is not an object', async () => {
  const problem = await problemFor([pocBody]);
  assert.is(problem.errors[0]!.pointer, '');
});

test('answers 503, no receipt, and voids the ceremony when the broker refuses any share', async () => {
  const { app, emitted, voids, voider } = makeApp({ ok: false, status: 0, reason: 'network' });
  const { path, init } = postJson(pocBody);
  const response = await app.request(path, init);
  assert.is(response.status, 503);
  assert.is(response.headers.get('content-type'), 'application/problem+json');
  assert.is(response.headers.get('retry-after'), '5');
  const body = (await response.json()) as Record<string, any>;
  assert.match(body.detail, /not accepted.*voided/);
  assert.is(body.keyId, undefined);
  assert.is(emitted.length, 3);
  assert.is(body.ceremonyId, (emitted[0]!.data as { ceremonyId: string }).ceremonyId);

  assert.is(await voider.drain(1000), 0);
  assert.is(voids.length, 1);
  const voided = voids[0]!;
  assert.is(voided.type, EventTypes.ceremonyVoided);
  const share = emitted[0]!.data as { ceremonyId: string; keyId: string };
  assert.is(voided.subject, share.ceremonyId);
  const data = voided.data as { keyId: string; reason: string; seal: string };
  assert.is(data.keyId, share.keyId);
  assert.match(data.reason, /did not accept 3 of 3/);
  assert.equal(openSeal(data.seal, voided, transportKeys), {
    ceremonyId: share.ceremonyId,
    keyId: share.keyId,
    reason: data.reason,
  });
});

test('voids nothing when every share is accepted', async () => {
  const { app, voids, voider } = makeApp();
  const { path, init } = postJson(pocBody);
  assert.is((await app.request(path, init)).status, 202);
  await voider.drain(100);
  assert.is(voids.length, 0);
});

test('takes a ceremony.requested CloudEvent in binary mode', async () => {
  const { app, emitted } = makeApp();
  const message = toBinary({
    id: 'req-1',
    type: EventTypes.ceremonyRequested,
    source: '/test/requester',
    data: { ...pocBody, threshold: 2 },
  });
  const headers = Object.fromEntries(
    Object.entries(message.headers).map(([name, value]) => [name.toUpperCase(), value]),
  );
  const response = await app.request('/', { method: 'POST', headers, body: message.body });
  assert.is(response.status, 202);
  assert.is(await response.text(), '');
  assert.is(emitted.length, 3);
  assert.is((emitted[0]!.data as { threshold: number }).threshold, 2);
});

test('takes a ceremony.requested CloudEvent in structured mode', async () => {
  const { app, emitted } = makeApp();
  const event = {
    specversion: '1.0',
    id: 'req-2',
    type: EventTypes.ceremonyRequested,
    source: '/test/requester',
    datacontenttype: 'application/json',
    data: pocBody,
  };
  const response = await app.request('/', {
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents+json; charset=utf-8' },
    body: JSON.stringify(event),
  });
  assert.is(response.status, 202);
  assert.is(emitted.length, 3);
});

test('refuses an event of another type, an invalid event and invalid event data', async () => {
  const { app, emitted } = makeApp();
  const other = toBinary({ id: 'x', type: 'dev.example.other', source: '/test', data: pocBody });
  assert.is(
    (await app.request('/', { method: 'POST', headers: other.headers, body: other.body })).status,
    400,
  );
  const noSource = { ...other.headers };
  delete noSource['ce-source'];
  assert.is(
    (await app.request('/', { method: 'POST', headers: noSource, body: other.body })).status,
    400,
  );
  const bad = toBinary({
    id: 'y',
    type: EventTypes.ceremonyRequested,
    source: '/t',
    data: { admin: 1 },
  });
  const response = await app.request('/', { method: 'POST', headers: bad.headers, body: bad.body });
  assert.is(response.status, 422);
  assert.is(emitted.length, 0);
});

test('answers 405 to other methods and serves its health paths', async () => {
  const { app } = makeApp();
  assert.is((await app.request('/generate-keys')).status, 405);
  assert.is((await app.request('/health/readiness')).status, 204);
  assert.is((await app.request('/health/liveness')).status, 204);
  assert.is((await app.request('/nope')).status, 404);
});

test('answers 413 for a body over the limit and 415 for a compressed body', async () => {
  const { app, emitted } = makeApp();
  const big = JSON.stringify({ ...pocBody, label: 'x'.repeat(20_000) });
  const tooLarge = await app.request('/', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: big,
  });
  assert.is(tooLarge.status, 413);
  assert.is(tooLarge.headers.get('content-type'), 'application/problem+json');
  const gzipped = await app.request('/', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
    body: JSON.stringify(pocBody),
  });
  assert.is(gzipped.status, 415);
  assert.is(emitted.length, 0);
});

test('sends to an internationalised domain in its ASCII form and refuses unmailable ones', async () => {
  const { app, emitted } = makeApp();
  const { path, init } = postJson({
    admin: 'Jörg <joerg@München.de>',
    representatives: ['b@example.com'],
  });
  const response = await app.request(path, init);
  assert.is(response.status, 202);
  const data = emitted[0]!.data as { custodian: { name: string; email: string } };
  assert.equal(data.custodian, { name: 'Jörg', email: 'joerg@xn--mnchen-3ya.de' });

  for (const admin of ['ana@localhost', 'ana@10.0.0.1', 'añá@example.com']) {
    const problem = await problemFor({ admin, representatives: ['b@example.com'] });
    assert.is(problem.errors[0]!.pointer, '/admin', admin);
  }
});

test.run();
