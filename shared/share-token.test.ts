import { bech32m } from '@scure/base';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  decodeShareToken,
  encodeShareToken,
  extractShareTokens,
  ShareTokenError,
  type ShareToken,
} from './share-token.ts';

const bech32Charset = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const prefix = 'trikey1';

// A share as shamir-secret-sharing lays it out for a 32-byte key: 32 y values, then x.
function shareBytes(leading: number[], fill: number, x: number): Uint8Array {
  const ys = Array.from({ length: 32 }, (_, index) => leading[index] ?? (fill + index * 37) & 0xff);
  return Uint8Array.from([...ys, x]);
}

const firstOfThree: ShareToken = {
  version: 1,
  keyId: '0123456789abcdef',
  threshold: 2,
  total: 3,
  shareNumber: 1,
  share: shareBytes([], 11, 17),
};
const leadingZeros: ShareToken = {
  version: 1,
  keyId: '0000000000000000',
  threshold: 3,
  total: 5,
  shareNumber: 4,
  share: shareBytes([0, 0, 0], 5, 201),
};
const lastOfFive: ShareToken = {
  version: 1,
  keyId: 'ffffffffffffffff',
  threshold: 5,
  total: 5,
  shareNumber: 5,
  share: shareBytes([255, 0, 255], 250, 255),
};
const text = encodeShareToken(firstOfThree);
const dataPart = text.slice(prefix.length);

/** Decodes `input`, expecting a ShareTokenError, and returns its message. */
function refusalOf(input: string): string {
  try {
    decodeShareToken(input);
  } catch (error) {
    assert.instance(error, ShareTokenError);
    return (error as ShareTokenError).message;
  }
  throw new Error('the token was accepted');
}

function replaceAt(input: string, index: number, character: string): string {
  return input.slice(0, index) + character + input.slice(index + 1);
}

const badTokens = {
  truncated: text.slice(0, -1),
  halved: text.slice(0, 40),
  wrongPrefix: 'bitkey1' + dataPart,
  otherValidPrefix: bech32m.encode('trikex', bech32m.decode(text as `${string}1${string}`).words),
  versionTwo: encodeShareToken({ ...firstOfThree, version: 2 }),
  thresholdAboveTotal: encodeShareToken({ ...firstOfThree, threshold: 4, total: 3 }),
  thresholdOne: encodeShareToken({ ...firstOfThree, threshold: 1 }),
  shareNumberZero: encodeShareToken({ ...firstOfThree, shareNumber: 0 }),
  shareNumberAboveTotal: encodeShareToken({ ...firstOfThree, shareNumber: 4 }),
  xCoordinateZero: encodeShareToken({ ...firstOfThree, share: shareBytes([], 11, 0) }),
  oneByteShare: encodeShareToken({ ...firstOfThree, share: Uint8Array.of(9) }),
};

test('round-trips every field of a share', () => {
  for (const token of [firstOfThree, leadingZeros, lastOfFive]) {
    assert.equal(decodeShareToken(encodeShareToken(token)), token);
  }
});

test('keeps the leading zero bytes of a share', () => {
  const decoded = decodeShareToken(encodeShareToken(leadingZeros));

  assert.is(decoded.share.length, 33);
  assert.equal([...decoded.share.subarray(0, 4)], [0, 0, 0, leadingZeros.share[3]]);
  assert.is(decoded.keyId, '0000000000000000');
});

test('writes trikey1 and lowercase letters and digits, 85 characters for a 32-byte key', () => {
  for (const token of [firstOfThree, leadingZeros, lastOfFive]) {
    const encoded = encodeShareToken(token);

    assert.match(encoded, /^trikey1[02-9ac-hj-np-z]+$/);
    assert.is(encoded.length, 85);
  }
});

test('ignores whitespace around a token', () => {
  assert.equal(decodeShareToken(`  ${text}\n`), firstOfThree);
});

test('refuses every single-character substitution after the prefix', () => {
  const accepted: string[] = [];
  let tried = 0;
  for (let index = prefix.length; index < text.length; index++) {
    for (const character of bech32Charset) {
      if (character === text[index]) continue;
      tried++;
      const message = refusalOf(replaceAt(text, index, character));
      if (!/checksum does not match/.test(message)) accepted.push(`${index}:${character}`);
    }
  }

  assert.equal(accepted, []);
  assert.is(tried, (text.length - prefix.length) * 31);
});

