// Faults survived, measured against the real RabbitMQ and the SES emulator: SES throttling and
// errors, a permanent rejection, the mailer down for 30 s, a redelivered share event, and
// RabbitMQ stopped and started while 200 ceremonies arrive. Each test prints its figures.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  EventSources,
  EventTypes,
  encodeShareToken,
  generateCeremonyKey,
  identifyKey,
  parseTransportKeys,
  seal,
  splitKey,
  toBinary,
} from '../shared/index.ts';
import { readCeremonyStatus } from '../eventing/index.ts';
import { startFaultProxy, type FaultPlan, type FaultProxy } from './ses-fault-proxy.ts';
import {
  amqpUrl,
  recipient,
  stackPorts,
  startTestStack,
  storedEmails,
  type StoredEmail,
  type TestStack,
} from './local-services.ts';

const run = promisify(execFile);
const brokerName = `faults-${process.pid}`;
const transportKeys = `faults:${Buffer.alloc(32, 17).toString('base64')}`;
const plan: FaultPlan = { failureRate: 0, reject: [], seed: 2027 };
const say = (text: string) => process.stdout.write(`\n    ${text}`);

let stack: TestStack;
let proxy: FaultProxy;
let ceremonyCount = 0;

interface Sorted {
  shares: Map<string, StoredEmail[]>;
  voids: Map<string, StoredEmail[]>;
  failures: StoredEmail[];
}

const emails = () => storedEmails(stack.urls.ses);

