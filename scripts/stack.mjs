// Starts Trikey's processes on one machine from their bundles: the SES emulator, the broker
// bridge (when RabbitMQ answers), dispatch-email and generate-keys. Used by `npm start` and by
// the end-to-end test, so both run exactly the same thing.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import amqp from 'amqplib';

const root = fileURLToPath(new URL('..', import.meta.url));
const bundle = (name) => `${root}dist/${name}.mjs`;
const emulator = `${root}node_modules/aws-ses-v2-local/dist/cli.js`;

/** True when RabbitMQ at `url` completes an AMQP handshake within `timeoutMs`. */
export async function rabbitReachable(url, timeoutMs = 2000) {
  let connection;
  try {
    connection = await amqp.connect(url, { timeout: timeoutMs });
    return true;
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => {});
  }
}

/** Hides the password of an AMQP URL for printing. */
export function redactUrl(url) {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'an unparseable URL';
  }
}

async function waitReady(url, child, name, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with code ${child.exitCode}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${name} was not ready at ${url} within ${timeoutMs / 1000} s`);
}

/**
 * Starts the stack. `onLine(service, line)` receives every line each process prints.
 * Resolves once every process answers its health check, with the URLs, whether RabbitMQ is
 * used, a promise that settles when any process exits, and `stop()`.
 */
export async function startStack(options) {
  const {
    ports,
    amqpUrl,
    brokerName = 'trikey',
    transportKeys,
    onLine,
    baseEnv = process.env,
  } = options;
  for (const name of ['generate-keys', 'dispatch-email', 'broker-bridge']) {
    if (!existsSync(bundle(name)))
      throw new Error(`dist/${name}.mjs is missing: run npm run build`);
  }
  const urls = {
    generateKeys: `http://127.0.0.1:${ports.generateKeys}`,
    dispatchEmail: `http://127.0.0.1:${ports.dispatchEmail}`,
    bridge: `http://127.0.0.1:${ports.bridge}`,
    ses: `http://127.0.0.1:${ports.ses}`,
  };
  const useBroker = options.useBroker ?? (await rabbitReachable(amqpUrl));
  const children = [];
  let stopping = false;

  const start = (service, args, env) => {
    const child = spawn(process.execPath, args, {
      env: { ...baseEnv, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => onLine(service, line));
    }
    children.push({ service, child });
    return child;
  };

  const exited = new Promise((resolve) => {
    const watch = () => {
      for (const { service, child } of children) {
        child.once('exit', (code, signal) => {
          if (!stopping) resolve({ service, code, signal });
        });
      }
    };
    setImmediate(watch);
  });

  const stop = async () => {
    stopping = true;
    const running = children.filter(
      ({ child }) => child.exitCode === null && child.signalCode === null,
    );
    await Promise.all(
      running.reverse().map(
        ({ child }) =>
          new Promise((resolve) => {
            const force = setTimeout(() => child.kill('SIGKILL'), 12_000);
            child.once('exit', () => {
              clearTimeout(force);
              resolve();
            });
            child.kill('SIGTERM');
          }),
      ),
    );
  };

  const common = { TRIKEY_TRANSPORT_KEYS: transportKeys, HOST: '127.0.0.1' };
  try {
    const ses = start(
      'ses-emulator',
      [emulator, '--host', '127.0.0.1', '--port', String(ports.ses)],
      {},
    );
    await waitReady(`${urls.ses}/health-check`, ses, 'the SES emulator');

    const mailer = start('dispatch-email', [bundle('dispatch-email')], {
      ...common,
      PORT: String(ports.dispatchEmail),
      TRIKEY_SES_ENDPOINT: urls.ses,
      TRIKEY_SES_REGION: 'us-east-1',
      TRIKEY_SES_FROM: baseEnv.TRIKEY_SES_FROM ?? 'Trikey <trikey@example.com>',
      // The emulator checks no signature; real credentials never leave for it.
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_SESSION_TOKEN: '',
      AWS_PROFILE: '',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    });
    await waitReady(`${urls.dispatchEmail}/health/readiness`, mailer, 'dispatch-email');

    let sink = `${urls.dispatchEmail}/`;
    if (useBroker) {
      const bridge = start('broker-bridge', [bundle('broker-bridge')], {
        HOST: '127.0.0.1',
        PORT: String(ports.bridge),
        AMQP_URL: amqpUrl,
        TRIKEY_BROKER_NAME: brokerName,
        TRIKEY_SUBSCRIBERS: `generate-keys=${urls.generateKeys}/,dispatch-email=${urls.dispatchEmail}/`,
      });
      await waitReady(`${urls.bridge}/health/readiness`, bridge, 'the broker bridge');
      sink = `${urls.bridge}/`;
    }

    const keys = start('generate-keys', [bundle('generate-keys')], {
      ...common,
      PORT: String(ports.generateKeys),
      K_SINK: sink,
    });
    await waitReady(`${urls.generateKeys}/health/readiness`, keys, 'generate-keys');
  } catch (error) {
    await stop();
    throw error;
  }
  return { urls, useBroker, exited, stop };
}
