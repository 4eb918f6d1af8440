import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readCloudEvent, toBinary } from './cloudevents.ts';
import { HttpProblem } from './problem.ts';

const attributes = { specversion: '1.0', id: 'e-1', source: '/test', type: 'dev.example.thing' };
const structured = { 'content-type': 'application/cloudevents+json; charset=utf-8' };
const binary = toBinary({ ...attributes, data: { a: 1 } });

function refusal(headers: Record<string, string>, body: string): HttpProblem {
  try {
    readCloudEvent(new Headers(headers), body);
  } catch (error) {
    assert.instance(error, HttpProblem);
    return error as HttpProblem;
  }
  throw new Error('the event was accepted');
}

const pointers = (problem: HttpProblem) => problem.errors.map((error) => error.pointer);

test('reads a binary event with headers in any case and a media type with parameters', () => {
  const headers = Object.fromEntries(
    Object.entries(binary.headers).map(([name, value]) => [name.toUpperCase(), value]),
  );
  headers['CONTENT-TYPE'] = 'Application/JSON; charset=UTF-8';
  const event = readCloudEvent(new Headers(headers), binary.body);
  assert.is(event.id, 'e-1');
  assert.equal(event.data, { a: 1 });
});

test('reads a structured event and decodes data_base64 holding JSON', () => {
  const body = JSON.stringify({
    ...attributes,
    datacontenttype: 'application/json',
    data_base64: Buffer.from('{"b":2}').toString('base64'),
  });
  const event = readCloudEvent(new Headers(structured), body);
  assert.equal(event.data, { b: 2 });
});

test('refuses a structured event without id, specversion, source or type, naming each', () => {
  for (const name of ['id', 'specversion', 'source', 'type'] as const) {
    const { [name]: _, ...rest } = attributes;
    const problem = refusal(structured, JSON.stringify({ ...rest, data: {} }));
    assert.is(problem.status, 400);
    assert.equal(pointers(problem), [`/${name}`]);
  }
});

test('refuses a binary event with an empty ce-id', () => {
  const problem = refusal({ ...binary.headers, 'ce-id': '' }, binary.body);
  assert.equal(pointers(problem), ['/id']);
});

test('refuses a time that is not RFC 3339 instead of replacing it by now', () => {
  const problem = refusal({ ...binary.headers, 'ce-time': 'yesterday' }, binary.body);
  assert.equal(pointers(problem), ['/time']);
  const event = readCloudEvent(
    new Headers({ ...binary.headers, 'ce-time': '2026-12-04T10:00:05Z' }),
    binary.body,
  );
  assert.is(new Date(event.time!).toISOString(), '2026-12-04T10:00:05.000Z');
});

test('refuses an extension whose value is an object or whose name is not lowercase alphanumeric', () => {
  const body = JSON.stringify({ ...attributes, nested: { a: 1 }, data: {} });
  assert.equal(pointers(refusal(structured, body)), ['/nested']);
  const badName = JSON.stringify({ ...attributes, Bad_Name: 'x', data: {} });
  assert.match(refusal(structured, badName).errors[0]!.detail, /lowercase letters and digits/);
});

test('refuses specversion 0.3, a batch, other structured formats and plain requests', () => {
  assert.equal(pointers(refusal({ ...binary.headers, 'ce-specversion': '0.3' }, binary.body)), [
    '/specversion',
  ]);
  assert.is(refusal({ 'content-type': 'application/cloudevents-batch+json' }, '[]').status, 400);
  assert.is(refusal({ 'content-type': 'application/cloudevents+xml' }, '<e/>').status, 415);
  assert.is(refusal({ 'content-type': 'application/json' }, '{}').status, 415);
});

test('never repeats the body in a refusal', () => {
  const secret = 'trikey1qqqqsecretqqqq';
  const problems = [
    refusal(structured, `{"id": "${secret}", "data": `),
    refusal(structured, JSON.stringify({ id: secret, data: secret })),
    refusal({ ...binary.headers, 'ce-time': secret }, secret),
  ];
  for (const problem of problems) {
    assert.not.ok(JSON.stringify({ ...problem, message: problem.message }).includes(secret));
  }
});

test('refuses a day that does not exist, a dataschema that is no URI, and non-integer extensions', () => {
  assert.equal(
    pointers(refusal({ ...binary.headers, 'ce-time': '2024-02-30T00:00:00Z' }, binary.body)),
    ['/time'],
  );
  const body = (extra: object) => JSON.stringify({ ...attributes, ...extra, data: {} });
  assert.equal(pointers(refusal(structured, body({ dataschema: 'http://[::1' }))), ['/dataschema']);
  assert.equal(pointers(refusal(structured, body({ size: 1.5 }))), ['/size']);
  assert.equal(
    pointers(
      refusal(structured, `{"specversion":"1.0","id":"e","source":"/s","type":"t","big":1e400}`),
    ),
    ['/big'],
  );
  assert.is(readCloudEvent(new Headers(structured), body({ size: 42 })).size, 42);
});

test('refuses control characters, lone surrogates and noncharacters in any attribute', () => {
  assert.equal(
    pointers(refusal({ ...binary.headers, 'ce-id': 'evt%0D%0Ax-evil:%201' }, binary.body)),
    ['/id'],
  );
  assert.equal(pointers(refusal({ ...binary.headers, 'ce-subject': '%1B%5B31m' }, binary.body)), [
    '/subject',
  ]);
  const body = (extra: object) => JSON.stringify({ ...attributes, ...extra, data: {} });
  assert.equal(pointers(refusal(structured, body({ note: 'a\uD800b' }))), ['/note']);
  assert.equal(pointers(refusal(structured, body({ note: 'a\uFFFEb' }))), ['/note']);
  assert.equal(pointers(refusal(structured, body({ note: 'a\u0085b' }))), ['/note']);
  assert.is(
    readCloudEvent(new Headers(structured), body({ note: 'ok \u{1F600} é' })).note,
    'ok \u{1F600} é',
  );
});

