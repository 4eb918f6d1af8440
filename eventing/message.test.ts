import type { MessageProperties } from 'amqplib';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HttpProblem } from '../shared/problem.ts';
import { readEventMessage, toBinaryHeaders } from './message.ts';

const binaryHeaders = {
  'CE-SpecVersion': '1.0',
  'Ce-Id': 'evt-1',
  'ce-source': '/trikey/tests',
  'ce-type': 'dev.trikey.ceremony.requested',
  'ce-time': '2030-01-02T03:04:05.000Z',
  'Ce-TraceParent': '00-abc-def-01',
  'Content-Type': 'application/json; charset=utf-8',
};
const jsonText = '{ "ceremonyId": "c-1",\n  "threshold": 2 }';

function properties(headers: Record<string, string>, contentType?: string): MessageProperties {
  return { headers, contentType } as MessageProperties;
}

test('keeps a binary event body byte for byte and its content type with parameters', () => {
  const { message } = readEventMessage(new Headers(binaryHeaders), Buffer.from(jsonText));

  assert.is(message.body.toString('utf8'), jsonText);
  assert.is(message.messageId, 'evt-1');
  assert.is(message.contentType, 'application/json; charset=utf-8');
  assert.equal(message.headers, {
    specversion: '1.0',
    id: 'evt-1',
    source: '/trikey/tests',
    type: 'dev.trikey.ceremony.requested',
    time: '2030-01-02T03:04:05.000Z',
    traceparent: '00-abc-def-01',
    datacontenttype: 'application/json; charset=utf-8',
  });
});

test('turns structured JSON data into JSON text and extensions into strings', () => {
  const envelope = {
    specversion: '1.0',
    id: 'evt-2',
    source: '/trikey/tests',
    type: 'dev.trikey.share.issued',
    attempt: 3,
    urgent: true,
    data: { shareIndex: 1, custodian: 'ada@example.org' },
  };
  const headers = new Headers({ 'content-type': 'application/cloudevents+json; charset=utf-8' });
  const { message } = readEventMessage(headers, Buffer.from(JSON.stringify(envelope)));

  assert.is(message.body.toString('utf8'), JSON.stringify(envelope.data));
  assert.is(message.contentType, 'application/json');
  assert.is(message.headers.attempt, '3');
  assert.is(message.headers.urgent, 'true');
  assert.is(message.headers.data, undefined);
});

test('decodes structured base64 data to its bytes and keeps text data as text', () => {
  const bytes = Buffer.from([0, 1, 2, 250, 255]);
  const base = { specversion: '1.0', source: '/trikey/tests', type: 'dev.trikey.share.issued' };
  const headers = new Headers({ 'content-type': 'application/cloudevents+json' });

  const binary = { ...base, id: 'b', datacontenttype: 'application/octet-stream' };
  const withBytes = { ...binary, data_base64: bytes.toString('base64') };
  const fromBase64 = readEventMessage(headers, Buffer.from(JSON.stringify(withBytes)));
  assert.equal([...fromBase64.message.body], [...bytes]);
  assert.is(fromBase64.message.contentType, 'application/octet-stream');

  const text = { ...base, id: 't', datacontenttype: 'text/plain', data: 'plain words' };
  const fromText = readEventMessage(headers, Buffer.from(JSON.stringify(text)));
  assert.is(fromText.message.body.toString('utf8'), 'plain words');

  // Without a datacontenttype, base64 data is opaque bytes, not JSON.
  const untyped = { ...base, id: 'u', data_base64: bytes.toString('base64') };
  const fromUntyped = readEventMessage(headers, Buffer.from(JSON.stringify(untyped)));
  assert.equal([...fromUntyped.message.body], [...bytes]);
  assert.is(fromUntyped.message.contentType, undefined);
  assert.is(fromUntyped.message.headers.datacontenttype, undefined);

  // Without one, `data` is JSON, and says so when it goes on.
  const implied = { ...base, id: 'j', data: 'a string' };
  const fromImplied = readEventMessage(headers, Buffer.from(JSON.stringify(implied)));
  assert.is(fromImplied.message.body.toString('utf8'), '"a string"');
  assert.is(fromImplied.message.contentType, 'application/json');
});

test('percent-encodes header values for binary mode and decodes them on the way back in', () => {
  const subject = 'Schlüssel "7" at 50%';
  const stored = { id: 'e', subject, datacontenttype: 'text/plain', 'x-death': 'skip' };
  const headers = toBinaryHeaders(properties(stored, 'text/plain'));

  assert.is(headers['ce-subject'], 'Schl%C3%BCssel%20%227%22%20at%2050%25');
  assert.is(headers['content-type'], 'text/plain');
  assert.is(headers['ce-datacontenttype'], undefined);
  assert.is(headers['ce-x-death'], undefined);

  const back = readEventMessage(
    new Headers({ ...headers, 'ce-specversion': '1.0', 'ce-source': '/s', 'ce-type': 't' }),
    Buffer.from('hello'),
  );
  assert.is(back.message.headers.subject, subject);
});

test('refuses an id longer than an AMQP short string', () => {
  const headers = new Headers({ ...binaryHeaders, 'ce-id': 'x'.repeat(256) });
  try {
    readEventMessage(headers, Buffer.from(jsonText));
    assert.unreachable('the event was accepted');
  } catch (error) {
    assert.instance(error, HttpProblem);
    assert.is((error as HttpProblem).status, 400);
    const errors = (error as HttpProblem).errors;
    assert.equal(errors, [{ pointer: '/id', detail: 'must be at most 255 bytes' }]);
  }
});

test.run();
