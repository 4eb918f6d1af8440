import { serve } from '@hono/node-server';
import type { Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError, createLogger } from '../shared/index.ts';
import { createBroker } from './broker.ts';
import { readBridgeConfig } from './config.ts';
import { startDispatcher } from './dispatcher.ts';
import { createIngressApp } from './ingress.ts';

// How long shutdown waits for HTTP requests and deliveries in flight.
const graceMs = 10_000;

let config: Awaited<ReturnType<typeof readBridgeConfig>>;
try {
  config = await readBridgeConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
}

const logger = createLogger('broker-bridge', config.logLevel);
const triggers = config.triggers.triggers;
const broker = createBroker({
  url: config.amqpUrl,
  name: config.brokerName,
  triggers,
  record: config.triggers.record,
  logger,
  publishTimeoutMs: config.publishTimeoutMs,
});
const dispatcher = startDispatcher({ broker, triggers, subscribers: config.subscribers, logger });
const app = createIngressApp({ broker, logger });

const listening = new Promise<void>((resolve) => {
  const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, () =>
    resolve(),
  ) as Server;
  server.on('error', (error) => {
    logger.error('cannot listen', { reason: error.message, port: config.port });
    process.exit(1);
  });
  process.once('SIGTERM', () => void shutdown(server, 'SIGTERM'));
  process.once('SIGINT', () => void shutdown(server, 'SIGINT'));
});

let stopping = false;
Promise.all([listening, broker.connect()]).then(
  () => {
    logger.info('broker bridge ready', {
      host: config.host,
      port: config.port,
      broker: config.brokerName,
      triggers: triggers.map((trigger) => trigger.name).join(','),
    });
  },
  (error: Error) => {
    if (!stopping) logger.error('broker bridge failed to start', { reason: error.message });
  },
);

// Stop taking events first, then let deliveries finish, then leave RabbitMQ.
async function shutdown(server: Server, signal: string): Promise<void> {
  stopping = true;
  logger.info('shutting down', { signal });

  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  await Promise.race([closed, sleep(graceMs)]);
  server.closeAllConnections();

  await dispatcher.stop(graceMs);
  await broker.close();
  logger.info('stopped');
  process.exit(0);
}
