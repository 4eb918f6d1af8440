// The bridge as a process: its environment, its ready line, a real socket and SIGTERM.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EventTypes } from '../shared/event-types.ts';
import { freePort } from '../test/local-services.ts';
import { deleteTopology } from './broker.ts';
import { amqpUrl, startSubscriber, uniqueBrokerName, waitFor } from './test-support.ts';
import { loadTriggers } from './triggers.ts';

const serverPath = new URL('./server.ts', import.meta.url).pathname;
const eventHeaders = {
  'ce-specversion': '1.0',
  'ce-id': 'evt-server-1',
  'ce-source': '/trikey/cli',
  'ce-type': EventTypes.ceremonyRequested,
  'content-type': 'application/json',
};

function startBridge(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', serverPath], {
    env: { PATH: process.env.PATH ?? '', AMQP_URL: amqpUrl, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => (output.stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, output, exited };
}

function logLines(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

test('exits 1 with one line naming the variable when a subscriber has no URL', async () => {
  const bridge = startBridge({ TRIKEY_SUBSCRIBERS: 'generate-keys=http://127.0.0.1:1' });

  assert.is(await bridge.exited, 1);
  const lines = bridge.output.stderr.trim().split('\n');
  assert.is(lines.length, 1);
  assert.match(lines[0]!, 'TRIKEY_SUBSCRIBERS: no URL for subscriber dispatch-email');
});

test('starts, logs one ready line, stores and delivers an event and stops on SIGTERM', async () => {
  const name = uniqueBrokerName('server');
  const port = await freePort();
  const keys = await startSubscriber(() => ({ status: 202 }));
  const bridge = startBridge({
    PORT: String(port),
    TRIKEY_LOG_LEVEL: 'debug',
    TRIKEY_BROKER_NAME: name,
    TRIKEY_SUBSCRIBERS: `generate-keys=${keys.url},dispatch-email=http://127.0.0.1:1`,
  });
  try {
    const ready = await waitFor(
      'the ready line',
      () => logLines(bridge.output.stdout).find((line) => line.message === 'broker bridge ready'),
      10_000,
    );
    assert.is(ready.port, port);
    assert.is(ready.triggers, 'generate-keys,dispatch-email,dispatch-email-voided');

    const response = await fetch(`http://127.0.0.1:${port}/`, {
      method: 'POST',
      headers: eventHeaders,
      body: '{"ceremonyId":"c-9"}',
    });
    assert.is(response.status, 202);
    const request = await waitFor('the delivery', () => keys.requests[0]);
    assert.is(request.headers['ce-id'], 'evt-server-1');

    bridge.child.kill('SIGTERM');
    assert.is(await bridge.exited, 0);
    const messages = logLines(bridge.output.stdout).map((line) => line.message);
    assert.ok(messages.includes('event delivered'));
    assert.is(messages.at(-1), 'stopped');
    assert.is(bridge.output.stderr, '');
  } finally {
    bridge.child.kill('SIGKILL');
    await keys.close();
    await deleteTopology(amqpUrl, name, (await loadTriggers()).triggers);
  }
});

test.run();
