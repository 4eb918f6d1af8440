import { Hono } from 'hono';
import {
  guardBody,
  HttpProblem,
  problemResponse,
  type Logger,
  type ReceivedEvent,
} from '../shared/index.ts';
import { PublishError, type Broker } from './broker.ts';
import { readEventMessage } from './message.ts';

/** What the ingress needs: a broker to publish to, a logger and a body limit. */
export interface IngressOptions {
  broker: Pick<Broker, 'connected' | 'publish' | 'accepts'>;
  logger: Logger;
  /** Largest request body accepted, in bytes; 1 MiB by default. */
  maxBodyBytes?: number;
}

/** Builds the broker ingress: `POST /` stores one CloudEvent and answers 202 once confirmed. */
export function createIngressApp({ broker, logger, maxBodyBytes = 1024 * 1024 }: IngressOptions) {
  const app = new Hono();
  app.post('/', guardBody(maxBodyBytes), async (c) => {
    const started = performance.now();
    const body = Buffer.from(await c.req.arrayBuffer());
    const { event, message } = readEventMessage(c.req.raw.headers, body);
    const fields = { eventId: event.id, eventType: event.type };

    // The status stream would take a recorded type that no trigger accepts, so RabbitMQ's
    // return of an unroutable event no longer says enough: the triggers are asked first.
    if (!broker.accepts(message.headers)) {
      const reason = 'no trigger accepts its type';
      logger.warn('event not stored', { ...fields, reason, durationMs: elapsed(started) });
      throw unaccepted(event);
    }
    try {
      await broker.publish(message);
    } catch (error) {
      if (!(error instanceof PublishError)) throw error;
      const reason = error.message;
      logger.warn('event not stored', { ...fields, reason, durationMs: elapsed(started) });
      throw refusal(error, event);
    }

    logger.debug('event stored', { ...fields, durationMs: elapsed(started) });
    return c.body(null, 202);
  });
  app.all('/', () => {
    throw new HttpProblem(405, 'Only POST is accepted at /.', [], { allow: 'POST' });
  });

  app.get('/health/liveness', (c) => c.text('OK'));
  app.get('/health/readiness', (c) => {
    if (!broker.connected) throw new HttpProblem(503, 'Not connected to RabbitMQ.');
    return c.text('OK');
  });
  app.all('/health/*', () => {
    throw new HttpProblem(405, 'Only GET is accepted here.', [], { allow: 'GET' });
  });

  app.notFound((c) => problemResponse(new HttpProblem(404, `Nothing is at ${c.req.path}.`)));
  app.onError((error) => {
    if (!(error instanceof HttpProblem)) logger.error('ingress failed', reasonOf(error));
    return problemResponse(error);
  });
  return app;
}

// Unroutable is the sender's or the deployment's mistake and will not heal by itself; the other
// failures are transient, so the sender should try again (CloudEvents senders retry 503).
function refusal(error: PublishError, event: ReceivedEvent): HttpProblem {
  switch (error.reason) {
    case 'unroutable':
      // The triggers were asked first, so RabbitMQ's return means its bindings and the trigger
      // list disagree: the deployment is wrong, not the event.
      return new HttpProblem(
        500,
        `RabbitMQ has no queue bound for events of type ${event.type}; the event was not stored`,
      );
    case 'invalid':
      return new HttpProblem(400, `The event does not fit a RabbitMQ message: ${error.message}`);
    case 'timeout':
      return new HttpProblem(
        503,
        'RabbitMQ did not confirm the event in time; it may have been stored. ' +
          'Send it again with the same id.',
      );
    case 'nacked':
      return new HttpProblem(503, 'RabbitMQ refused to store the event; send it again.');
    case 'disconnected':
      return new HttpProblem(503, 'RabbitMQ is not connected; the event was not stored.');
  }
}

function unaccepted(event: ReceivedEvent): HttpProblem {
  return new HttpProblem(
    400,
    `No trigger accepts events of type ${event.type}; the event was not stored.`,
    [{ pointer: '/type', detail: 'is not a type this broker routes' }],
  );
}

function elapsed(started: number): number {
  return Math.round(performance.now() - started);
}

function reasonOf(error: unknown): { reason: string } {
  return { reason: error instanceof Error ? error.message : String(error) };
}
