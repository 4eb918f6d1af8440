// `npm start`: the whole of Trikey on this machine, on loopback, until Ctrl-C.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { redactUrl, startStack } from './stack.mjs';

const amqpUrl = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const brokerName = process.env.TRIKEY_BROKER_NAME ?? 'trikey';
const ports = { generateKeys: 8080, dispatchEmail: 8081, bridge: 8082, ses: 8005 };
const keyFile = new URL('../.cache/transport-keys', import.meta.url);
const say = (text) => process.stdout.write(`trikey: ${text}\n`);

const portFree = (port) =>
  new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });

for (const port of Object.values(ports)) {
  if (!(await portFree(port))) {
    say(`port ${port} on 127.0.0.1 is in use (is another npm start running?); nothing started`);
    process.exit(1);
  }
}

// Events wait in RabbitMQ across restarts, sealed with the transport key of the run that made
// them: a key kept from run to run keeps them deliverable.
let transportKeys = process.env.TRIKEY_TRANSPORT_KEYS;
if (!transportKeys && existsSync(keyFile)) {
  transportKeys = readFileSync(keyFile, 'utf8').trim();
  say('using the transport key kept in .cache/transport-keys');
} else if (!transportKeys) {
  const trikey = new URL('../dist/trikey.mjs', import.meta.url);
  transportKeys = execFileSync(process.execPath, [trikey.pathname, 'keygen']).toString().trim();
  mkdirSync(new URL('.', keyFile), { recursive: true });
  writeFileSync(keyFile, transportKeys + '\n', { mode: 0o600 });
  chmodSync(keyFile, 0o600);
  say('made a transport key for local runs and kept it in .cache/transport-keys');
}

let stack;
try {
  stack = await startStack({
    ports,
    amqpUrl,
    brokerName,
    transportKeys,
    onLine: (service, line) => process.stdout.write(`[${service}] ${line}\n`),
  });
} catch (error) {
  say(`could not start: ${error.message}`);
  process.exit(1);
}

const { urls } = stack;
if (!stack.useBroker) {
  say(`no RabbitMQ at ${redactUrl(amqpUrl)}: share events go straight to dispatch-email`);
}
say(`SES emulator     ${urls.ses}  (the inbox: every email sent lands here)`);
if (stack.useBroker) {
  say(`broker bridge    ${urls.bridge}  (RabbitMQ at ${redactUrl(amqpUrl)}, broker ${brokerName})`);
}
say(`dispatch-email   ${urls.dispatchEmail}`);
say(`generate-keys    ${urls.generateKeys}  (POST a ceremony request here)`);
say(
  stack.authOff
    ? 'authentication is off for this loopback-only run; set TRIKEY_API_TOKENS to turn it on'
    : 'authentication is on: send Authorization: Bearer TOKEN, one of TRIKEY_API_TOKENS',
);
say('logs follow, one JSON line each; Ctrl-C stops everything');

let stopping = false;
const shutdown = async (code) => {
  if (stopping) return;
  stopping = true;
  say('stopping');
  await stack.stop();
  say('stopped');
  process.exit(code);
};
process.on('SIGINT', () => shutdown(0));
process.on('SIGTERM', () => shutdown(0));
// Ctrl-C in a terminal reaches every process of the group at once, so a service may exit
// before this process has seen its own SIGINT: only an exit that no signal explains is news.
stack.exited.then(({ service, code, signal }) => {
  setTimeout(() => {
    if (stopping) return;
    say(`${service} exited (${signal ?? `code ${code}`}); stopping the rest`);
    shutdown(1);
  }, 200);
});
