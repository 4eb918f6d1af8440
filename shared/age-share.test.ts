import { Encrypter, generateIdentity, identityToRecipient } from 'age-encryption';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  AgeShareError,
  ageRecipientProblem,
  encodeShareToken,
  encryptShareToAge,
  openAgeShare,
  parseAgeIdentities,
  splitKey,
} from './index.ts';

const identity = await generateIdentity();
const recipient = await identityToRecipient(identity);
const otherIdentity = await generateIdentity();
const [share] = await splitKey(new Uint8Array(32).fill(4), 2, 2);
const token = encodeShareToken(share!);
const armored = await encryptShareToAge(token, recipient);
const bytes = (text: string) => Buffer.from(text);

async function refusal(file: Uint8Array, identities = [identity]): Promise<string> {
  try {
    await openAgeShare(file, identities);
  } catch (error) {
    assert.instance(error, AgeShareError);
    return (error as Error).message;
  }
  throw new Error('expected a refusal');
}

test('accepts an X25519 recipient as age-keygen prints it', () => {
  assert.is(ageRecipientProblem(recipient), undefined);
});

test('encrypts a share token to an armored block that opens to it', async () => {
  assert.match(armored, /^-----BEGIN AGE ENCRYPTED FILE-----\n[A-Za-z0-9+/=\n]+-----END AGE/);
  assert.not.ok(armored.includes(token));
  assert.is(await openAgeShare(bytes(armored), [otherIdentity, identity]), token);
});

test('finds the block in a pasted email, indented, with CRLF line ends', async () => {
  const indented = armored
    .split('\n')
    .map((line) => `    ${line}  `)
    .join('\r\n');
  const email = `Hello Luis,\r\n\r\nYour share:\r\n${indented}\r\nThanks`;
  assert.is(await openAgeShare(bytes(email), [identity]), token);
});

test('opens a binary age file too', async () => {
  const encrypter = new Encrypter();
  encrypter.addRecipient(recipient);
  assert.is(await openAgeShare(await encrypter.encrypt(token), [identity]), token);
});

test('refuses a block for another key, a damaged block and no block', async () => {
  assert.match(await refusal(bytes(armored), [otherIdentity]), /encrypted to another age key/);
  const lines = armored.split('\n');
  lines[2] = lines[2]!.slice(0, 10) + (lines[2]![10] === 'A' ? 'B' : 'A') + lines[2]!.slice(11);
  // Depending on where the changed character falls, the armor or the age header stops reading.
  assert.match(await refusal(bytes(lines.join('\n'))), /damaged|altered/);
  lines[1] = lines[1]!.slice(0, 60);
  assert.match(await refusal(bytes(lines.join('\n'))), /damaged: a line is missing/);
  assert.match(await refusal(bytes(token)), /no age encrypted block found/);
});

test('refuses a block that holds something other than a share', async () => {
  const notAShare = await encryptShareToAge('hello', recipient);
  assert.match(await refusal(bytes(notAShare)), /holds no Trikey share/);
});

test('reads identity files with comments and blank lines', () => {
  const file = `# created: 2027-01-01\r\n# public key: ${recipient}\r\n\r\n${identity}\r\n`;
  assert.equal(parseAgeIdentities(file, 'key.txt'), [identity]);
});

test('refuses a line that is not a secret key without repeating it', () => {
  const broken = identity.slice(0, -1) + (identity.endsWith('Q') ? 'P' : 'Q');
  for (const line of [broken, recipient, 'AGE-PLUGIN-YUBIKEY-1QQQ']) {
    assert.throws(
      () => parseAgeIdentities(`# mine\n${line}\n`, 'key.txt'),
      (error: unknown) =>
        error instanceof AgeShareError &&
        error.message === 'line 2 of key.txt is not an age secret key (AGE-SECRET-KEY-1...)',
    );
  }
  assert.throws(() => parseAgeIdentities('# nothing\n', 'empty.txt'), /holds no age secret key/);
});

test.run();