// Files every email under its ceremony and share: `ceremonyId/shareNumber`.
function sort(all: StoredEmail[]): Sorted {
  const sorted: Sorted = { shares: new Map(), voids: new Map(), failures: [] };
  for (const email of all) {
    const ceremony = /Ceremon(?:y|ia) ([0-9a-f-]{36})/.exec(email.body.text)?.[1];
    const share = /share (\d+) of (\d+)/.exec(email.subject)?.[1];
    const file = (map: Map<string, StoredEmail[]>, key: string) =>
      map.set(key, [...(map.get(key) ?? []), email]);
    if (/^Your Trikey key share/.test(email.subject)) file(sorted.shares, `${ceremony}/${share}`);
    else if (/is void$/.test(email.subject)) file(sorted.voids, `${ceremony}/${recipient(email)}`);
    else if (/was not delivered$/.test(email.subject)) sorted.failures.push(email);
  }
  return sorted;
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function custodians() {
  const n = ++ceremonyCount;
  return {
    admin: `Admin ${n} <admin${n}@example.com>`,
    representatives: [`rep${n}a@example.com`, `rep${n}b@example.com`],
  };
}

async function postCeremony(body: unknown) {
  const started = performance.now();
  try {
    const response = await fetch(`${stack.urls.generateKeys}/generate-keys`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    const json = (await response.json()) as { ceremonyId?: string };
    return {
      status: response.status,
      ms: performance.now() - started,
      ceremonyId: json.ceremonyId,
    };
  } catch {
    return { status: 0, ms: performance.now() - started, ceremonyId: undefined };
  }
}

test.before(async () => {
  const ports = await stackPorts();
  proxy = await startFaultProxy(`http://127.0.0.1:${ports.ses}`, plan);
  stack = await startTestStack({ ports, brokerName, transportKeys, sesEndpoint: proxy.url });
});

test.after(async () => {
  await stack?.remove();
  await proxy?.close();
});

test('a share event delivered twice through the broker sends one email', async () => {
  const keys = parseTransportKeys(transportKeys);
  const key = await generateCeremonyKey();
  const identity = identifyKey(key);
  const [share] = await splitKey(key, 2, 2);
  const ceremonyId = crypto.randomUUID();
  const custodian = { name: 'Twice', email: 'twice@example.com' };
  const facts = { ceremonyId, ...identity, threshold: 2, total: 2, shareNumber: 1, custodian };
  const binding = {
    id: `${ceremonyId}-1`,
    type: EventTypes.shareIssued,
    source: EventSources.generateKeys,
    subject: ceremonyId,
  };
  const sealed = {
    ...facts,
    locale: 'en' as const,
    token: encodeShareToken(share!),
    admin: custodian,
    custodianNames: ['Twice', 'Other'],
    label: null,
  };
  const message = toBinary({
    ...binding,
    data: { ...facts, locale: 'en', seal: seal(sealed, binding, keys) },
  });
  for (let i = 0; i < 2; i++) {
    const response = await fetch(`${stack.urls.bridge}/`, { method: 'POST', ...message });
    assert.is(response.status, 202);
  }
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const sorted = sort(await emails());
  assert.is(sorted.shares.get(`${ceremonyId}/1`)?.length, 1);
});

test('with 30% of SES sends failing, every share of 100 ceremonies arrives exactly once', async () => {
  plan.failureRate = 0.3;
  const before = (await emails()).length;
  const results = [];
  for (let batch = 0; batch < 10; batch++) {
    const posts = Array.from({ length: 10 }, () => postCeremony(custodians()));
    results.push(...(await Promise.all(posts)));
  }
  assert.equal(
    results.map((result) => result.status),
    Array(100).fill(202),
  );
  const accepted = results.map((result) => result.ceremonyId!);
  const all = await until(emails, (stored) => stored.length - before >= 300, 60_000);
  const sorted = sort(all);
  for (const id of accepted) {
    for (const n of [1, 2, 3]) assert.is(sorted.shares.get(`${id}/${n}`)?.length, 1, `${id}/${n}`);
  }
  assert.is(sorted.failures.length, 0);
  say(
    `SES faults: 300 shares emailed once each; the proxy answered ${proxy.counts.throttled} ` +
      `sends 429 and ${proxy.counts.failed} sends 500, and forwarded ${proxy.counts.forwarded}`,
  );
  plan.failureRate = 0;
});

test('a permanently rejected address ends as failed, the admin is told, others are delivered', async () => {
  plan.reject = ['bounce@example.com'];
  const body = {
    admin: 'Ana Ruiz <ana.bounce@example.com>',
    representatives: ['Bo Unce <bounce@example.com>', 'fine@example.com'],
    threshold: 2,
  };
  const accepted = await postCeremony(body);
  assert.is(accepted.status, 202);
  const id = accepted.ceremonyId!;
  const sorted = sort(
    await until(
      emails,
      (stored) => sort(stored).failures.some((email) => email.body.text.includes(id)),
      20_000,
    ),
  );
  assert.is(sorted.shares.get(`${id}/1`)?.length, 1);
  assert.is(sorted.shares.get(`${id}/2`), undefined);
  assert.is(sorted.shares.get(`${id}/3`)?.length, 1);
  const notice = sorted.failures.find((email) => email.body.text.includes(id))!;
  assert.equal([recipient(notice)], ['ana.bounce@example.com']);
  assert.ok(notice.body.text.includes('Bo Unce <bounce@example.com>'));
  assert.match(notice.body.text, /MessageRejected/);
  assert.not.match(notice.body.text + notice.body.html, /trikey1/);

  const status = await readCeremonyStatus({ url: amqpUrl, brokerName, ceremonyId: id });
  const states = status.shares.map((share) => [share.shareNumber, share.state]);
  assert.equal(states, [
    [1, 'delivered'],
    [2, 'failed'],
    [3, 'delivered'],
  ]);
  assert.match(status.shares[1]!.reason!, /MessageRejected/);
  plan.reject = [];
});

test('with dispatch-email down for 30 s, every share is delivered when it returns', async () => {
  await stack.stopService('dispatch-email');
  const before = (await emails()).length;
  const results = await Promise.all(Array.from({ length: 5 }, () => postCeremony(custodians())));
  assert.equal(
    results.map((result) => result.status),
    Array(5).fill(202),
  );
  await new Promise((resolve) => setTimeout(resolve, 30_000));
  assert.is((await emails()).length, before, 'nothing was sent while the mailer was down');
  const back = performance.now();
  await stack.startService('dispatch-email');
  const all = await until(emails, (stored) => stored.length - before >= 15, 90_000);
  const sorted = sort(all);
  for (const { ceremonyId } of results) {
    for (const n of [1, 2, 3]) assert.is(sorted.shares.get(`${ceremonyId}/${n}`)?.length, 1);
  }
  say(
    `mailer down 30 s: 15 of 15 shares emailed ${((performance.now() - back) / 1000).toFixed(1)} s after it returned`,
  );
});

test('RabbitMQ stopped and started amid 200 ceremonies: each 202 gets its emails once', async () => {
  const before = (await emails()).length;
  const pending: ReturnType<typeof postCeremony>[] = [];
  const sending = (async () => {
    for (let i = 0; i < 200; i++) {
      pending.push(postCeremony(custodians()));
      await new Promise((resolve) => setTimeout(resolve, 60));
    }
  })();
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const stopped = performance.now();
  await run('rabbitmqctl', ['stop_app'], { timeout: 60_000 });
  // Stay down a while, so that ceremonies arrive while no broker answers at all.
  await new Promise((resolve) => setTimeout(resolve, 3000));
  await run('rabbitmqctl', ['start_app'], { timeout: 60_000 });
  const outage = (performance.now() - stopped) / 1000;
  await sending;
  const results = await Promise.all(pending);

  const accepted = results.filter((result) => result.status === 202);
  const refused = results.filter((result) => result.status !== 202);
  for (const result of refused) {
    assert.ok([503, 429].includes(result.status), `refused with ${result.status}`);
    assert.ok(result.ms < 5000, `refused after ${result.ms.toFixed(0)} ms`);
    assert.ok(result.ceremonyId, 'a refusal names its ceremony');
  }
  assert.ok(refused.length > 0, 'the outage refused some ceremonies');
  assert.ok(accepted.length > 0, 'ceremonies were accepted around the outage');

  const expected = accepted.length * 3;
  const arrived = (sorted: Sorted) =>
    accepted.reduce((sum, { ceremonyId }) => {
      return sum + [1, 2, 3].filter((n) => sorted.shares.has(`${ceremonyId}/${n}`)).length;
    }, 0);
  const since = async () => sort((await emails()).slice(before));
  await until(since, (sorted) => arrived(sorted) >= expected, 120_000);
  // Give stray redeliveries time to land, and voids as long as generate-keys may take to get
  // them past a broker that is coming back (its retries back off to 10 s apart).
  await new Promise((resolve) => setTimeout(resolve, 5000));
  const untold = (sorted: Sorted) =>
    refused.some(({ ceremonyId }) =>
      [1, 2, 3].some((n) =>
        (sorted.shares.get(`${ceremonyId}/${n}`) ?? []).some(
          (share) => !sorted.voids.get(`${ceremonyId}/${recipient(share)}`)?.length,
        ),
      ),
    );
  const voidsStarted = performance.now();
  const sorted = await until(since, (each) => !untold(each), 60_000);
  const voidsMs = performance.now() - voidsStarted;

  for (const { ceremonyId } of accepted) {
    for (const n of [1, 2, 3]) {
      assert.is(sorted.shares.get(`${ceremonyId}/${n}`)?.length, 1, `${ceremonyId}/${n} once`);
    }
  }
  let sharesOfRefused = 0;
  for (const { ceremonyId } of refused) {
    for (const n of [1, 2, 3]) {
      const shares = sorted.shares.get(`${ceremonyId}/${n}`) ?? [];
      sharesOfRefused += shares.length;
      for (const share of shares) {
        const to = recipient(share);
        assert.ok(
          sorted.voids.get(`${ceremonyId}/${to}`)?.length,
          `${to} was told ${ceremonyId} is void`,
        );
      }
    }
  }
  const slowest = Math.max(...refused.map((result) => result.ms));
  say(
    `broker restart (${outage.toFixed(1)} s): ${accepted.length} ceremonies got 202 and all ` +
      `${expected} of their shares once; ${refused.length} got 503 or 429 (slowest after ` +
      `${slowest.toFixed(0)} ms); ${sharesOfRefused} shares of refused ceremonies were emailed ` +
      `and every one of them voided (the last ${(voidsMs / 1000).toFixed(1)} s after the rest)`,
  );
});

test.run();
