import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AddressError, formatMailbox, toMailableAddress } from './mailbox.ts';

const isAddressError = (error: Error) => error instanceof AddressError;

const decodeWords = (text: string) =>
  [...text.matchAll(/=\?UTF-8\?B\?([A-Za-z0-9+/=]+)\?=/g)]
    .map((match) => Buffer.from(match[1]!, 'base64').toString('utf8'))
    .join('');

test('converts an internationalised domain to ASCII and lowercases it', () => {
  assert.is(toMailableAddress('ana@München.de'), 'ana@xn--mnchen-3ya.de');
  assert.is(toMailableAddress('ana@例え.テスト'), 'ana@xn--r8jz45g.xn--zckzah');
  assert.is(toMailableAddress('Ana.Ruiz+keys@Example.COM'), 'Ana.Ruiz+keys@example.com');
});

test('refuses addresses no mail system delivers', () => {
  const refused = [
    'ana@localhost',
    'ana@[192.168.0.1]',
    'ana@10.0.0.1',
    'ana@-bad.example.com',
    `ana@${'a'.repeat(64)}.com`,
    'añá@example.com',
    'a..b@example.com',
    '@example.com',
    'ana@',
    `${'a'.repeat(65)}@example.com`,
    'ana@exa mple.com',
  ];
  for (const address of refused) {
    assert.throws(() => toMailableAddress(address), isAddressError, address);
  }
});

test('keeps a plain ASCII display name and quotes one with specials', () => {
  assert.is(formatMailbox('Ana Ruiz', 'ana@example.com'), 'Ana Ruiz <ana@example.com>');
  assert.is(
    formatMailbox('Ruiz, "Ana" \\ Ops', 'ana@example.com'),
    '"Ruiz, \\"Ana\\" \\\\ Ops" <ana@example.com>',
  );
  assert.is(formatMailbox('  ', 'ana@example.com'), 'ana@example.com');
});

test('encodes a non-ASCII display name as RFC 2047 words of at most 75 characters', () => {
  const name = 'Luis Gómez Ñandú 😀 '.repeat(4).trim();
  const mailbox = formatMailbox(name, 'luis@example.com');
  assert.ok(mailbox.endsWith(' <luis@example.com>'));
  assert.ok(/^[\x20-\x7e]+$/.test(mailbox), 'the header is ASCII');
  const words = mailbox.slice(0, -' <luis@example.com>'.length).split(' ');
  assert.ok(words.length > 1);
  for (const word of words) assert.ok(word.length <= 75, word);
  assert.is(decodeWords(mailbox), name);
});

test('refuses an address that would break the header', () => {
  assert.throws(
    () => formatMailbox('Eve', 'eve@example.com>\r\nBcc: x@example.com'),
    isAddressError,
  );
  assert.throws(() => formatMailbox('Eve', 'eve@München.de'), isAddressError);
});

test.run();
