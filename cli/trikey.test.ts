import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  decodeShareToken,
  encodeShareToken,
  encryptShareToAge,
  identifyKey,
  parseTransportKeys,
  splitKey,
} from '../shared/index.ts';
import { buildTrikeyCli, trikey, type Run } from './test-cli.ts';

const key = Uint8Array.from({ length: 32 }, (_, index) => (index * 41 + 3) & 0xff);
const keyBase64 = Buffer.from(key).toString('base64');
const { keyId, fingerprint } = identifyKey(key);
const tokens = (await splitKey(key, 5, 3)).map(encodeShareToken);
const otherTokens = (await splitKey(new Uint8Array(32).fill(9), 5, 3)).map(encodeShareToken);
// Share 4 with one byte altered and a valid checksum: its key id is right, its value is not.
const alteredFourth = (() => {
  const share = decodeShareToken(tokens[3]!);
  share.share[5]! ^= 0x10;
  return encodeShareToken(share);
})();
const tempDir = mkdtempSync(join(tmpdir(), 'trikey-cli-test-'));
const identity = await generateIdentity();
const otherIdentity = await generateIdentity();
const sealedFirst = await encryptShareToAge(tokens[0]!, await identityToRecipient(identity));
const identityFile = join(tempDir, 'key.txt');
const otherIdentityFile = join(tempDir, 'other-key.txt');
const sealedFile = join(tempDir, 'share.age');
writeFileSync(identityFile, `# age-keygen\n${identity}\n`);
writeFileSync(otherIdentityFile, `${otherIdentity}\n`);
writeFileSync(sealedFile, sealedFirst);

/** Checks that a run was refused with `status` and `message`, and leaked no key or share. */
function assertRefused(run: Run, status: number, message: RegExp): void {
  assert.is(run.status, status, run.stderr);
  assert.match(run.stderr, message);
  assert.is(run.stdout, '');
  for (const secret of [keyBase64, ...tokens, ...otherTokens]) {
    assert.not.ok(run.stderr.includes(secret.slice(-30)), 'stderr repeats key material');
  }
}

test.before(buildTrikeyCli);

test.after(() => {
  rmSync(tempDir, { recursive: true, force: true });
});

test('prints the rebuilt key on stdout and its fingerprint on stderr', () => {
  const run = trikey(['combine', tokens[4]!, tokens[0]!, tokens[2]!]);

  assert.is(run.status, 0, run.stderr);
  assert.is(run.stdout, `${keyBase64}\n`);
  assert.is(run.stderr, `key id ${keyId}, 3 of 5 shares needed\nfingerprint ${fingerprint}\n`);
});

test('prints key id, fingerprint and key as JSON with --json', () => {
  const run = trikey(['combine', '--json', ...tokens.slice(1, 4)]);

  assert.is(run.status, 0, run.stderr);
  assert.equal(JSON.parse(run.stdout), { keyId, fingerprint, key: keyBase64 });
});

test('reads tokens one per line from stdin, skipping blank lines and spaces', () => {
  const input = `\n  ${tokens[1]}  \n\n\t${tokens[3]}\r\n ${tokens[4]}\n\n`;
  const run = trikey(['combine'], input);

  assert.is(run.status, 0, run.stderr);
  assert.is(run.stdout, `${keyBase64}\n`);
});

test('reads tokens wrapped over lines, split by spaces, or separated by commas', () => {
  const [a, b, c] = [tokens[0]!, tokens[1]!, tokens[3]!];
  const wrapped = `${a.slice(0, 40)}\n${a.slice(40)}\n> ${b.slice(0, 30)} ${b.slice(30)},${c}\n`;
  const run = trikey(['combine'], wrapped);

  assert.is(run.status, 0, run.stderr);
  assert.is(run.stdout, `${keyBase64}\n`);
});

test('refuses --out or --fingerprint followed by a share instead of a value', () => {
  assertRefused(
    trikey(['combine', '--out', tokens[0]!, tokens[1]!, tokens[2]!]),
    2,
    /--out needs a file name/,
  );
  assertRefused(
    trikey(['combine', '--fingerprint', tokens[0]!, tokens[1]!, tokens[2]!]),
    2,
    /--fingerprint needs the 64 hex digits/,
  );
});

test('rebuilds from the shares that agree and warns of one that was altered', () => {
  const run = trikey(['combine', tokens[0]!, tokens[1]!, tokens[2]!, alteredFourth]);
  assert.is(run.status, 0, run.stderr);
  assert.is(run.stdout, `${keyBase64}\n`);
  assert.match(run.stderr, /warning: share 4 did not fit with the others/);
});

test('writes the key to a new file with mode 600 and not to stdout with --out', () => {
  const file = join(tempDir, 'key.b64');
  const run = trikey(['combine', '--out', file, ...tokens.slice(0, 3)]);

  assert.is(run.status, 0, run.stderr);
  assert.is(run.stdout, '');
  assert.not.ok(run.stderr.includes(keyBase64));
  assert.is(readFileSync(file, 'utf8'), `${keyBase64}\n`);
  assert.is(statSync(file).mode & 0o777, 0o600);
});

