import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** A transport key shared by generate-keys and dispatch-email, named so it can be rotated. */
export interface TransportKey {
  id: string;
  key: Buffer;
}

/** The event attributes a seal is bound to: it opens only on the event it was made for. */
export interface SealBinding {
  id: string;
  type: string;
  source: string;
  subject?: string;
}

/** A seal that would not open; the message is safe to log and never holds sealed content. */
export class SealError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SealError';
  }
}

const sealVersion = 'v1';
const ivBytes = 12;
const tagBytes = 16;

/**
 * Parses `TRIKEY_TRANSPORT_KEYS`: comma-separated `id:base64` entries, each a 256-bit key. The
 * first seals; every one opens. Throws a plain Error whose message never repeats a key.
 */
export function parseTransportKeys(text: string): TransportKey[] {
  const entries = text
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  if (entries.length === 0) throw new Error('needs at least one id:base64 key');
  const keys = entries.map((entry, index) => {
    const match = /^([A-Za-z0-9_-]{1,32}):([A-Za-z0-9+/_-]{43}=?)$/.exec(entry);
    if (!match) {
      throw new Error(
        `entry ${index + 1} is not id:base64 with a 256-bit key (trikey keygen makes one)`,
      );
    }
    return { id: match[1]!, key: Buffer.from(match[2]!, 'base64') };
  });
  const ids = new Set(keys.map((key) => key.id));
  if (ids.size !== keys.length) throw new Error('two keys have the same id');
  return keys;
}

/** Makes a new transport key entry, `id:base64`, for `TRIKEY_TRANSPORT_KEYS`. */
export function newTransportKeyEntry(): string {
  return `${randomBytes(4).toString('hex')}:${randomBytes(32).toString('base64')}`;
}

function associatedData(keyId: string, binding: SealBinding): Buffer {
  const parts = ['trikey-seal', sealVersion, keyId, binding.type, binding.source, binding.id];
  return Buffer.from(JSON.stringify([...parts, binding.subject ?? '']));
}

/** Seals JSON content with AES-256-GCM under the first transport key, bound to the event. */
export function seal(
  content: unknown,
  binding: SealBinding,
  keys: readonly TransportKey[],
): string {
  const transport = keys[0];
  if (!transport) throw new Error('no transport key configured');
  const iv = randomBytes(ivBytes);
  const cipher = createCipheriv('aes-256-gcm', transport.key, iv, { authTagLength: tagBytes });
  cipher.setAAD(associatedData(transport.id, binding));
  const plaintext = Buffer.from(JSON.stringify(content), 'utf8');
  const sealed = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  plaintext.fill(0);
  return [sealVersion, transport.id, iv.toString('base64url'), sealed.toString('base64url')].join(
    '.',
  );
}

// Node's decoder also takes `+`, `/` and stray bits in the last character, so that several
// texts decode to one seal; only the canonical spelling is accepted.
function strictBase64url(text: string): Buffer {
  const bytes = Buffer.from(text, 'base64url');
  if (bytes.toString('base64url') !== text) throw new SealError('the seal is malformed');
  return bytes;
}

/**
 * Opens a seal made for this very event with whichever configured key it names. Throws a
 * SealError when the seal is malformed, names an unknown key, was made for another event or
 * was altered.
 */
export function openSeal(
  text: string,
  binding: SealBinding,
  keys: readonly TransportKey[],
): unknown {
  const parts = text.split('.');
  if (parts.length !== 4 || parts[0] !== sealVersion) throw new SealError('the seal is malformed');
  const [, keyId, ivText, sealedText] = parts as [string, string, string, string];
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(keyId)) throw new SealError('the seal is malformed');
  const transport = keys.find((key) => key.id === keyId);
  if (!transport)
    throw new SealError(`the seal names transport key "${keyId}", which is not configured`);
  const iv = strictBase64url(ivText);
  const sealed = strictBase64url(sealedText);
  if (iv.length !== ivBytes || sealed.length <= tagBytes)
    throw new SealError('the seal is malformed');

  const decipher = createDecipheriv('aes-256-gcm', transport.key, iv, { authTagLength: tagBytes });
  decipher.setAAD(associatedData(transport.id, binding));
  decipher.setAuthTag(sealed.subarray(sealed.length - tagBytes));
  let plaintext: Buffer;
  try {
    plaintext = Buffer.concat([
      decipher.update(sealed.subarray(0, sealed.length - tagBytes)),
      decipher.final(),
    ]);
  } catch {
    throw new SealError('the seal does not open: it was altered, or made for another event or key');
  }
  try {
    return JSON.parse(plaintext.toString('utf8'));
  } finally {
    plaintext.fill(0);
  }
}
