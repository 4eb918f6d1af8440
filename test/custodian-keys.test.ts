// A custodian who gives an age recipient is emailed their share encrypted to it: generate-keys
// and dispatch-email together, without the broker, then `trikey open` and `combineShares`.
import { testGenerateKeys } from '../functions/generate-keys/test-app.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildTrikeyCli, trikey } from '../cli/test-cli.ts';
import { testDispatchEmail } from '../functions/dispatch-email/test-app.ts';
import {
  combineShares,
  openAgeShare,
  openSeal,
  parseTransportKeys,
  toBinary,
  type OutgoingEvent,
} from '../shared/index.ts';

const transportKeys = parseTransportKeys('ck:' + Buffer.alloc(32, 5).toString('base64'));
const identity = await generateIdentity();
const recipient = await identityToRecipient(identity);
const tempDir = mkdtempSync(join(tmpdir(), 'trikey-custodian-keys-'));
const identityFile = join(tempDir, 'key.txt');
const sealOf = (event: OutgoingEvent) =>
  openSeal((event.data as { seal: string }).seal, event, transportKeys) as Record<string, any>;
const armorPattern = /-----BEGIN AGE ENCRYPTED FILE-----\n[\s\S]+?-----END AGE ENCRYPTED FILE-----/;

interface Ceremony {
  fingerprint: string;
  emitted: OutgoingEvent[];
  emails: ReturnType<typeof testDispatchEmail>['sent'];
}

// One ceremony of three, Luis with a recipient written in capitals, mailed share by share.
async function ceremony(locale: 'es' | 'en'): Promise<Ceremony> {
  const { app: generate, emitted } = testGenerateKeys({ transportKeys, maxCustodians: 5 });
  const body = {
    admin: 'Ana Ruiz <ana@example.com>',
    representatives: [
      { name: 'Luis Gómez', email: 'luis@example.com', ageRecipient: recipient.toUpperCase() },
      'marta@example.com',
    ],
    locale,
  };
  const accepted = await generate.request('/', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.is(accepted.status, 202);
  const { fingerprint } = (await accepted.json()) as { fingerprint: string };

  const { app: dispatch, sent: emails } = testDispatchEmail(transportKeys);
  for (const event of emitted) {
    const response = await dispatch.request('/', { method: 'POST', ...toBinary(event) });
    assert.is(response.status, 200);
  }
  return { fingerprint, emitted, emails };
}

const english = await ceremony('en');
const luisEmail = english.emails.find(({ to }) => to === 'luis@example.com')!.email;
const armored = armorPattern.exec(luisEmail.text)![0] + '\n';

test.before(() => {
  writeFileSync(identityFile, `# public key: ${recipient}\n${identity}\n`, { mode: 0o600 });
  buildTrikeyCli();
});

test.after(() => {
  rmSync(tempDir, { recursive: true, force: true });
});

test('seals the age custodian share encrypted, with no plain token', () => {
  const [admin, luis] = english.emitted;
  const sealed = sealOf(luis!);
  assert.is(sealed.token, undefined);
  assert.is(sealed.age.recipient, recipient);
  assert.match(sealed.age.armored, armorPattern);
  assert.not.match(JSON.stringify(sealed), /trikey1/);
  const clear = JSON.stringify({ ...(luis!.data as object), seal: undefined });
  assert.not.ok(clear.includes(recipient), 'the event names no recipient in the clear');
  assert.match(sealOf(admin!).token, /^trikey1/);
});

test('emails the armored block and how to open it, and no token, in text and HTML', () => {
  assert.not.match(luisEmail.text, /trikey1[0-9a-z]/);
  assert.not.match(luisEmail.html, /trikey1[0-9a-z]/);
  assert.ok(luisEmail.html.includes(`<pre style="padding: 0.5em; background: #f4f4f4">${armored}`));
  assert.ok(luisEmail.text.includes(`encrypted with age to your key ${recipient}:`));
  assert.ok(luisEmail.text.includes('\n  age -d -i KEY_FILE share.age > share.txt\n'));
  assert.ok(luisEmail.html.includes('age -d -i KEY_FILE share.age &gt; share.txt'));
  for (const body of [luisEmail.text, luisEmail.html]) {
    assert.ok(body.includes('npx trikey open -i KEY_FILE'));
    assert.ok(body.includes('npx trikey combine'));
  }
});

test('says the same in Spanish', async () => {
  const spanish = await ceremony('es');
  const email = spanish.emails.find(({ to }) => to === 'luis@example.com')!.email;
  assert.match(email.text, /cifrado con age para tu clave age1/);
  assert.match(email.text, /Guarda el bloque de arriba/);
  assert.ok(email.text.includes('npx trikey open -i KEY_FILE'));
  assert.not.match(email.text + email.html, /trikey1[0-9a-z]/);
});

test('the opened block and the other emailed tokens rebuild the key of the 202', async () => {
  const token = await openAgeShare(Buffer.from(armored), [identity]);
  const others = english.emails
    .filter(({ to }) => to !== 'luis@example.com')
    .map(({ email }) => /trikey1[0-9a-z]+/.exec(email.text)![0]);
  assert.is(others.length, 2);

  const combined = await combineShares([token, ...others], english.fingerprint);
  assert.is(combined.fingerprint, english.fingerprint);
});

test('trikey open decrypts the emailed block to the same token, which trikey combine takes', async () => {
  const token = await openAgeShare(Buffer.from(armored), [identity]);
  const opened = trikey(['open', '-i', identityFile], luisEmail.text);
  assert.is(opened.status, 0, opened.stderr);
  assert.is(opened.stdout, `${token}\n`);
  assert.not.ok(opened.stdout.includes(identity) || opened.stderr.includes(identity));

  const others = english.emails.map(({ email }) => /trikey1[0-9a-z]+/.exec(email.text)?.[0] ?? '');
  const combined = trikey(
    ['combine', '--json', '--fingerprint', english.fingerprint],
    [opened.stdout, ...others].join('\n'),
  );
  assert.is(combined.status, 0, combined.stderr);
  assert.is(JSON.parse(combined.stdout).fingerprint, english.fingerprint);
});

test.run();
