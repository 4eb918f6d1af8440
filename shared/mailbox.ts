import { domainToASCII } from 'node:url';

/** Why an address cannot be mailed; the message names what is wrong, never the whole input. */
export class AddressError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AddressError';
  }
}

// RFC 5322 3.2.3 dot-atom of the local part, ASCII only: SES takes no UTF-8 local parts.
const localPart = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
// RFC 1035 2.3.1 letters, digits and hyphens, after IDNA (UTS #46) conversion.
const label = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * Checks an address and returns the form SES takes: the local part as given (ASCII), the domain
 * lowercased and, when it is internationalised, converted to ASCII (Punycode) by Node's UTS #46
 * implementation. Refuses what no mail system would deliver: no dot in the domain, an IP literal,
 * a label over 63 characters, a numeric top-level domain, more than 254 characters.
 */
export function toMailableAddress(address: string): string {
  const at = address.lastIndexOf('@');
  if (at < 1 || at === address.length - 1) throw new AddressError('must be local@domain');
  const local = address.slice(0, at);
  if (local.length > 64) throw new AddressError('has a local part over 64 characters');
  if (!localPart.test(local)) {
    throw new AddressError('has a local part with characters mail cannot carry (ASCII only)');
  }
  const domain = domainToASCII(address.slice(at + 1));
  const labels = domain.split('.');
  if (!domain || labels.length < 2 || !labels.every((each) => label.test(each))) {
    throw new AddressError('has a domain that is not a mail domain such as example.com');
  }
  if (/^\d+$/.test(labels.at(-1)!)) throw new AddressError('has an IP address, not a domain');
  const mailable = `${local}@${domain}`;
  if (mailable.length > 254) throw new AddressError('is over 254 characters');
  return mailable;
}

// RFC 5322 3.2.3 atext: a display name made only of these words needs no quoting.
const atext = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~ -]+$/;

/**
 * A mailbox (RFC 5322 3.4, `Name <address>`) with its display name made safe for a header: kept
 * as it is when it is plain ASCII words, quoted when it holds other ASCII, and encoded as RFC 2047
 * words when it is not ASCII. The address must already be mailable.
 */
export function formatMailbox(name: string, address: string): string {
  if (/[\r\n<>]/.test(address) || address !== toMailableAddress(address)) {
    throw new AddressError('is not a mailable address');
  }
  const trimmed = name.trim();
  if (!trimmed) return address;
  return `${displayName(trimmed)} <${address}>`;
}

function displayName(name: string): string {
  if (atext.test(name)) return name;
  // Printable ASCII: an RFC 5322 quoted-string, with its two specials escaped.
  if (/^[\x20-\x7e]+$/.test(name)) return `"${name.replace(/["\\]/g, (c) => `\\${c}`)}"`;
  return encodedWords(name);
}

// RFC 2047 "B" encoded words of UTF-8, each at most 75 characters (section 2), cut between
// characters so that no word holds half of one. Written here because the library that does it
// (libmime) brings iconv-lite's charset tables, 680 KB, into a mailer whose bundle is kept small.
function encodedWords(text: string): string {
  const words: string[] = [];
  const maxBytes = 45; // 60 base64 characters plus the 12 of =?UTF-8?B?...?= stay under 75.
  let chunk = '';
  for (const character of text) {
    if (Buffer.byteLength(chunk + character) > maxBytes) {
      words.push(chunk);
      chunk = '';
    }
    chunk += character;
  }
  if (chunk) words.push(chunk);
  return words.map((word) => `=?UTF-8?B?${Buffer.from(word).toString('base64')}?=`).join(' ');
}
