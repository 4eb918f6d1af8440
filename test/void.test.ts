// A ceremony the broker half accepts: generate-keys answers 503, voids the ceremony, and every
// custodian whose share was already emailed is told it is void. A proxy in front of the broker
// bridge refuses each ceremony's third share event; everything else is real.
import { createServer, type Server } from 'node:http';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readCeremonyStatus } from '../eventing/index.ts';
import {
  amqpUrl,
  freePort,
  recipient,
  stackPorts,
  startTestStack,
  storedEmails,
  type TestStack,
} from './local-services.ts';

const brokerName = `void-${process.pid}`;
const transportKeys = `void:${Buffer.alloc(32, 29).toString('base64')}`;

let stack: TestStack;
let refuser: Server;
const refused: string[] = [];

test.before(async () => {
  const ports = await stackPorts();
  const refuserPort = await freePort();
  // Refuses share 3 of every ceremony and forwards the rest, the void included, to the bridge.
  refuser = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const id = String(request.headers['ce-id']);
    if (id.endsWith('-3')) {
      refused.push(id);
      response.writeHead(503).end();
      return;
    }
    const answer = await fetch(`http://127.0.0.1:${ports.bridge}/`, {
      method: 'POST',
      headers: request.headers as Record<string, string>,
      body: Buffer.concat(chunks),
    });
    response.writeHead(answer.status).end(Buffer.from(await answer.arrayBuffer()));
  });
  await new Promise<void>((resolve) => refuser.listen(refuserPort, '127.0.0.1', resolve));
  const sink = `http://127.0.0.1:${refuserPort}/`;
  stack = await startTestStack({ ports, brokerName, transportKeys, sink });
});

test.after(async () => {
  await stack?.remove();
  refuser?.closeAllConnections();
  await new Promise((resolve) => refuser?.close(resolve));
});

test('a half-accepted ceremony is refused, voided, and its emailed custodians told', async () => {
  const response = await fetch(`${stack.urls.generateKeys}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      admin: 'Ana Ruiz <ana@example.com>',
      representatives: ['luis@example.com', 'marta@example.com'],
    }),
  });
  assert.is(response.status, 503);
  const problem = (await response.json()) as { ceremonyId: string; detail: string };
  assert.match(problem.detail, /voided/);
  const { ceremonyId } = problem;
  assert.equal(refused, [`${ceremonyId}-3`]);

  // Shares 1 and 2 reached the broker. Each is either emailed and then followed by a void
  // notice, or, when the void came first, never emailed: the status then shows it voided.
  const deadline = Date.now() + 15_000;
  let status = await readCeremonyStatus({ url: amqpUrl, brokerName, ceremonyId });
  while (!status.voided) {
    assert.ok(Date.now() < deadline, 'the ceremony was voided');
    await new Promise((resolve) => setTimeout(resolve, 200));
    status = await readCeremonyStatus({ url: amqpUrl, brokerName, ceremonyId });
  }
  // Let both shares and the void notices finish their way: a few hundred ms here.
  await new Promise((resolve) => setTimeout(resolve, 2000));
  status = await readCeremonyStatus({ url: amqpUrl, brokerName, ceremonyId });
  assert.match(status.voidReason!, /did not accept 1 of 3/);
  assert.equal(
    status.shares.map((share) => share.shareNumber),
    [1, 2],
    'share 3 was never published',
  );

  const delivered = status.shares.filter((share) => share.state === 'delivered');
  for (const share of status.shares.filter((each) => each.state !== 'delivered')) {
    assert.is(share.state, 'voided');
  }
  const stored = await storedEmails(stack.urls.ses);
  const voids = () => stored.filter((email) => /is void$/.test(email.subject));
  const told = voids().map((email) => recipient(email));
  assert.equal(told.sort(), delivered.map((share) => share.custodian!.email).sort());
  for (const email of voids()) {
    assert.ok(email.body.text.includes(ceremonyId));
    assert.not.match(email.body.text + email.body.html, /trikey1/);
  }
  const shares = stored.filter((email) => /^Your Trikey key share/.test(email.subject));
  assert.ok(!shares.some((email) => recipient(email) === 'marta@example.com'));
  process.stdout.write(
    `\n    void: ${delivered.length} of 2 accepted shares were emailed first and then voided\n`,
  );
});

test.run();
