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

test.run();
