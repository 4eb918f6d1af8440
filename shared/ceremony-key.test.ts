import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  CombineError,
  combineShares,
  generateCeremonyKey,
  identifyKey,
  splitKey,
} from './ceremony-key.ts';
import { encodeShareToken, type ShareToken } from './share-token.ts';

const key = Uint8Array.from({ length: 32 }, (_, index) => (index * 29 + 7) & 0xff);
// Worked out by hand: SHA-256 of "trikey key id v1\0" or "trikey fingerprint v1\0", then the key.
const keyId = '8c65d51d2b2f0c8f';
const fingerprint = '6fb8e0ef7096ccf8467800226fdc626f936c462a228e375bb2a94aa77cc32de0';
const otherKey = Uint8Array.from({ length: 32 }, (_, index) => (index * 53 + 200) & 0xff);
const leadingZeroKey = Uint8Array.from({ length: 32 }, (_, index) => (index < 3 ? 0 : index + 100));
const zeroKey = new Uint8Array(32);
const tokens = await splitKey(key, 5, 3);
const texts = tokens.map(encodeShareToken);
const otherTexts = (await splitKey(otherKey, 5, 3)).map(encodeShareToken);
const ofFive = [2, 3, 4, 5].map((threshold) => ({ threshold, total: 5 }));
const ofAll = [2, 3, 4].map((threshold) => ({ threshold, total: threshold }));
const schemes = [...ofFive, ...ofAll];

/** Every subset of `items`, in a fixed order. */
function subsets<T>(items: T[]): T[][] {
  return Array.from({ length: 2 ** items.length }, (_, mask) =>
    items.filter((_, index) => mask & (1 << index)),
  );
}

async function refusalOf(input: string[], expectedFingerprint?: string): Promise<string> {
  try {
    await combineShares(input, expectedFingerprint);
  } catch (error) {
    assert.instance(error, CombineError);
    return (error as CombineError).message;
  }
  throw new Error('the shares were combined');
}

function withShare(token: ShareToken, change: (share: Uint8Array) => void): string {
  const share = Uint8Array.from(token.share);
  change(share);
  return encodeShareToken({ ...token, share });
}

test('gives a known key its key id and fingerprint, the same every time', () => {
  assert.equal(identifyKey(key), { keyId, fingerprint });
  assert.equal(identifyKey(Uint8Array.from(key)), { keyId, fingerprint });
});

test('derives a key id that is not a prefix of the fingerprint', () => {
  for (const each of [key, otherKey, leadingZeroKey, zeroKey]) {
    const identity = identifyKey(each);

    assert.match(identity.keyId, /^[0-9a-f]{16}$/);
    assert.match(identity.fingerprint, /^[0-9a-f]{64}$/);
    assert.not.ok(identity.fingerprint.startsWith(identity.keyId));
  }
});

test('generates distinct 32-byte keys', async () => {
  const keys = await Promise.all(Array.from({ length: 8 }, () => generateCeremonyKey()));

  for (const each of keys) {
    assert.instance(each, Uint8Array);
    assert.is(each.length, 32);
  }
  assert.is(new Set(keys.map((each) => Buffer.from(each).toString('hex'))).size, 8);
});

test('rebuilds the key from every subset of at least threshold shares', async () => {
  let rebuilt = 0;
  for (const { threshold, total } of schemes) {
    const all = (await splitKey(key, total, threshold)).map(encodeShareToken);
    for (const subset of subsets(all).filter((each) => each.length >= threshold)) {
      // Reversing every other subset shows that the order of the shares does not matter.
      const input = rebuilt % 2 ? subset.reverse() : subset;
      const combined = await combineShares(input);

      assert.equal(combined, { key, keyId, fingerprint, threshold, total, setAside: [] });
      rebuilt++;
    }
  }

  assert.is(rebuilt, 26 + 16 + 6 + 1 + 1 + 1 + 1);
});

test('refuses every subset one share short of the threshold', async () => {
  let refused = 0;
  for (const { threshold, total } of schemes) {
    const all = (await splitKey(key, total, threshold)).map(encodeShareToken);
    for (const subset of subsets(all).filter((each) => each.length === threshold - 1)) {
      const given = `${threshold - 1} share${threshold === 2 ? '' : 's'} given`;

      assert.is(
        await refusalOf(subset),
        `${given}; key ${keyId} needs ${threshold} of its ${total} shares`,
      );
      refused++;
    }
  }

  assert.is(refused, 5 + 10 + 10 + 5 + 2 + 3 + 4);
});

test('keeps the leading zero bytes of a key', async () => {
  for (const each of [leadingZeroKey, zeroKey]) {
    const shares = (await splitKey(each, 3, 2)).map(encodeShareToken);
    const combined = await combineShares(shares.slice(1));

    assert.is(combined.key.length, 32);
    assert.equal(combined.key, each);
    assert.is(combined.fingerprint, identifyKey(each).fingerprint);
  }
});

