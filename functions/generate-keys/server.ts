import { serve } from '@hono/node-server';
import { ConfigError, createLogger, emitEvent } from '../../shared/index.ts';
import { createGenerateKeysApp } from './app.ts';
import { loadConfig } from './config.ts';

let config;
try {
  config = loadConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`generate-keys: ${error.message}\n`);
  process.exit(1);
}

const logger = createLogger('generate-keys', config.logLevel);
const app = createGenerateKeysApp({ ...config, logger, emit: emitEvent });
const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, (info) => {
  logger.info('generate-keys listening', { port: info.port, host: config.host, sink: config.sink });
});

const stop = () => {
  logger.info('generate-keys stopping');
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 10_000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
