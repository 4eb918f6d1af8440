import { createHash, webcrypto } from 'node:crypto';
import { combine, split } from 'shamir-secret-sharing';
import { decodeShareToken, keyIdBytes, tokenVersion, type ShareToken } from './share-token.ts';

/** Length of a ceremony key in bytes: AES-256. */
export const keyBytes = 32;

/** A key's public identifiers: safe to show, log and email. */
export interface KeyIdentity {
  /** 16 hex digits carried in every share token. */
  keyId: string;
  /** 64 hex digits that identify the key without revealing anything useful about it. */
  fingerprint: string;
}

/** Why shares could not be combined; the message is safe to print. */
export class CombineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CombineError';
  }
}

/** Draws a fresh 256-bit AES-GCM key from the platform CSPRNG (Web Crypto) as raw bytes. */
export async function generateCeremonyKey(): Promise<Uint8Array> {
  // An AES-256 key is 32 uniformly random bytes. Drawn straight into a buffer of our own, they
  // can be overwritten after use, which a CryptoKey held by Web Crypto's generateKey cannot, and
  // they skip its key object, which costs more than the draw itself.
  return webcrypto.getRandomValues(new Uint8Array(keyBytes));
}

// Each identifier hashes the key under its own label, so neither can be computed from the other
// and both are one-way: a SHA-256 preimage of a 256-bit random key is out of reach.
function labelledHash(label: string, key: Uint8Array): Buffer {
  return createHash('sha256').update(`trikey ${label} v1\0`).update(key).digest();
}

/** Derives the key id and fingerprint of a key. */
export function identifyKey(key: Uint8Array): KeyIdentity {
  return {
    keyId: labelledHash('key id', key).subarray(0, keyIdBytes).toString('hex'),
    fingerprint: labelledHash('fingerprint', key).toString('hex'),
  };
}

/**
 * Splits a key into `total` share tokens, any `threshold` of which rebuild it, using the audited
 * shamir-secret-sharing library. Token i (0-based) carries share number i + 1.
 */
export async function splitKey(
  key: Uint8Array,
  total: number,
  threshold: number,
): Promise<ShareToken[]> {
  const { keyId } = identifyKey(key);
  // The library checks `constructor === Uint8Array`, which a Buffer fails.
  const shares = await split(Uint8Array.from(key), total, threshold);
  return shares.map((share, index) => ({
    version: tokenVersion,
    keyId,
    threshold,
    total,
    shareNumber: index + 1,
    share,
  }));
}

/** A key rebuilt from shares, with its identity. */
export interface CombinedKey extends KeyIdentity {
  key: Uint8Array;
  threshold: number;
  total: number;
  /** Share numbers given that did not fit with the others and were left out. */
  setAside: number[];
}

/**
 * Checks share tokens, rebuilds the key and verifies it against the key id the shares carry
 * (and against `expectedFingerprint` when given). Throws a CombineError that says what is wrong.
 */
export async function combineShares(
  texts: string[],
  expectedFingerprint?: string,
): Promise<CombinedKey> {
  if (texts.length === 0) throw new CombineError('no shares given');
  const tokens = texts.map((text, index) => {
    try {
      return decodeShareToken(text);
    } catch (error) {
      throw new CombineError(`share ${index + 1} of the input: ${(error as Error).message}`);
    }
  });

  const first = tokens[0]!;
  for (const token of tokens) {
    if (token.keyId !== first.keyId) {
      throw new CombineError(
        `the shares belong to different keys (${first.keyId} and ${token.keyId}); ` +
          'give shares of one key only',
      );
    }
    if (token.threshold !== first.threshold || token.total !== first.total) {
      throw new CombineError(
        'the shares disagree on the threshold or the total: one is not genuine',
      );
    }
    if (token.share.length !== first.share.length) {
      throw new CombineError('the shares have different lengths: one is not genuine');
    }
  }
  assertDistinct(tokens);
  if (tokens.length < first.threshold) {
    throw new CombineError(
      `${tokens.length} share${tokens.length === 1 ? '' : 's'} given; key ${first.keyId} needs ` +
        `${first.threshold} of its ${first.total} shares`,
    );
  }

  let key = await combine(tokens.map((token) => token.share));
  let identity = identifyKey(key);
  let setAside: number[] = [];
  if (identity.keyId !== first.keyId) {
    key.fill(0);
    const found = await withoutMisfits(tokens, first.keyId);
    if (!found) {
      throw new CombineError(
        `the rebuilt key does not match key id ${first.keyId}: a share is corrupt or forged, ` +
          `and no ${first.threshold} of the shares given agree`,
      );
    }
    ({ key, setAside } = found);
    identity = identifyKey(key);
  }
  if (
    expectedFingerprint !== undefined &&
    normaliseHex(expectedFingerprint) !== identity.fingerprint
  ) {
    key.fill(0);
    throw new CombineError(
      `the rebuilt key has fingerprint ${identity.fingerprint}, not the one expected`,
    );
  }
  return { ...identity, key, threshold: first.threshold, total: first.total, setAside };
}

// Most subsets tried when the shares given do not agree: enough for every pair or triple of a
// ceremony of ordinary size, and a bound on the time a hostile input can cost.
const maxSubsetsTried = 5000;

/**
 * When more shares than the threshold are given and together they rebuild a key with the wrong
 * id, looks for `threshold` of them that rebuild the right one, then sets aside every share that
 * does not fit with those. Returns nothing when there is no such subset or too many to try.
 */
async function withoutMisfits(
  tokens: ShareToken[],
  keyId: string,
): Promise<{ key: Uint8Array; setAside: number[] } | undefined> {
  const threshold = tokens[0]!.threshold;
  if (tokens.length <= threshold) return undefined;
  let tried = 0;
  for (const subset of subsets(tokens.length, threshold)) {
    if (++tried > maxSubsetsTried) return undefined;
    const chosen = subset.map((index) => tokens[index]!);
    const key = await combine(chosen.map((token) => token.share));
    if (identifyKey(key).keyId !== keyId) {
      key.fill(0);
      continue;
    }
    const setAside: number[] = [];
    for (const token of tokens) {
      if (chosen.includes(token)) continue;
      const check = await combine([...chosen.slice(1), token].map((each) => each.share));
      if (identifyKey(check).keyId !== keyId) setAside.push(token.shareNumber);
      check.fill(0);
    }
    return { key, setAside };
  }
  return undefined;
}

// Every k-element subset of 0..n-1 as index lists, in lexicographic order.
function* subsets(n: number, k: number): Generator<number[]> {
  const indices = Array.from({ length: k }, (_, i) => i);
  for (;;) {
    yield [...indices];
    let i = k - 1;
    while (i >= 0 && indices[i] === n - k + i) i--;
    if (i < 0) return;
    indices[i]!++;
    for (let j = i + 1; j < k; j++) indices[j] = indices[j - 1]! + 1;
  }
}

function assertDistinct(tokens: ShareToken[]): void {
  const numbers = new Set<number>();
  const xCoordinates = new Set<number>();
  for (const token of tokens) {
    if (numbers.has(token.shareNumber)) {
      throw new CombineError(`share number ${token.shareNumber} is given twice`);
    }
    numbers.add(token.shareNumber);
    const x = token.share[token.share.length - 1]!;
    if (xCoordinates.has(x)) {
      throw new CombineError('two shares have the same x-coordinate: one is not genuine');
    }
    xCoordinates.add(x);
  }
}

function normaliseHex(text: string): string {
  return text.replace(/[\s:]/g, '').toLowerCase();
}
