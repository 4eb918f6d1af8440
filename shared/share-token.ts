import { bech32m } from '@scure/base';

/** Human-readable prefix of every share token; the `1` after it is bech32m's separator. */
export const tokenPrefix = 'trikey';

/** Version of the token layout below. */
export const tokenVersion = 1;

/** Length of a key id in bytes. */
export const keyIdBytes = 8;

/** A share of a ceremony key together with the facts needed to combine it. */
export interface ShareToken {
  version: number;
  /** Key id, 16 lowercase hex digits. */
  keyId: string;
  threshold: number;
  total: number;
  /** Position of the share among the custodians, 1..total. */
  shareNumber: number;
  /** The Shamir share: y values followed by the x-coordinate (shamir-secret-sharing's layout). */
  share: Uint8Array;
}

/** Why a token could not be read; the message is safe to print and never repeats the token. */
export class ShareTokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShareTokenError';
  }
}

// Layout of the payload: version, key id, threshold, total, share number, share bytes.
const headerBytes = 1 + keyIdBytes + 3;
// bech32m guarantees to detect up to 4 substituted characters in strings of at most 89
// characters (BIP 350); a 32-byte key's token is 85 characters. Longer secrets still decode.
const maxTokenLength = 1023;

/** Encodes a share as a `trikey1...` token (bech32m: lowercase letters and digits, checksummed). */
export function encodeShareToken(token: ShareToken): string {
  if (!/^[0-9a-f]{16}$/.test(token.keyId)) throw new RangeError('key id must be 16 hex digits');
  for (const field of ['version', 'threshold', 'total', 'shareNumber'] as const) {
    const value = token[field];
    if (!Number.isInteger(value) || value < 0 || value > 255) {
      throw new RangeError(`${field} must be a whole number from 0 to 255`);
    }
  }
  const payload = new Uint8Array(headerBytes + token.share.length);
  payload[0] = token.version;
  payload.set(Buffer.from(token.keyId, 'hex'), 1);
  payload[1 + keyIdBytes] = token.threshold;
  payload[2 + keyIdBytes] = token.total;
  payload[3 + keyIdBytes] = token.shareNumber;
  payload.set(token.share, headerBytes);
  return bech32m.encode(tokenPrefix, bech32m.toWords(payload), maxTokenLength);
}

/** Decodes and checks a token; throws a ShareTokenError that says what is wrong. */
export function decodeShareToken(text: string): ShareToken {
  const trimmed = text.trim();
  if (!trimmed.toLowerCase().startsWith(tokenPrefix + '1')) {
    throw new ShareTokenError(`it does not start with "${tokenPrefix}1"`);
  }
  let payload: Uint8Array;
  try {
    const decoded = bech32m.decode(trimmed as `${string}1${string}`, maxTokenLength);
    if (decoded.prefix !== tokenPrefix) throw new Error('prefix');
    payload = bech32m.fromWords(decoded.words);
  } catch {
    throw new ShareTokenError('its checksum does not match: it was mistyped or cut short');
  }
  if (payload.length < headerBytes + 2)
    throw new ShareTokenError('it is too short to hold a share');
  const token: ShareToken = {
    version: payload[0]!,
    keyId: Buffer.from(payload.subarray(1, 1 + keyIdBytes)).toString('hex'),
    threshold: payload[1 + keyIdBytes]!,
    total: payload[2 + keyIdBytes]!,
    shareNumber: payload[3 + keyIdBytes]!,
    share: payload.slice(headerBytes),
  };
  if (token.version !== tokenVersion) {
    throw new ShareTokenError(
      `it has format version ${token.version}; this trikey reads version 1`,
    );
  }
  if (token.threshold < 2 || token.total < token.threshold) {
    throw new ShareTokenError(
      `it claims threshold ${token.threshold} of ${token.total}, which is impossible`,
    );
  }
  if (token.shareNumber < 1 || token.shareNumber > token.total) {
    throw new ShareTokenError(
      `it claims share ${token.shareNumber} of ${token.total}, which is impossible`,
    );
  }
  if (token.share[token.share.length - 1] === 0) {
    throw new ShareTokenError('it has x-coordinate 0, which no genuine share has');
  }
  return token;
}

/**
 * Finds the share tokens in pasted text. Email clients wrap long lines and people paste tokens
 * with spaces or commas, so everything but letters and digits is dropped and the text is cut
 * before each `trikey1`, which no token's data can contain (bech32m has neither `i` nor `1`).
 * Lines starting with `#` are comments.
 */
export function extractShareTokens(text: string): string[] {
  const kept = text
    .split(/\r?\n/)
    .filter((line) => !line.trim().startsWith('#'))
    .join('')
    .replace(/[^A-Za-z0-9]/g, '');
  return kept.split(new RegExp(`(?=${tokenPrefix}1)`, 'i')).filter(Boolean);
}
