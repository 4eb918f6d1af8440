import { testGenerateKeys } from './test-app.ts';
import { bech32 } from '@scure/base';
import { Decrypter, armor, generateIdentity, identityToRecipient } from 'age-encryption';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  ConfigError,
  openSeal,
  parseTransportKeys,
  type OutgoingEvent,
} from '../../shared/index.ts';
import { loadConfig } from './config.ts';

const transportKeys = parseTransportKeys('t1:' + Buffer.alloc(32, 7).toString('base64'));
const identity = await generateIdentity();
const recipient = await identityToRecipient(identity);
const otherRecipient = await identityToRecipient(await generateIdentity());
// Well-formed bech32 that is no usable key: the all-zero point, which age refuses to encrypt to.
const lowOrderRecipient = bech32.encodeFromBytes('age', new Uint8Array(32));
const flipped = recipient.slice(0, 20) + (recipient[20] === 'q' ? 'p' : 'q') + recipient.slice(21);
const env = {
  K_SINK: 'http://127.0.0.1:8082/',
  TRIKEY_TRANSPORT_KEYS: 't1:' + Buffer.alloc(32, 7).toString('base64'),
  TRIKEY_AUTH: 'off',
};

function makeApp(requireCustodianKeys = false) {
  return testGenerateKeys({ transportKeys, maxCustodians: 5, requireCustodianKeys });
}

async function post(app: ReturnType<typeof makeApp>['app'], body: unknown) {
  const response = await app.request('/', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

const sealOf = (event: OutgoingEvent) =>
  openSeal((event.data as { seal: string }).seal, event, transportKeys) as Record<string, any>;

test('encrypts the share of a custodian with a recipient, written in any case', async () => {
  const { app, emitted } = makeApp();
  const { status } = await post(app, {
    admin: 'ana@example.com',
    representatives: [
      { name: 'Luis', email: 'luis@example.com', ageRecipient: ` ${recipient.toUpperCase()} ` },
      { email: 'marta@example.com', ageRecipient: otherRecipient },
    ],
  });
  assert.is(status, 202);

  const [admin, luis, marta] = emitted.map(sealOf);
  assert.match(admin!.token, /^trikey1/);
  assert.is(admin!.age, undefined);
  assert.equal(luis!.custodian, { name: 'Luis', email: 'luis@example.com' });
  assert.is(luis!.token, undefined);
  assert.is(luis!.age.recipient, recipient);
  assert.is(marta!.age.recipient, otherRecipient);
  assert.not.match(JSON.stringify([luis, marta]), /trikey1/);

  const decrypter = new Decrypter();
  decrypter.addIdentity(identity);
  const token = await decrypter.decrypt(armor.decode(luis!.age.armored), 'text');
  assert.match(token, /^trikey1[0-9a-z]+$/);
  assert.is.not(token, admin!.token);
});

test('refuses what is not an X25519 age recipient, naming the field', async () => {
  const cases: [unknown, RegExp][] = [
    ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHu1 ana@laptop', /SSH key/],
    ['age1pq1' + 'q'.repeat(80), /plugin, tag and post-quantum recipients are not supported/],
    ['age1yubikey1' + 'q'.repeat(58), /plugin, tag and post-quantum recipients are not supported/],
    [flipped, /checksum is wrong/],
    [recipient.slice(0, -1), /checksum is wrong/],
    [bech32.encodeFromBytes('age', new Uint8Array(31)), /length or checksum/],
    [lowOrderRecipient, /not a usable X25519 public key/],
    ['AGE-SECRET-KEY-1' + 'Q'.repeat(58), /must be an age recipient/],
    ['', /must be an age recipient/],
    [7, /must be a string/],
  ];
  for (const [ageRecipient, detail] of cases) {
    for (const [body, pointer] of [
      [
        { admin: { email: 'a@example.com', ageRecipient }, representatives: ['b@example.com'] },
        '/admin/ageRecipient',
      ],
      [
        {
          admin: 'a@example.com',
          representatives: ['b@example.com', { email: 'c@example.com', ageRecipient }],
        },
        '/representatives/1/ageRecipient',
      ],
    ] as const) {
      const { app, emitted } = makeApp();
      const { status, body: problem } = await post(app, body);
      assert.is(status, 422);
      assert.is(emitted.length, 0);
      const error = problem.errors.find((each: any) => each.pointer === pointer);
      assert.ok(error, `${String(ageRecipient)}: ${JSON.stringify(problem.errors)}`);
      assert.match(error.detail, detail);
      if (typeof ageRecipient === 'string' && ageRecipient.length > 10) {
        assert.not.ok(JSON.stringify(problem).includes(ageRecipient), 'repeats the input');
      }
    }
  }
});

test('takes a recipient only in the object form', async () => {
  const { app } = makeApp();
  const { status, body } = await post(app, {
    admin: `Ana <ana@example.com> ${recipient}`,
    representatives: ['b@example.com'],
  });
  assert.is(status, 422);
  assert.is(body.errors[0].pointer, '/admin');
});

test('refuses each custodian without a recipient when custodian keys are required', async () => {
  const { app, emitted } = makeApp(true);
  const { status, body } = await post(app, {
    admin: { email: 'ana@example.com', ageRecipient: recipient },
    representantes: ['luis@example.com', { name: 'Marta', email: 'marta@example.com' }],
  });
  assert.is(status, 422);
  assert.equal(
    body.errors.map((each: any) => each.pointer),
    ['/representantes/0', '/representantes/1'],
  );
  assert.match(body.errors[0].detail, /needs an ageRecipient/);
  assert.is(emitted.length, 0);
});

test('accepts a ceremony in which every custodian gives a recipient when required', async () => {
  const { app, emitted } = makeApp(true);
  const { status } = await post(app, {
    admin: { email: 'ana@example.com', ageRecipient: recipient },
    representatives: [{ email: 'luis@example.com', ageRecipient: otherRecipient }],
  });
  assert.is(status, 202);
  assert.is(emitted.length, 2);
  assert.not.match(JSON.stringify(emitted.map(sealOf)), /trikey1/);
});

test('reads TRIKEY_REQUIRE_CUSTODIAN_KEYS strictly, off by default', () => {
  assert.is(loadConfig(env).requireCustodianKeys, false);
  assert.is(
    loadConfig({ ...env, TRIKEY_REQUIRE_CUSTODIAN_KEYS: 'true' }).requireCustodianKeys,
    true,
  );
  assert.is(
    loadConfig({ ...env, TRIKEY_REQUIRE_CUSTODIAN_KEYS: 'false' }).requireCustodianKeys,
    false,
  );
  for (const value of ['yes', '1', 'TRUE', '']) {
    assert.throws(
      () => loadConfig({ ...env, TRIKEY_REQUIRE_CUSTODIAN_KEYS: value }),
      (error: unknown) =>
        error instanceof ConfigError &&
        /TRIKEY_REQUIRE_CUSTODIAN_KEYS: must be true or false/.test(error.message),
    );
  }
});

test.run();
