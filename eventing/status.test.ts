// The record of a ceremony: events published by hand into a real status stream, read back.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EventTypes } from '../shared/event-types.ts';
import { createBroker, deleteTopology, type Broker } from './broker.ts';
import type { BrokerMessage } from './message.ts';
import { readCeremonyStatus } from './status.ts';
import { amqpUrl, captureLogger, uniqueBrokerName } from './test-support.ts';
import type { StatusRecord, Trigger } from './triggers.ts';

const ceremonyId = '0b8f1c52-6a0e-4d6c-9a57-2f5c1f0e7a11';
const otherCeremonyId = '9d2e7f40-1b3c-4e5d-8f6a-7b8c9d0e1f22';
const custodians = [
  { name: 'Ada Lovelace', email: 'ada@example.org' },
  { name: 'Grace Hopper', email: 'grace@example.org' },
  { name: 'Alan Turing', email: 'alan@example.org' },
];
// A seal holds the share token; neither may come out of the reader.
const seal = 'v1.transport-1.aXYtaXY.trikey1qqqsealedsharetokentext';
const trigger: Trigger = {
  name: 'email',
  filter: { attributes: { type: EventTypes.shareIssued } },
  subscriber: 'email',
  delivery: { retry: 0, backoffPolicy: 'linear', backoffDelay: 'PT0.1S', timeout: 'PT1S' },
  parallelism: 1,
};
const record: StatusRecord = {
  types: [
    EventTypes.shareIssued,
    EventTypes.shareDelivered,
    EventTypes.shareFailed,
    EventTypes.ceremonyVoided,
  ],
  maxAge: '1h',
};

function event(type: string, id: string, subject: string, time: string, data: object) {
  const headers = {
    specversion: '1.0',
    id,
    source: '/trikey/tests',
    type,
    subject,
    time,
    datacontenttype: 'application/json',
  };
  const body = Buffer.from(JSON.stringify(data));
  return { messageId: id, contentType: 'application/json', headers, body } as BrokerMessage;
}

function issued(ceremony: string, shareNumber: number): BrokerMessage {
  return event(
    EventTypes.shareIssued,
    `${ceremony}-${shareNumber}`,
    ceremony,
    `2030-01-02T03:04:0${shareNumber}.000Z`,
    {
      ceremonyId: ceremony,
      keyId: '0123456789abcdef',
      fingerprint: 'f'.repeat(64),
      threshold: 2,
      total: 3,
      shareNumber,
      custodian: custodians[shareNumber - 1],
      locale: 'en',
      seal,
    },
  );
}

function delivered(ceremony: string, shareNumber: number, messageId: string) {
  const id = `${ceremony}-${shareNumber}-delivered`;
  const data = { ceremonyId: ceremony, keyId: '0123456789abcdef', shareNumber, messageId };
  return event(EventTypes.shareDelivered, id, ceremony, '2030-01-02T03:05:00.000Z', data);
}

function failed(shareNumber: number, reason: string) {
  const id = `${ceremonyId}-${shareNumber}-failed`;
  const data = { ceremonyId, keyId: '0123456789abcdef', shareNumber, reason };
  return event(EventTypes.shareFailed, id, ceremonyId, '2030-01-02T03:06:00.000Z', data);
}

function voided(reason: string) {
  const data = { ceremonyId, keyId: '0123456789abcdef', reason, seal };
  return event(
    EventTypes.ceremonyVoided,
    `${ceremonyId}-voided`,
    ceremonyId,
    '2030-01-02T03:07:00.000Z',
    data,
  );
}

function deadLetter(original: BrokerMessage): BrokerMessage {
  return {
    ...original,
    headers: {
      ...original.headers,
      knativeerrordest: 'http://127.0.0.1:9/',
      knativeerrorcode: '503',
      trikeyattempts: '9',
      trikeydeadletterreason: 'subscriber answered 503',
    },
  };
}

// Publishes the messages in order into the status stream of a new broker, runs the test and
// removes the broker's exchanges, queues and stream.
async function withRecorded(
  messages: Array<{ dead?: boolean; message: BrokerMessage }>,
  run: (name: string) => Promise<void>,
): Promise<void> {
  const name = uniqueBrokerName('status');
  const broker: Broker = createBroker({
    url: amqpUrl,
    name,
    triggers: [trigger],
    record,
    logger: captureLogger().logger,
  });
  try {
    await broker.connect();
    for (const { dead, message } of messages) {
      if (dead) await broker.publishDeadLetter(trigger.name, message);
      else await broker.publish(message);
    }
    await run(name);
  } finally {
    await broker.close();
    await deleteTopology(amqpUrl, name, [trigger]);
  }
}

