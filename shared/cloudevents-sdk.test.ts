// Trikey reads and writes CloudEvents without the SDK (see cloudevents.ts); these tests show the
// SDK, as other senders and receivers use it, and Trikey's module agree on the same events.
import { CloudEvent, HTTP } from 'cloudevents';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readCloudEvent, toBinary } from './cloudevents.ts';

const event = {
  id: 'ceremony-1-2',
  type: 'dev.trikey.share.issued',
  source: '/trikey/generate-keys',
  subject: 'ceremony 1 ñ "quoted" 100%',
  data: { shareNumber: 2, custodian: { name: 'José Núñez', email: 'jose@example.com' } },
};

test('the SDK reads a binary event Trikey writes, percent-encoded subject included', () => {
  const { headers, body } = toBinary(event);
  const read = HTTP.toEvent({ headers, body }) as CloudEvent<typeof event.data>;
  read.validate();
  assert.is(read.id, event.id);
  assert.is(read.type, event.type);
  assert.is(read.source, event.source);
  assert.is(decodeURIComponent(read.subject!), event.subject);
  assert.is(read.datacontenttype, 'application/json');
  assert.equal(read.data, event.data);
  assert.ok(Math.abs(Date.parse(read.time!) - Date.now()) < 5000);
});

test('Trikey reads a binary event the SDK writes', () => {
  const sent = new CloudEvent({ ...event, subject: 'plain', tenant: 'blue', attempt: 3 });
  const { headers, body } = HTTP.binary(sent);
  const read = readCloudEvent(new Headers(headers as Record<string, string>), body as string);
  assert.is(read.id, event.id);
  assert.is(read.subject, 'plain');
  assert.is(read.time, sent.time);
  assert.is(read.tenant, 'blue');
  assert.is(read.attempt, '3');
  assert.equal(read.data, event.data);
});

test('Trikey reads a structured event the SDK writes, with data and with data_base64', () => {
  const sent = new CloudEvent(event);
  const { headers, body } = HTTP.structured(sent);
  const read = readCloudEvent(new Headers(headers as Record<string, string>), body as string);
  assert.is(read.subject, event.subject);
  assert.equal(read.data, event.data);

  const bytes = new CloudEvent({
    ...event,
    datacontenttype: 'application/octet-stream',
    data: Buffer.from([0, 1, 255]),
  });
  const binaryData = HTTP.structured(bytes);
  const readBytes = readCloudEvent(
    new Headers(binaryData.headers as Record<string, string>),
    binaryData.body as string,
  );
  assert.equal([...(readBytes.data as Buffer)], [0, 1, 255]);
});

test('Trikey and the SDK refuse the same broken binary events', () => {
  const { headers, body } = toBinary(event);
  const broken: Record<string, string>[] = [
    { ...headers, 'ce-source': '' },
    { ...headers, 'ce-type': '' },
    { ...headers, 'ce-source': 'not a uri' },
  ];
  for (const each of broken) {
    assert.throws(() => readCloudEvent(new Headers(each), body));
    assert.throws(() => (HTTP.toEvent({ headers: each, body }) as CloudEvent).validate());
  }
});

test.run();
