import { ConfigError, createLogger, listen } from '../../shared/index.ts';
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
// The broker sends whole events at once: 30 s is room enough, and no client holds a socket longer.
const { server, port } = await listen(app, { ...config, requestTimeoutMs: 30_000 });
logger.info('dispatch-email listening', {
  port,
  host: config.host,
  sesRegion: config.ses.region,
  sesEndpoint: config.ses.endpoint ?? 'AWS',
});

const stop = () => {
  logger.info('dispatch-email stopping');
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 10_000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
