import { Hono, type Context } from 'hono';
import {
  EventTypes,
  guardBody,
  HttpProblem,
  isCloudEventRequest,
  mediaTypeEssence,
  parseOrThrow,
  problemResponse,
  readCloudEvent,
  type Logger,
} from '../../shared/index.ts';
import { planCeremony, runCeremony, type CeremonyDeps } from './ceremony.ts';
import { CeremonyRequestSchema } from './request.ts';

/** What the generate-keys app is built from. */
export interface GenerateKeysDeps extends CeremonyDeps {
  maxBodyBytes: number;
  logger: Logger;
}

/**
 * Builds generate-keys: `POST /` and `POST /generate-keys` take a ceremony request as JSON or as
 * a `dev.trikey.ceremony.requested` CloudEvent, and answer 202 once every share is published.
 */
export function createGenerateKeysApp(deps: GenerateKeysDeps): Hono {
  const app = new Hono();
  const { logger } = deps;

  app.get('/health/liveness', (c) => c.body(null, 204));
  app.get('/health/readiness', (c) => c.body(null, 204));

  const limit = guardBody(deps.maxBodyBytes);

  const handle = async (c: Context) => {
    const started = performance.now();
    const headers = c.req.raw.headers;
    const text = await c.req.text();

    if (isCloudEventRequest(headers)) {
      const event = readCloudEvent(headers, text);
      if (event.type !== EventTypes.ceremonyRequested) {
        throw new HttpProblem(
          400,
          `generate-keys takes events of type ${EventTypes.ceremonyRequested}.`,
          [{ pointer: '/type', detail: `must be ${EventTypes.ceremonyRequested}` }],
        );
      }
      const body = parseOrThrow(
        CeremonyRequestSchema,
        event.data,
        422,
        'The ceremony request is invalid.',
      );
      const receipt = await runCeremony(planCeremony(body, deps), deps);
      logger.info('ceremony accepted', {
        ceremonyId: receipt.ceremonyId,
        eventId: event.id,
        eventType: event.type,
        keyId: receipt.keyId,
        total: receipt.total,
        threshold: receipt.threshold,
        durationMs: Math.round(performance.now() - started),
      });
      // A Knative dispatcher takes a non-empty answer for a reply event, so this one has no body.
      return c.body(null, 202);
    }

    if (mediaTypeEssence(headers.get('content-type')) !== 'application/json') {
      throw new HttpProblem(
        415,
        'Send the ceremony request as application/json, or as a CloudEvent.',
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new HttpProblem(400, 'The body is not valid JSON.');
    }
    const body = parseOrThrow(CeremonyRequestSchema, json, 422, 'The ceremony request is invalid.');
    const receipt = await runCeremony(planCeremony(body, deps), deps);
    logger.info('ceremony accepted', {
      ceremonyId: receipt.ceremonyId,
      keyId: receipt.keyId,
      total: receipt.total,
      threshold: receipt.threshold,
      durationMs: Math.round(performance.now() - started),
    });
    return c.json(receipt, 202);
  };

  app.post('/', limit, handle);
  app.post('/generate-keys', limit, handle);
  app.all('/', () => methodNotAllowed());
  app.all('/generate-keys', () => methodNotAllowed());

  app.notFound(() =>
    problemResponse(new HttpProblem(404, 'No such path; POST to / or /generate-keys.')),
  );
  app.onError((error) => {
    if (error instanceof HttpProblem) {
      const level = error.status >= 500 ? 'warn' : 'info';
      logger[level]('request refused', { status: error.status, detail: error.message });
    } else {
      logger.error('request failed', { error: error.name });
    }
    return problemResponse(error);
  });
  return app;
}

function methodNotAllowed(): Response {
  const problem = new HttpProblem(405, 'Only POST is accepted here.', [], { allow: 'POST' });
  return problemResponse(problem);
}
