// `npm start`: the whole of Trikey on this machine, on loopback, until Ctrl-C.
import { execFileSync } from 'node:child_process';
import { redactUrl, startStack } from './stack.mjs';

const amqpUrl = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const ports = { generateKeys: 8080, dispatchEmail: 8081, bridge: 8082, ses: 8005 };
const say = (text) => process.stdout.write(`trikey: ${text}\n`);

let transportKeys = process.env.TRIKEY_TRANSPORT_KEYS;
if (!transportKeys) {
  const trikey = new URL('../dist/trikey.mjs', import.meta.url);
  transportKeys = execFileSync(process.execPath, [trikey.pathname, 'keygen']).toString().trim();
  say('generated a transport key for this run (set TRIKEY_TRANSPORT_KEYS to choose one)');
}

let stack;
try {
  stack = await startStack({
    ports,
    amqpUrl,
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
if (stack.useBroker) say(`broker bridge    ${urls.bridge}  (RabbitMQ at ${redactUrl(amqpUrl)})`);
say(`dispatch-email   ${urls.dispatchEmail}`);
say(`generate-keys    ${urls.generateKeys}  (POST a ceremony request here)`);
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
stack.exited.then(({ service, code, signal }) => {
  say(`${service} exited (${signal ?? `code ${code}`}); stopping the rest`);
  shutdown(1);
});
