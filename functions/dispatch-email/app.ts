import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import {
  EventSources,
  EventTypes,
  HttpProblem,
  isCloudEventRequest,
  problemResponse,
  readCloudEvent,
  toBinary,
  type Logger,
  type ShareOutcomeData,
  type TransportKey,
} from '../../shared/index.ts';
import { renderShareEmail } from './email.ts';
import type { SendEmail } from './mailer.ts';
import { openShareEvent } from './share.ts';

/** What the dispatch-email app is built from. */
export interface DispatchEmailDeps {
  transportKeys: readonly TransportKey[];
  maxBodyBytes: number;
  logger: Logger;
  send: SendEmail;
}

/**
 * Builds dispatch-email: `POST /` takes a `dev.trikey.share.issued` CloudEvent, emails the share
 * inside its seal, and replies `dev.trikey.share.delivered`, or `dev.trikey.share.failed` when SES
 * refuses the message for good. A failure worth retrying is a 503 for the broker to retry.
 */
export function createDispatchEmailApp(deps: DispatchEmailDeps): Hono {
  const app = new Hono();
  const { logger } = deps;

  app.get('/health/liveness', (c) => c.body(null, 204));
  app.get('/health/readiness', (c) => c.body(null, 204));

  const limit = bodyLimit({
    maxSize: deps.maxBodyBytes,
    onError: () => {
      throw new HttpProblem(413, `The body is larger than ${deps.maxBodyBytes} bytes.`);
    },
  });

  app.post('/', limit, async (c) => {
    const started = performance.now();
    const headers = c.req.raw.headers;
    if (!isCloudEventRequest(headers)) {
      throw new HttpProblem(415, 'dispatch-email takes CloudEvents in binary or structured mode.');
    }
    const event = readCloudEvent(headers, await c.req.text());
    const share = openShareEvent(event, deps.transportKeys);
    const fields = { ceremonyId: share.ceremonyId, eventId: event.id, eventType: event.type };

    const result = await deps.send(share.custodian.email, renderShareEmail(share));
    const durationMs = Math.round(performance.now() - started);
    const outcome: ShareOutcomeData = {
      ceremonyId: share.ceremonyId,
      keyId: share.keyId,
      shareNumber: share.shareNumber,
    };
    if (result.ok) {
      outcome.messageId = result.messageId;
      logger.info('share emailed', { ...fields, shareNumber: share.shareNumber, durationMs });
    } else if (result.retryable) {
      logger.warn('share not sent, will be retried', {
        ...fields,
        reason: result.reason,
        durationMs,
      });
      throw new HttpProblem(503, 'The email service did not take the message; try again later.');
    } else {
      outcome.reason = result.reason;
      logger.warn('share failed for good', { ...fields, reason: result.reason, durationMs });
    }

    const reply = toBinary({
      id: `${event.id}-${result.ok ? 'delivered' : 'failed'}`,
      type: result.ok ? EventTypes.shareDelivered : EventTypes.shareFailed,
      source: EventSources.dispatchEmail,
      subject: share.ceremonyId,
      data: outcome,
    });
    return c.body(reply.body, 200, reply.headers);
  });
  app.all('/', () =>
    problemResponse(new HttpProblem(405, 'Only POST is accepted here.', [], { allow: 'POST' })),
  );

  app.notFound(() => problemResponse(new HttpProblem(404, 'No such path; POST CloudEvents to /.')));
  app.onError((error) => {
    if (error instanceof HttpProblem) {
      logger.info('request refused', { status: error.status, detail: error.message });
    } else {
      logger.error('request failed', { error: error.name });
    }
    return problemResponse(error);
  });
  return app;
}