test('refuses no shares at all', async () => {
  assert.is(await refusalOf([]), 'no shares given');
});

test('refuses shares of two different keys', async () => {
  const otherKeyId = identifyKey(otherKey).keyId;

  assert.is(
    await refusalOf([texts[0]!, texts[1]!, otherTexts[2]!]),
    `the shares belong to different keys (${keyId} and ${otherKeyId}); give shares of one key only`,
  );
});

test('refuses the same token given twice', async () => {
  assert.is(await refusalOf([texts[1]!, texts[0]!, texts[1]!]), 'share number 2 is given twice');
});

test('refuses two tokens with the same share number and different bytes', async () => {
  const altered = withShare(tokens[0]!, (share) => (share[5]! ^= 0x40));

  assert.is(await refusalOf([texts[0]!, texts[1]!, altered]), 'share number 1 is given twice');
});

test('refuses two shares with the same x-coordinate', async () => {
  const renumbered = encodeShareToken({ ...tokens[1]!, shareNumber: 4 });

  assert.match(await refusalOf([texts[0]!, texts[1]!, renumbered]), /same x-coordinate/);
});

test('refuses shares that disagree on the threshold', async () => {
  const claimsFour = encodeShareToken({ ...tokens[2]!, threshold: 4 });

  assert.match(await refusalOf([texts[0]!, texts[1]!, claimsFour]), /disagree on the threshold/);
});

test('refuses a share with any one byte of its y values flipped', async () => {
  for (let index = 0; index < 32; index++) {
    const corrupt = withShare(tokens[1]!, (share) => (share[index]! ^= 0x01));

    assert.is(
      await refusalOf([texts[0]!, corrupt, texts[4]!]),
      `the rebuilt key does not match key id ${keyId}: a share is corrupt or forged, ` +
        'and no 3 of the shares given agree',
    );
  }
});

test('rebuilds from the shares that agree and sets aside one that was altered', async () => {
  const corrupt = withShare(tokens[1]!, (share) => (share[7]! ^= 0x40));
  const combined = await combineShares([texts[0]!, corrupt, texts[2]!, texts[4]!]);

  assert.equal(combined.key, key);
  assert.equal(combined.setAside, [tokens[1]!.shareNumber]);
});

test('sets aside every altered share when enough others agree', async () => {
  const first = withShare(tokens[0]!, (share) => (share[0]! ^= 0x01));
  const third = withShare(tokens[2]!, (share) => (share[31]! ^= 0x80));
  const combined = await combineShares([first, texts[1]!, third, texts[3]!, texts[4]!]);

  assert.equal(combined.key, key);
  assert.equal(combined.setAside.sort(), [tokens[0]!.shareNumber, tokens[2]!.shareNumber].sort());
});

test('names which share of the input cannot be read', async () => {
  const typo = texts[2]!.slice(0, 20) + (texts[2]![20] === 'q' ? 'p' : 'q') + texts[2]!.slice(21);

  assert.match(await refusalOf([texts[0]!, texts[1]!, typo]), /^share 3 of the input: .*checksum/);
});

test('refuses a rebuilt key whose fingerprint is not the one expected', async () => {
  const wrong = identifyKey(otherKey).fingerprint;

  assert.is(
    await refusalOf(texts.slice(0, 3), wrong),
    `the rebuilt key has fingerprint ${fingerprint}, not the one expected`,
  );
  assert.match(
    await refusalOf(texts.slice(0, 3), fingerprint.slice(0, 63)),
    /not the one expected/,
  );
});

test('accepts the expected fingerprint in upper case, with spaces or colons', async () => {
  const written = [
    fingerprint,
    fingerprint.toUpperCase(),
    fingerprint.match(/../g)!.join(':'),
    ` ${fingerprint.match(/.{4}/g)!.join(' ')}\n`,
    fingerprint.toUpperCase().match(/.{8}/g)!.join(' : '),
  ];
  for (const expected of written) {
    const combined = await combineShares(texts.slice(2), expected);

    assert.equal(combined.key, key);
  }
});

test('draws a key that Web Crypto takes as AES-256-GCM and that round-trips data', async () => {
  const raw = await generateCeremonyKey();
  const key = await crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']);
  assert.is((key.algorithm as unknown as { length: number }).length, 256);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv },
    key,
    Buffer.from('warehouse'),
  );
  const opened = await crypto.subtle.decrypt({ name: 'AES-GCM', iv }, key, sealed);
  assert.is(Buffer.from(opened).toString(), 'warehouse');
});

test.run();
