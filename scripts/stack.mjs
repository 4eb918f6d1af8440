// Starts Trikey's processes on one machine from their bundles: the SES emulator, the broker
// bridge (when RabbitMQ answers), dispatch-email and generate-keys. Used by `npm start` and by
// the end-to-end tests, so both run exactly the same thing.
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

function stopChild(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const force = setTimeout(() => child.kill('SIGKILL'), 12_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/**
 * Starts the stack. `onLine(service, line)` receives every line each process prints.
 * Options: `ports`, `amqpUrl`, `brokerName`, `transportKeys`, `useBroker` (default: whether
 * RabbitMQ answers), `sesEndpoint` (default: the emulator), `bridgeEnv` (more settings of the
 * bridge, such as `TRIKEY_TRIGGERS_FILE`), `sink` (where generate-keys publishes, by default the
 * bridge or, without RabbitMQ, dispatch-email), `baseEnv`.
 * Resolves once every process answers its health check, with the URLs, whether RabbitMQ is
 * used, a promise that settles when a process exits unasked, `stopService(name)` and
 * `startService(name)` for fault tests, and `stop()`.
 */
export async function startStack(options) {
  const { ports, amqpUrl, brokerName = 'trikey', transportKeys, onLine } = options;
  const baseEnv = options.baseEnv ?? process.env;
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
  const common = { TRIKEY_TRANSPORT_KEYS: transportKeys, HOST: '127.0.0.1' };
  // Every process listens on loopback only, so a local run without tokens switches
  // authentication off explicitly; with TRIKEY_API_TOKENS (or a file) set, it stays on.
  const authOff = !baseEnv.TRIKEY_API_TOKENS && !baseEnv.TRIKEY_API_TOKENS_FILE;

  const services = {
    'ses-emulator': {
      args: [emulator, '--host', '127.0.0.1', '--port', String(ports.ses)],
      env: {},
      health: `${urls.ses}/health-check`,
    },
    'dispatch-email': {
      args: [bundle('dispatch-email')],
      env: {
        ...common,
        PORT: String(ports.dispatchEmail),
        TRIKEY_SES_ENDPOINT: options.sesEndpoint ?? urls.ses,
        TRIKEY_SES_REGION: 'us-east-1',
        TRIKEY_SES_FROM: baseEnv.TRIKEY_SES_FROM ?? 'Trikey <trikey@example.com>',
        // The emulator checks no signature; real credentials never leave for it.
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
        AWS_SESSION_TOKEN: '',
        AWS_PROFILE: '',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
      health: `${urls.dispatchEmail}/health/readiness`,
    },
    'broker-bridge': {
      args: [bundle('broker-bridge')],
      env: {
        HOST: '127.0.0.1',
        PORT: String(ports.bridge),
        AMQP_URL: amqpUrl,
        TRIKEY_BROKER_NAME: brokerName,
        TRIKEY_SUBSCRIBERS: `generate-keys=${urls.generateKeys}/,dispatch-email=${urls.dispatchEmail}/`,
        ...options.bridgeEnv,
      },
      health: `${urls.bridge}/health/readiness`,
    },
    'generate-keys': {
      args: [bundle('generate-keys')],
      env: {
        ...common,
        PORT: String(ports.generateKeys),
        K_SINK: options.sink ?? (useBroker ? `${urls.bridge}/` : `${urls.dispatchEmail}/`),
        ...(authOff ? { TRIKEY_AUTH: 'off' } : {}),
        // One person on loopback is one client: a limit meant for a shared service would only
        // get in the way of trying Trikey out. Set the variables to try the limit itself.
        TRIKEY_RATE_LIMIT_PER_MINUTE: baseEnv.TRIKEY_RATE_LIMIT_PER_MINUTE ?? '100000',
        TRIKEY_RATE_LIMIT_BURST: baseEnv.TRIKEY_RATE_LIMIT_BURST ?? '1000',
      },
      health: `${urls.generateKeys}/health/readiness`,
    },
  };
  const order = [
    'ses-emulator',
    'dispatch-email',
    ...(useBroker ? ['broker-bridge'] : []),
    'generate-keys',
  ];

  const running = new Map();
  const asked = new Set();
  let reportExit;
  const exited = new Promise((resolve) => (reportExit = resolve));

  const startService = async (service) => {
    const spec = services[service];
    const child = spawn(process.execPath, spec.args, {
      env: { ...baseEnv, ...spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => onLine(service, line));
    }
    child.once('exit', (code, signal) => {
      if (!asked.has(child)) reportExit({ service, code, signal });
    });
    running.set(service, child);
    await waitReady(spec.health, child, service);
  };

  const stopService = async (service) => {
    const child = running.get(service);
    if (!child) return;
    asked.add(child);
    running.delete(service);
    await stopChild(child);
  };

  const stop = async () => {
    for (const service of [...order].reverse()) await stopService(service);
  };

  try {
    for (const service of order) await startService(service);
  } catch (error) {
    await stop();
    throw error;
  }
  return { urls, useBroker, authOff, exited, stop, stopService, startService };
}
