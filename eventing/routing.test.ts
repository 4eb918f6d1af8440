import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EventTypes } from '../shared/event-types.ts';
import { acceptsEvent } from './routing.ts';
import type { StatusRecord, Trigger } from './triggers.ts';

const delivery = {
  retry: 1,
  backoffPolicy: 'linear',
  backoffDelay: 'PT1S',
  timeout: 'PT1S',
} as const;
const keysTrigger: Trigger = {
  name: 'keys',
  filter: { attributes: { type: EventTypes.ceremonyRequested } },
  subscriber: 'keys',
  delivery,
  parallelism: 1,
};
const emailTrigger: Trigger = {
  name: 'email',
  filter: { attributes: { type: EventTypes.shareIssued, source: '/trikey/generate-keys' } },
  subscriber: 'email',
  delivery,
  parallelism: 1,
};
const record: StatusRecord = {
  types: [
    EventTypes.shareIssued,
    EventTypes.shareDelivered,
    EventTypes.shareFailed,
    EventTypes.ceremonyVoided,
  ],
  maxAge: '7D',
};
const issued = { type: EventTypes.shareIssued, source: '/trikey/generate-keys' };

test('accepts an event a trigger filter matches on every attribute', () => {
  assert.ok(acceptsEvent([keysTrigger], record, { type: EventTypes.ceremonyRequested }));
  assert.ok(acceptsEvent([emailTrigger], record, issued));
});

test('accepts an outcome type that only the status stream records', () => {
  assert.ok(acceptsEvent([keysTrigger], record, { type: EventTypes.shareDelivered }));
  assert.ok(acceptsEvent([keysTrigger], record, { type: EventTypes.shareFailed }));
  assert.not.ok(
    acceptsEvent([keysTrigger], { ...record, types: [] }, { type: EventTypes.shareFailed }),
  );
});

test('refuses a type that is neither triggered nor recorded', () => {
  assert.not.ok(acceptsEvent([keysTrigger, emailTrigger], record, { type: 'dev.trikey.other' }));
  assert.not.ok(acceptsEvent([keysTrigger], record, {}));
});

test('refuses a recorded share.issued or voided event when no trigger takes it', () => {
  assert.not.ok(acceptsEvent([keysTrigger], record, issued));
  assert.not.ok(acceptsEvent([keysTrigger], record, { type: EventTypes.ceremonyVoided }));
  // The email trigger also filters on source, so another source matches no trigger.
  const elsewhere = { ...issued, source: '/somewhere/else' };
  assert.not.ok(acceptsEvent([keysTrigger, emailTrigger], record, elsewhere));
});

test.run();
