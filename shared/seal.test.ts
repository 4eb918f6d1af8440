import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EventSources, EventTypes } from './event-types.ts';
import {
  newTransportKeyEntry,
  openSeal,
  parseTransportKeys,
  seal,
  SealError,
  type SealBinding,
} from './seal.ts';

const oldKeyText = Buffer.alloc(32, 0x11).toString('base64');
const newKeyText = Buffer.from(Array.from({ length: 32 }, (_, index) => index * 7)).toString(
  'base64',
);
const [oldKey] = parseTransportKeys(`old:${oldKeyText}`);
const [newKey] = parseTransportKeys(`new:${newKeyText}`);
const sameIdOtherKey = { id: 'old', key: Buffer.alloc(32, 0x22) };
const binding: SealBinding = {
  id: '6f1c2a9e-share-3',
  type: EventTypes.shareIssued,
  source: EventSources.generateKeys,
  subject: 'ceremony-42',
};
const marker = 'MARKER-do-not-leak-7c1e';
const content = { share: `trikey1${marker}`, custodian: 'ada@example.org', shareNumber: 3 };
const base64urlDigits = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function refusalOf(text: string, against: SealBinding, keys = [oldKey!]): string {
  try {
    openSeal(text, against, keys);
  } catch (error) {
    assert.instance(error, SealError);
    return (error as SealError).message;
  }
  throw new Error('the seal opened');
}

function parseRefusalOf(text: string): string {
  try {
    parseTransportKeys(text);
  } catch (error) {
    assert.instance(error, Error);
    return (error as Error).message;
  }
  throw new Error('the keys were accepted');
}

test('opens a seal into the content it sealed', () => {
  const sealed = seal(content, binding, [oldKey!]);

  assert.equal(openSeal(sealed, binding, [oldKey!]), content);
});

test('writes the version, the key id, the iv and the sealed bytes', () => {
  assert.match(
    seal(content, binding, [oldKey!]),
    /^v1\.old\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{60,}$/,
  );
});

test('seals the same content differently every time', () => {
  assert.is.not(seal(content, binding, [oldKey!]), seal(content, binding, [oldKey!]));
});

test('never writes the content into the seal', () => {
  const sealed = seal(content, binding, [oldKey!]);
  const encoded = Buffer.from(JSON.stringify(content)).toString('base64url');

  assert.not.ok(sealed.includes(marker));
  assert.not.ok(sealed.includes(encoded.slice(0, 24)));
});

test('refuses to open for an event with another id, type, source or subject', () => {
  const sealed = seal(content, binding, [oldKey!]);
  const others: SealBinding[] = [
    { ...binding, id: '6f1c2a9e-share-4' },
    { ...binding, type: EventTypes.shareDelivered },
    { ...binding, source: EventSources.dispatchEmail },
    { ...binding, subject: 'ceremony-43' },
    { ...binding, subject: undefined },
  ];
  for (const other of others) {
    assert.match(refusalOf(sealed, other), /does not open: it was altered, or made for another/);
  }
});

test('refuses a seal with any one character changed, including non-canonical spellings', () => {
  const sealed = seal(content, binding, [oldKey!]);
  const alphabet = base64urlDigits + '+/=.';
  for (let index = 0; index < sealed.length; index++) {
    for (const replacement of alphabet) {
      if (replacement === sealed[index]) continue;
      const altered = sealed.slice(0, index) + replacement + sealed.slice(index + 1);
      assert.match(
        refusalOf(altered, binding),
        /malformed|not configured|does not open/,
        `${replacement} at ${index}`,
      );
    }
  }
});

test('refuses to open with another key under the same id', () => {
  const sealed = seal(content, binding, [oldKey!]);

  assert.match(refusalOf(sealed, binding, [sameIdOtherKey]), /does not open/);
});

test('refuses a seal that names a key not configured', () => {
  const sealed = seal(content, binding, [oldKey!]);

  assert.is(
    refusalOf(sealed, binding, [newKey!]),
    'the seal names transport key "old", which is not configured',
  );
});

test('opens a seal made with the old key after the new key is put first', () => {
  const sealed = seal(content, binding, [oldKey!]);

  assert.equal(openSeal(sealed, binding, [newKey!, oldKey!]), content);
});

test('seals with the first key once keys are rotated', () => {
  const sealed = seal(content, binding, [newKey!, oldKey!]);

  assert.ok(sealed.startsWith('v1.new.'));
  assert.match(refusalOf(sealed, binding, [oldKey!]), /"new", which is not configured/);
});

test('reads comma-separated id:base64 keys in order', () => {
  const keys = parseTransportKeys(` new:${newKeyText} ,old:${oldKeyText.replace(/=$/, '')},`);

  assert.equal(
    keys.map((each) => each.id),
    ['new', 'old'],
  );
  assert.equal(keys[0]!.key, Buffer.from(newKeyText, 'base64'));
  assert.equal(keys[1]!.key, Buffer.alloc(32, 0x11));
});

test('refuses an empty list of keys', () => {
  for (const empty of ['', '  ', ' , ,']) {
    assert.is(parseRefusalOf(empty), 'needs at least one id:base64 key');
  }
});

test('refuses a key shorter than 256 bits', () => {
  const short = Buffer.alloc(16, 0x33).toString('base64');

  assert.match(parseRefusalOf(`k:${short}`), /^entry 1 is not id:base64 with a 256-bit key/);
  assert.match(parseRefusalOf(`old:${oldKeyText},k:${short}`), /^entry 2 is not id:base64/);
});

test('refuses two keys with the same id', () => {
  assert.is(parseRefusalOf(`old:${oldKeyText},old:${newKeyText}`), 'two keys have the same id');
});

test('never repeats key material in an error message', () => {
  const short = Buffer.alloc(31, 0x44).toString('base64');
  const bad = [`k:${short}`, `old:${oldKeyText},old:${newKeyText}`, `k;${newKeyText}`, newKeyText];
  for (const text of bad) {
    const message = parseRefusalOf(text);
    for (const material of [short, oldKeyText, newKeyText]) {
      assert.not.ok(message.includes(material.slice(0, 12)), `"${message}" repeats a key`);
    }
  }
});

test('makes new transport key entries that parse', () => {
  const first = newTransportKeyEntry();
  const [parsed] = parseTransportKeys(first);

  assert.match(parsed!.id, /^[0-9a-f]{8}$/);
  assert.is(parsed!.key.length, 32);
  assert.is(`${parsed!.id}:${parsed!.key.toString('base64')}`, first);
  assert.is.not(newTransportKeyEntry(), first);
});

test.run();