test('reads delivered, failed and dead-lettered shares of one ceremony only, with no seal', async () => {
  const before = Math.floor(Date.now() / 1000) * 1000;
  const sequence = [
    { message: issued(ceremonyId, 1) },
    { message: issued(otherCeremonyId, 1) },
    { message: issued(ceremonyId, 2) },
    { message: issued(ceremonyId, 3) },
    { message: delivered(otherCeremonyId, 1, 'ses-other') },
    { message: delivered(ceremonyId, 1, 'ses-0001') },
    { message: failed(2, 'the mailbox of grace@example.org is full') },
    { dead: true, message: deadLetter(issued(ceremonyId, 3)) },
  ];

  await withRecorded(sequence, async (brokerName) => {
    const status = await readCeremonyStatus({ url: amqpUrl, brokerName, ceremonyId });

    const deadAt = status.shares[2]?.at;
    const deadTime = Date.parse(String(deadAt));
    assert.ok(deadTime >= before && deadTime <= Date.now(), `${deadAt} is when it was published`);
    assert.equal(status, {
      ceremonyId,
      voided: false,
      shares: [
        {
          shareNumber: 1,
          custodian: custodians[0],
          state: 'delivered',
          messageId: 'ses-0001',
          at: '2030-01-02T03:05:00.000Z',
        },
        {
          shareNumber: 2,
          custodian: custodians[1],
          state: 'failed',
          reason: 'the mailbox of grace@example.org is full',
          at: '2030-01-02T03:06:00.000Z',
        },
        {
          shareNumber: 3,
          custodian: custodians[2],
          state: 'dead-lettered',
          reason: 'subscriber answered 503',
          attempts: 9,
          at: deadAt,
        },
      ],
    });
    const text = JSON.stringify(status);
    assert.not.ok(text.includes('seal'), 'no seal field');
    assert.not.ok(text.includes('trikey1'), 'no share token');
    assert.not.ok(text.includes(otherCeremonyId));
  });
});

test('marks every share not delivered voided once the ceremony is voided', async () => {
  const reason = 'the broker did not accept 1 of 3 share events';
  const sequence = [
    { message: issued(ceremonyId, 1) },
    { message: issued(ceremonyId, 2) },
    { message: issued(ceremonyId, 3) },
    { message: delivered(ceremonyId, 1, 'ses-0001') },
    { dead: true, message: deadLetter(issued(ceremonyId, 2)) },
    { message: voided(reason) },
  ];

  await withRecorded(sequence, async (brokerName) => {
    const status = await readCeremonyStatus({ url: amqpUrl, brokerName, ceremonyId });

    assert.is(status.voided, true);
    assert.is(status.voidReason, reason);
    assert.equal(
      status.shares.map((share) => [share.shareNumber, share.state, share.reason]),
      [
        [1, 'delivered', undefined],
        [2, 'voided', reason],
        [3, 'voided', reason],
      ],
    );
    assert.is(status.shares[1]!.at, '2030-01-02T03:07:00.000Z');
    assert.not.ok(JSON.stringify(status).includes('trikey1'));
  });
});

test('stops at the time limit and says the status may be partial', async () => {
  await withRecorded([{ message: issued(ceremonyId, 1) }], async (brokerName) => {
    const started = Date.now();
    const query = { url: amqpUrl, brokerName, ceremonyId, idleMs: 5000, timeoutMs: 400 };
    const status = await readCeremonyStatus(query);

    assert.ok(Date.now() - started < 2000, 'it did not wait for the idle time');
    assert.is(status.partial, true);
    assert.equal(
      status.shares.map((share) => share.state),
      ['issued'],
    );
  });
});

test('says so when the broker has no status stream', async () => {
  const brokerName = uniqueBrokerName('status-missing');
  try {
    await readCeremonyStatus({ url: amqpUrl, brokerName, ceremonyId });
    assert.unreachable('the status was read');
  } catch (error) {
    assert.is(
      (error as Error).message,
      `cannot read the status stream ${brokerName}.status: it does not exist ` +
        '(the broker bridge makes it when it starts)',
    );
  }
});

test.run();
