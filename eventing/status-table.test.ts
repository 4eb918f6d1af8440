import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EventTypes } from '../shared/event-types.ts';
import { ceremonyStatusOf, type CeremonyStatus } from './status-record.ts';
import { formatCeremonyStatus } from './status-table.ts';

const status: CeremonyStatus = {
  ceremonyId: 'c-1',
  voided: false,
  shares: [
    {
      shareNumber: 1,
      custodian: { name: 'Ada Lovelace', email: 'ada@example.org' },
      state: 'delivered',
      messageId: 'ses-1',
    },
    { shareNumber: 2, custodian: undefined, state: 'failed', reason: 'bounced' },
    {
      shareNumber: 10,
      custodian: { name: 'Al', email: 'al@example.org' },
      state: 'dead-lettered',
      reason: 'subscriber answered 503',
      attempts: 9,
    },
  ],
};

test('prints a plain table of share, custodian, state and detail', () => {
  assert.is(
    formatCeremonyStatus(status),
    [
      'Ceremony c-1',
      '',
      'Share  Custodian                       State          Detail',
      '1      Ada Lovelace <ada@example.org>  delivered      message ses-1',
      '2      (unknown)                       failed         bounced',
      '10     Al <al@example.org>             dead-lettered  subscriber answered 503 (9 attempts)',
    ].join('\n'),
  );
});

test('names the void reason, a partial read and a ceremony with no shares', () => {
  const text = formatCeremonyStatus({
    ceremonyId: 'c-2',
    voided: true,
    voidReason: 'the broker did not accept 1 of 3 share events',
    shares: [],
    partial: true,
  });
  assert.is(
    text,
    [
      'Ceremony c-2',
      'Voided: the broker did not accept 1 of 3 share events',
      'Reading stopped at its time limit: later events may be missing.',
      'No share of this ceremony is recorded.',
    ].join('\n'),
  );
});

test('prints no seal and no share token, even one hidden in recorded text', () => {
  const seal = 'v1.transport-1.aXY.trikey1qqqsealedtoken';
  const issued = {
    headers: { type: EventTypes.shareIssued, subject: 'c-3' },
    data: {
      ceremonyId: 'c-3',
      shareNumber: 1,
      custodian: { name: 'Eve trikey1qqqname', email: 'eve@example.org' },
      seal,
    },
    deadLetter: false,
  };
  const failed = {
    headers: { type: EventTypes.shareFailed, subject: 'c-3' },
    data: { ceremonyId: 'c-3', shareNumber: 1, reason: `could not send ${seal}` },
    deadLetter: false,
  };
  const text = formatCeremonyStatus(ceremonyStatusOf('c-3', [issued, failed]));

  assert.not.match(text, /trikey1/i);
  assert.not.ok(text.includes(seal));
  assert.match(text, 'Eve [token removed] <eve@example.org>  failed');
  // Also a status built elsewhere, not by the reader, is cleaned before printing.
  const forged = { ...status, shares: [{ ...status.shares[1]!, reason: 'x trikey1abc\ny' }] };
  assert.match(formatCeremonyStatus(forged), 'failed  x [token removed] y');
});

test.run();
