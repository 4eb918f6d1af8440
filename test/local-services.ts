// Test support: free loopback ports, and the aws-ses-v2-local emulator as a process.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { deleteTopology, loadTriggers } from '../eventing/index.ts';
// @ts-expect-error: a plain ESM script shared with `npm start`, without type declarations.
import { rabbitReachable, startStack } from '../scripts/stack.mjs';

const cli = fileURLToPath(new URL('../node_modules/aws-ses-v2-local/dist/cli.js', import.meta.url));

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Four free ports, one for each process of the stack that scripts/stack.mjs starts. */
export async function stackPorts() {
  return {
    generateKeys: await freePort(),
    dispatchEmail: await freePort(),
    bridge: await freePort(),
    ses: await freePort(),
  };
}

/** An email as the emulator stores it. */
export interface StoredEmail {
  messageId: string;
  from: string;
  destination: { to: string[]; cc: string[]; bcc: string[] };
  subject: string;
  body: { text: string; html: string };
}

/** Every email an emulator at `sesUrl` holds. */
export async function storedEmails(sesUrl: string): Promise<StoredEmail[]> {
  const response = await fetch(`${sesUrl}/store`);
  return ((await response.json()) as { emails: StoredEmail[] }).emails;
}

/** The bare address an email went to, without the display name. */
export function recipient(email: StoredEmail): string {
  const to = email.destination.to[0] ?? '';
  return /<([^<>]+)>$/.exec(to)?.[1] ?? to;
}

/** A running emulator. */
export interface SesEmulator {
  url: string;
  emails(): Promise<StoredEmail[]>;
  stop(): Promise<void>;
}

/** Starts the emulator and waits until it answers. */
export async function startSesEmulator(): Promise<SesEmulator> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    process.execPath,
    [cli, '--host', '127.0.0.1', '--port', String(port)],
    {
      stdio: 'ignore',
    },
  );
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      if ((await fetch(`${url}/health-check`)).ok) break;
    } catch {
      if (Date.now() > deadline) throw new Error('the SES emulator did not start');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return {
    url,
    emails: () => storedEmails(url),
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** RabbitMQ for the tests, as `npm start` finds it. */
export const amqpUrl = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

/** What a test stack is started with; `ports` and `onLine` have defaults. */
export interface TestStackOptions {
  brokerName: string;
  transportKeys: string;
  ports?: Awaited<ReturnType<typeof stackPorts>>;
  sesEndpoint?: string;
  sink?: string;
  /** A trigger list of the test's own, given to the bridge as TRIKEY_TRIGGERS_FILE. */
  triggersFile?: string;
  onLine?: (service: string, line: string) => void;
  /** The environment the processes start from; this process's by default. */
  baseEnv?: NodeJS.ProcessEnv;
}

/** A stack started by a test; `remove()` stops it and deletes its broker from RabbitMQ. */
export interface TestStack {
  urls: { generateKeys: string; dispatchEmail: string; bridge: string; ses: string };
  /** Settles when a process exits unasked. */
  exited: Promise<{ service: string; code: number | null }>;
  stopService(service: string): Promise<void>;
  startService(service: string): Promise<void>;
  remove(): Promise<void>;
}

/**
 * Starts the stack of `npm start` (for a test or the benchmark) through the real RabbitMQ under a broker name of the test's
 * own, so that nothing it declares meets another stack's.
 */
export async function startTestStack(options: TestStackOptions): Promise<TestStack> {
  if (!(await rabbitReachable(amqpUrl))) throw new Error(`RabbitMQ must answer at ${amqpUrl}`);
  const stack = await startStack({
    ports: options.ports ?? (await stackPorts()),
    amqpUrl,
    brokerName: options.brokerName,
    transportKeys: options.transportKeys,
    useBroker: true,
    sesEndpoint: options.sesEndpoint,
    sink: options.sink,
    bridgeEnv: options.triggersFile ? { TRIKEY_TRIGGERS_FILE: options.triggersFile } : {},
    onLine: options.onLine ?? (() => {}),
    baseEnv: options.baseEnv,
  });
  return {
    urls: stack.urls,
    exited: stack.exited,
    stopService: stack.stopService,
    startService: stack.startService,
    async remove() {
      await stack.stop();
      const { triggers } = await loadTriggers(options.triggersFile);
      await deleteTopology(amqpUrl, options.brokerName, triggers);
    },
  };
}
