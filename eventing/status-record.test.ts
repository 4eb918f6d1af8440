import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EventTypes } from '../shared/event-types.ts';
import { ceremonyStatusOf, safeText, type RecordedEvent } from './status-record.ts';

const ceremonyId = 'c-1';
const ada = { name: 'Ada Lovelace', email: 'ada@example.org' };

function recorded(type: string, data: object, extra: Partial<RecordedEvent> = {}): RecordedEvent {
  return { headers: { type, subject: ceremonyId }, data, deadLetter: false, ...extra };
}

const issued = recorded(EventTypes.shareIssued, {
  ceremonyId,
  shareNumber: 1,
  custodian: ada,
  seal: 'v1.k.iv.trikey1secret',
});
const dead: RecordedEvent = {
  ...issued,
  headers: { ...issued.headers, trikeyattempts: '4', trikeydeadletterreason: 'timeout' },
  deadLetter: true,
  timestamp: 1_900_000_000,
};
const delivered = recorded(EventTypes.shareDelivered, {
  ceremonyId,
  shareNumber: 1,
  messageId: 'ses-1',
});
const failed = recorded(EventTypes.shareFailed, { ceremonyId, shareNumber: 1, reason: 'bounced' });

const stateOf = (events: RecordedEvent[]) => ceremonyStatusOf(ceremonyId, events).shares[0]?.state;

test('a delivery recorded after a dead letter wins: the share was re-driven', () => {
  assert.is(stateOf([issued, dead]), 'dead-lettered');
  assert.is(stateOf([issued, dead, issued, delivered]), 'delivered');
});

test('a failure or a dead letter after a delivery leaves the share delivered', () => {
  assert.is(stateOf([issued, delivered, failed]), 'delivered');
  assert.is(stateOf([issued, delivered, dead]), 'delivered');
  assert.is(stateOf([issued, failed, dead]), 'dead-lettered');
  assert.is(stateOf([issued, dead, failed]), 'failed');
  assert.is(stateOf([failed, issued]), 'failed');
});

test('keeps the custodian and the dead letter time even when issued was not recorded', () => {
  const status = ceremonyStatusOf(ceremonyId, [dead]);
  assert.equal(status.shares, [
    {
      shareNumber: 1,
      custodian: ada,
      state: 'dead-lettered',
      reason: 'timeout',
      attempts: 4,
      at: '2030-03-17T17:46:40.000Z',
    },
  ]);
});

test('ignores other subjects, data of another ceremony and data it cannot read', () => {
  const elsewhere = { ...delivered, headers: { ...delivered.headers, subject: 'c-2' } };
  const mismatched = recorded(EventTypes.shareDelivered, { ceremonyId: 'c-2', shareNumber: 1 });
  const broken = recorded(EventTypes.shareDelivered, { shareNumber: 'one' });
  const unreadable: RecordedEvent = { ...delivered, data: undefined };
  const deadVoid = { ...dead, headers: { ...dead.headers, type: EventTypes.ceremonyVoided } };

  assert.is(stateOf([issued, elsewhere, mismatched, broken, unreadable, deadVoid]), 'issued');
});

test('takes share tokens, control characters and excess length out of recorded text', () => {
  assert.is(safeText('token trikey1abc0def there'), 'token [token removed] there');
  assert.is(safeText('TRIKEY1ABC'), '[token removed]');
  assert.is(safeText('line\nbreak\u001b[31m'), 'line break [31m');
  assert.is(safeText('x'.repeat(400)).length, 300);

  const status = ceremonyStatusOf(ceremonyId, [
    issued,
    recorded(EventTypes.shareFailed, { shareNumber: 1, reason: 'sent trikey1qqq2 to nobody' }),
  ]);
  assert.is(status.shares[0]!.reason, 'sent [token removed] to nobody');
  assert.not.ok(JSON.stringify(status).includes('seal'));
});

test.run();
