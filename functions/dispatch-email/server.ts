import { serve } from '@hono/node-server';
import { ConfigError, createLogger } from '../../shared/index.ts';
import { createDispatchEmailApp } from './app.ts';
import { loadConfig } from './config.ts';
import { Ledger } from './ledger.ts';
import { createSesSender } from './mailer.ts';

let config;
try {
  config = loadConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`dispatch-email: ${error.message}\n`);
  process.exit(1);
}

const logger = createLogger('dispatch-email', config.logLevel);
const send = createSesSender(config.ses);
const ledger = new Ledger(config.dedupe);
const app = createDispatchEmailApp({ ...config, logger, send, ledger });
const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, (info) => {
  logger.info('dispatch-email listening', {
    port: info.port,
    host: config.host,
    sesRegion: config.ses.region,
    sesEndpoint: config.ses.endpoint ?? 'AWS',
  });
});

const stop = () => {
  logger.info('dispatch-email stopping');
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 10_000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