test('refuses a token with one character in upper case', () => {
  let tried = 0;
  for (let index = 0; index < text.length; index++) {
    const upper = text[index]!.toUpperCase();
    if (upper === text[index]) continue;
    tried++;
    assert.match(refusalOf(replaceAt(text, index, upper)), /checksum does not match/);
  }

  assert.ok(tried > 40, `only ${tried} letters in the token`);
});

test('accepts a token written wholly in upper case, as bech32m allows', () => {
  assert.equal(decodeShareToken(text.toUpperCase()), firstOfThree);
});

test('refuses a truncated token', () => {
  assert.match(refusalOf(badTokens.truncated), /checksum does not match: .*cut short/);
  assert.match(refusalOf(badTokens.halved), /checksum does not match: .*cut short/);
  assert.match(refusalOf(prefix), /checksum does not match/);
});

test('refuses a token too short to hold a share', () => {
  assert.is(refusalOf(badTokens.oneByteShare), 'it is too short to hold a share');
});

test('refuses a token with another prefix', () => {
  assert.is(refusalOf(badTokens.wrongPrefix), 'it does not start with "trikey1"');
  assert.is(refusalOf(badTokens.otherValidPrefix), 'it does not start with "trikey1"');
  assert.is(refusalOf(''), 'it does not start with "trikey1"');
});

test('refuses format version 2', () => {
  assert.is(
    refusalOf(badTokens.versionTwo),
    'it has format version 2; this trikey reads version 1',
  );
});

test('refuses a threshold above the total or below 2', () => {
  assert.match(
    refusalOf(badTokens.thresholdAboveTotal),
    /claims threshold 4 of 3, which is impossible/,
  );
  assert.match(refusalOf(badTokens.thresholdOne), /claims threshold 1 of 3, which is impossible/);
});

test('refuses share number 0 and a share number above the total', () => {
  assert.match(refusalOf(badTokens.shareNumberZero), /claims share 0 of 3, which is impossible/);
  assert.match(
    refusalOf(badTokens.shareNumberAboveTotal),
    /claims share 4 of 3, which is impossible/,
  );
});

test('refuses a share with x-coordinate 0', () => {
  assert.is(
    refusalOf(badTokens.xCoordinateZero),
    'it has x-coordinate 0, which no genuine share has',
  );
});

test('never repeats the token in an error message', () => {
  const bad = [...Object.values(badTokens), replaceAt(text, 30, text[30] === 'q' ? 'p' : 'q')];
  for (const input of bad) {
    const message = refusalOf(input);
    const body = input.slice(prefix.length);
    for (let index = 0; index + 8 <= body.length; index++) {
      assert.not.ok(
        message.includes(body.slice(index, index + 8)),
        `"${message}" repeats the token`,
      );
    }
  }
});

test('refuses to encode a key id that is not 16 hex digits', () => {
  assert.throws(() => encodeShareToken({ ...firstOfThree, keyId: '0123' }), /16 hex digits/);
  assert.throws(() => encodeShareToken({ ...firstOfThree, keyId: '0123456789ABCDEF' }), /16 hex/);
});

test('refuses to encode a field that does not fit in a byte', () => {
  assert.throws(() => encodeShareToken({ ...firstOfThree, threshold: 256 }), /threshold/);
  assert.throws(() => encodeShareToken({ ...firstOfThree, shareNumber: -1 }), /shareNumber/);
  assert.throws(() => encodeShareToken({ ...firstOfThree, total: 2.5 }), /total/);
});

test('finds tokens in pasted text: wrapped, spaced, quoted, with commas and comments', () => {
  const a = encodeShareToken(firstOfThree);
  const b = encodeShareToken(leadingZeros);
  const text = `# from Ana's email\n> ${a.slice(0, 33)}\n> ${a.slice(33)}, ${b.slice(0, 10)} ${b.slice(10)}\n`;
  assert.equal(extractShareTokens(text), [a, b]);
  assert.equal(extractShareTokens(a.toUpperCase()), [a.toUpperCase()]);
  assert.equal(extractShareTokens('  \n# only a comment\n'), []);
});

test.run();
