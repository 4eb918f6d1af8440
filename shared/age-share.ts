import { bech32 } from '@scure/base';
import { createPublicKey, diffieHellman, generateKeyPairSync } from 'node:crypto';
import { decodeShareToken, ShareTokenError } from './share-token.ts';

const armorBegin = '-----BEGIN AGE ENCRYPTED FILE-----';
const armorEnd = '-----END AGE ENCRYPTED FILE-----';
const binaryHeader = 'age-encryption.org/v1\n';

/**
 * Why `recipient` (lowercase) is not an age X25519 recipient a share can be encrypted to, or
 * undefined when it is one. The reason never repeats the recipient.
 */
export function ageRecipientProblem(recipient: string): string | undefined {
  if (recipient.startsWith('ssh-')) {
    return 'is an SSH key: give an age recipient (age1...), as age-keygen prints it';
  }
  if (!recipient.startsWith('age1')) {
    return 'must be an age recipient: age1 followed by 58 letters and digits';
  }
  // bech32's separator is the last "1": plugin, tag and post-quantum recipients have a longer
  // prefix (age1yubikey1..., age1tag1..., age1pq1...).
  if (recipient.lastIndexOf('1') !== 3) {
    return 'must be an X25519 recipient (age1 and 58 letters and digits): plugin, tag and post-quantum recipients are not supported';
  }
  let publicKey: Uint8Array;
  try {
    const decoded = bech32.decodeToBytes(recipient);
    if (decoded.bytes.length !== 32) throw new Error('not a 32-byte key');
    publicKey = decoded.bytes;
  } catch {
    return 'is not a valid age recipient: its length or checksum is wrong';
  }
  // age refuses to encrypt to a low-order point, whose shared secret anyone can compute (RFC 7748
  // section 6.1): finding out here refuses the field rather than failing the ceremony.
  try {
    const { privateKey } = generateKeyPairSync('x25519');
    const key = { kty: 'OKP', crv: 'X25519', x: Buffer.from(publicKey).toString('base64url') };
    diffieHellman({ privateKey, publicKey: createPublicKey({ key, format: 'jwk' }) });
  } catch {
    return 'is not a usable X25519 public key';
  }
  return undefined;
}

/** Encrypts a share token to an age recipient and returns it ASCII-armored. */
export async function encryptShareToAge(token: string, recipient: string): Promise<string> {
  const { armor, Encrypter } = await loadAge();
  const encrypter = new Encrypter();
  encrypter.addRecipient(recipient);
  return armor.encode(await encrypter.encrypt(token));
}

// age-encryption, with its post-quantum code, is as large as the rest of generate-keys: it is
// loaded, as a chunk of its own, only by the first ceremony that has a custodian key.
const loadAge = () => import('age-encryption');

/** Why an age-encrypted share or an identity could not be used; the message is safe to print. */
export class AgeShareError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AgeShareError';
  }
}

/**
 * Reads the age identities of an identity file: one `AGE-SECRET-KEY-1...` a line, blank lines and
 * `#` comments allowed, as age-keygen writes it. A refusal names the line, never its content.
 */
export function parseAgeIdentities(text: string, fileName: string): string[] {
  const identities: string[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    if (!isAgeSecretKey(line)) {
      throw new AgeShareError(
        `line ${index + 1} of ${fileName} is not an age secret key (AGE-SECRET-KEY-1...)`,
      );
    }
    identities.push(line);
  });
  if (identities.length === 0) throw new AgeShareError(`${fileName} holds no age secret key`);
  return identities;
}

/**
 * Decrypts an age-encrypted share with the given identities and returns its share token. Takes
 * a binary age file, or text holding an armored block (a whole email pasted is fine).
 */
export async function openAgeShare(
  file: Uint8Array,
  identities: readonly string[],
): Promise<string> {
  const { Decrypter } = await loadAge();
  const decrypter = new Decrypter();
  for (const identity of identities) decrypter.addIdentity(identity);

  let token: string;
  try {
    token = await decrypter.decrypt(await readAgeFile(file), 'text');
  } catch (error) {
    if (error instanceof AgeShareError) throw error;
    if (/no identity matched/.test((error as Error).message)) {
      throw new AgeShareError(
        'none of the identities opens this share: it was encrypted to another age key, or altered',
      );
    }
    throw new AgeShareError('the age block is damaged or was altered');
  }

  token = token.trim();
  try {
    decodeShareToken(token);
  } catch (error) {
    if (error instanceof ShareTokenError) {
      throw new AgeShareError('the age block opened but holds no Trikey share');
    }
    throw error;
  }
  return token;
}

// X25519 and post-quantum hybrid identities, the two kinds age-encryption decrypts with.
function isAgeSecretKey(line: string): boolean {
  try {
    const { prefix, bytes } = bech32.decodeToBytes(line);
    return /^AGE-SECRET-KEY-(PQ-)?$/i.test(prefix) && bytes.length === 32;
  } catch {
    return false;
  }
}

async function readAgeFile(file: Uint8Array): Promise<Uint8Array> {
  const head = Buffer.from(file.subarray(0, binaryHeader.length)).toString('latin1');
  if (head === binaryHeader) return file;
  const text = Buffer.from(file).toString('utf8');
  const begin = text.indexOf(armorBegin);
  const end = text.indexOf(armorEnd, begin);
  if (begin < 0 || end < 0) {
    throw new AgeShareError(`no age encrypted block found: it starts with ${armorBegin}`);
  }
  // Mail clients may indent the block or add trailing spaces; the armor itself has neither.
  const block = text
    .slice(begin, end + armorEnd.length)
    .split(/\r?\n/)
    .map((line) => line.trim())
    .join('\n');
  const { armor } = await loadAge();
  try {
    return armor.decode(block);
  } catch {
    throw new AgeShareError('the age block is damaged: a line is missing or was changed');
  }
}