test('leaves the key out of the JSON when it goes to a file', () => {
  const file = join(tempDir, 'key-json.b64');
  const run = trikey(['combine', '--json', '--out', file, ...tokens.slice(0, 3)]);

  assert.is(run.status, 0, run.stderr);
  assert.equal(JSON.parse(run.stdout), { keyId, fingerprint, file });
  assert.is(readFileSync(file, 'utf8'), `${keyBase64}\n`);
});

test('refuses to overwrite an existing file', () => {
  const file = join(tempDir, 'existing.b64');
  writeFileSync(file, 'keep me\n');
  const run = trikey(['combine', '--out', file, ...tokens.slice(0, 3)]);

  assertRefused(run, 1, /cannot write .*existing\.b64: it already exists/);
  assert.is(readFileSync(file, 'utf8'), 'keep me\n');
});

test('refuses too few shares and says how many are needed', () => {
  const run = trikey(['combine', tokens[0]!, tokens[1]!]);

  assertRefused(run, 1, /cannot combine: 2 shares given; key [0-9a-f]{16} needs 3 of its 5 shares/);
});

test('refuses a mistyped token with a checksum error', () => {
  const typo =
    tokens[1]!.slice(0, 30) + (tokens[1]![30] === 'q' ? 'p' : 'q') + tokens[1]!.slice(31);
  const run = trikey(['combine', tokens[0]!, typo, tokens[2]!]);

  assertRefused(run, 1, /share 2 of the input: its checksum does not match/);
});

test('refuses shares of two keys', () => {
  const run = trikey(['combine', tokens[0]!, tokens[1]!, otherTokens[2]!]);

  assertRefused(run, 1, /the shares belong to different keys/);
});

test('refuses a share given twice', () => {
  const run = trikey(['combine', tokens[0]!, tokens[1]!, tokens[0]!]);

  assertRefused(run, 1, /share number 1 is given twice/);
});

test('refuses a key whose fingerprint is not the one given', () => {
  const other = identifyKey(new Uint8Array(32)).fingerprint;
  const run = trikey(['combine', '--fingerprint', other, ...tokens.slice(0, 3)]);

  assertRefused(run, 1, /not the one expected/);
});

test('exits 2 on an unknown command or option', () => {
  assertRefused(trikey(['frobnicate']), 2, /unknown command "frobnicate"/);
  assertRefused(trikey([]), 2, /no command given/);
  assertRefused(trikey(['combine', '--bogus', tokens[0]!]), 2, /Usage:/);
});

test('opens an age encrypted share from a file or stdin and prints its token', () => {
  for (const run of [
    trikey(['open', '-i', identityFile, sealedFile]),
    trikey(['open', '-i', otherIdentityFile, '-i', identityFile], `Your share:\n${sealedFirst}`),
  ]) {
    assert.is(run.status, 0, run.stderr);
    assert.is(run.stdout, `${tokens[0]}\n`);
    assert.is(run.stderr, '');
  }
});

test('refuses to open a share with another key, a bad identity file or no block', () => {
  const notKeys = join(tempDir, 'not-keys.txt');
  writeFileSync(notKeys, `# mine\n${identity.slice(0, -2)}\n`);
  const cases: [Run, RegExp][] = [
    [trikey(['open', '-i', otherIdentityFile, sealedFile]), /encrypted to another age key/],
    [trikey(['open', '-i', notKeys, sealedFile]), /line 2 of .*not-keys\.txt is not an age secret/],
    [
      trikey(['open', '-i', join(tempDir, 'missing.txt')], sealedFirst),
      /cannot read identity .*ENOENT/,
    ],
    [trikey(['open', '-i', identityFile], tokens[0]!), /no age encrypted block found/],
  ];
  for (const [run, message] of cases) {
    assertRefused(run, 1, message);
    assert.not.ok(run.stderr.includes(identity.slice(20)), 'stderr repeats the identity');
  }
});

test('exits 2 when open is given no identity file or two shares', () => {
  assertRefused(trikey(['open', sealedFile]), 2, /give your age identity file with -i/);
  assertRefused(
    trikey(['open', '-i', identityFile, sealedFile, sealedFile]),
    2,
    /one encrypted share at a time/,
  );
});

test('makes a transport key entry that parses', () => {
  const run = trikey(['keygen']);

  assert.is(run.status, 0, run.stderr);
  assert.match(run.stdout, /^[0-9a-f]{8}:[A-Za-z0-9+/]{43}=\n$/);
  assert.is(parseTransportKeys(run.stdout.trim())[0]!.key.length, 32);
});

test('makes an API token and the hash line a token file keeps', () => {
  const run = trikey(['token']);
  assert.is(run.status, 0, run.stderr);
  const token = run.stdout.trim();
  assert.match(token, /^[A-Za-z0-9_-]{43}$/);
  const hash = createHash('sha256').update(token).digest('hex');
  assert.is(run.stderr, `for TRIKEY_API_TOKENS_FILE: sha256:${hash}\n`);
});

test.run();
