import { ConfigError, createLogger, emitEvent, listen, silentLogger } from '../../shared/index.ts';
import { authOff } from './auth.ts';
import { createGenerateKeysApp } from './app.ts';
import { loadConfig, type GenerateKeysConfig } from './config.ts';
import { createVoider } from './voider.ts';

let config: GenerateKeysConfig;
try {
  config = loadConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`generate-keys: ${error.message}\n`);
  process.exit(1);
}

const logger = createLogger('generate-keys', config.logLevel);
const voider = createVoider({
  ...config,
  emit: emitEvent,
  giveUpAfterMs: config.voidForMs,
  logger,
});
const app = createGenerateKeysApp({ ...config, logger, emit: emitEvent, voider });
const { server, port } = await listen(app, config);
logger.info('generate-keys listening', {
  port,
  host: config.host,
  sink: config.sink,
  auth: config.auth.tokens ? 'bearer tokens' : 'off',
});
if (!config.auth.tokens) logger.warn('authentication is off: TRIKEY_AUTH=off');
setTimeout(() => void warmUp(port), 250).unref();

// The first ceremony would otherwise also pay for loading and compiling the code it runs (Web
// Crypto, valibot, the CloudEvents SDK, the HTTP client), about 40 ms. A rehearsal through a
// copy of the app that publishes nothing pays for it once, a moment after listening, so that
// it does not hold up the first readiness probe either.
async function warmUp(port: number): Promise<void> {
  const rehearsal = createGenerateKeysApp({
    ...config,
    logger: silentLogger,
    emit: async () => ({ ok: true, status: 202 }),
    voider,
    auth: authOff,
  });
  const body = JSON.stringify({ admin: 'a@example.com', representatives: ['b@example.com'] });
  const headers = { 'content-type': 'application/json' };
  await Promise.resolve(rehearsal.request('/', { method: 'POST', headers, body })).catch(() => {});
  // The HTTP client compiles its parser on its first real exchange: have it with ourselves.
  await fetch(`http://127.0.0.1:${port}/health/liveness`).catch(() => {});
}

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  logger.info('generate-keys stopping', { pendingVoids: voider.pending });
  server.close();
  const left = await voider.drain(10_000);
  if (left > 0) logger.error('stopping with ceremonies not yet voided', { pendingVoids: left });
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