test('refuses a datacontenttype that is not a media type, in either mode', () => {
  const body = (extra: object) => JSON.stringify({ ...attributes, ...extra, data: {} });
  const injected = body({ datacontenttype: 'application/json\r\nx-injected: yes' });
  assert.ok(pointers(refusal(structured, injected)).includes('/datacontenttype'));
  assert.equal(pointers(refusal(structured, body({ datacontenttype: 'json' }))), [
    '/datacontenttype',
  ]);
  assert.equal(
    pointers(refusal({ ...binary.headers, 'content-type': 'application/' }, binary.body)),
    ['/datacontenttype'],
  );
  const typed = readCloudEvent(
    new Headers(structured),
    body({ datacontenttype: 'application/json; charset="utf-8"' }),
  );
  assert.is(typed.datacontenttype, 'application/json; charset="utf-8"');
});

test('refuses a long run of empty media type parameters at once (no runaway backtracking)', () => {
  const datacontenttype = 'application/json' + '; '.repeat(4000) + '\u0001';
  const started = performance.now();
  const body = JSON.stringify({ ...attributes, datacontenttype, data: {} });
  assert.ok(pointers(refusal(structured, body)).includes('/datacontenttype'));
  assert.ok(performance.now() - started < 1000);
});

test('decodes header values once, unquoting first, and refuses bytes that are not UTF-8', () => {
  const read = (headers: Record<string, string>) =>
    readCloudEvent(new Headers({ ...binary.headers, ...headers }), binary.body);
  assert.is(read({ 'ce-subject': 'caf%c3%a9%20%2541' }).subject, 'café %41');
  assert.is(read({ 'ce-subject': '"hello \\"world\\""' }).subject, 'hello "world"');
  assert.is(read({ 'ce-subject': '100%' }).subject, '100%');
  assert.is(read({ 'ce-subject': '%41%zz' }).subject, 'A%zz');
  // Unquoting comes first, then one round of percent-decoding over the whole value.
  assert.is(read({ 'ce-subject': '"\\%41" b' }).subject, 'A b');
  for (const value of ['%C0%A0', '%FF', '%ED%A0%80', '"unterminated']) {
    assert.equal(pointers(refusal({ ...binary.headers, 'ce-subject': value }, binary.body)), [
      '/subject',
    ]);
  }
});

test('takes a null attribute as unset, and null data as data', () => {
  const body = JSON.stringify({ ...attributes, subject: null, time: null, note: null, data: null });
  const event = readCloudEvent(new Headers(structured), body);
  assert.is(event.subject, undefined);
  assert.is('note' in event, false);
  assert.is(event.data, null);
  const unsetBase64 = JSON.stringify({ ...attributes, data_base64: null });
  assert.is(readCloudEvent(new Headers(structured), unsetBase64).data, undefined);
});

test('refuses a datacontenttype of the wrong type beside data_base64 with a 400, not a 500', () => {
  for (const datacontenttype of [5, ['application/json'], {}]) {
    const body = JSON.stringify({ ...attributes, datacontenttype, data_base64: 'e30=' });
    const problem = refusal(structured, body);
    assert.is(problem.status, 400);
    assert.ok(pointers(problem).includes('/datacontenttype'));
  }
});

test('checks time, source, dataschema and integers by their grammars', () => {
  const read = (extra: object) =>
    readCloudEvent(new Headers(structured), JSON.stringify({ ...attributes, ...extra, data: {} }));
  const refused = (extra: object) =>
    pointers(refusal(structured, JSON.stringify({ ...attributes, ...extra, data: {} })));
  assert.equal(refused({ time: '2026-12-04T24:00:00Z' }), ['/time']);
  assert.equal(refused({ time: '2026-12-04T10:00:00+0100' }), ['/time']);
  assert.is(read({ time: '2016-12-31T23:59:60Z' }).time, '2016-12-31T23:59:60Z');
  assert.is(read({ time: '0000-02-29T00:00:00Z' }).time, '0000-02-29T00:00:00Z');
  assert.equal(refused({ source: '\u{1F600}' }), ['/source']);
  assert.equal(refused({ source: '/%zz' }), ['/source']);
  assert.is(read({ source: 'urn:trikey:broker' }).source, 'urn:trikey:broker');
  assert.equal(refused({ dataschema: 'http://example.com/a b' }), ['/dataschema']);
  assert.equal(refused({ dataschema: '/relative' }), ['/dataschema']);
  assert.is(read({ n: -(2 ** 31) }).n, -(2 ** 31));
  assert.equal(refused({ n: 2 ** 31 }), ['/n']);
});

test('reads data as JSON for every */json and */*+json type', () => {
  for (const type of ['application/json', 'text/json', 'foo/json', 'application/ld+json']) {
    const event = readCloudEvent(
      new Headers({ ...binary.headers, 'content-type': type }),
      '{"a":1}',
    );
    assert.equal(event.data, { a: 1 }, type);
  }
  const text = readCloudEvent(
    new Headers({ ...binary.headers, 'content-type': 'text/plain' }),
    '{"a":1}',
  );
  assert.is(text.data, '{"a":1}');
});

test.run();
