import { Hono, type Context } from 'hono';
import {
  EventTypes,
  guardBody,
  HttpProblem,
  isCloudEventRequest,
  mediaTypeEssence,
  methodNotAllowed,
  parseOrThrow,
  problemHandler,
  problemResponse,
  readCloudEvent,
  type Logger,
} from '../../shared/index.ts';
import { planCeremony, runCeremony, type CeremonyDeps } from './ceremony.ts';
import { requireAuth, type AuthOptions, type ClientVariables } from './auth.ts';
import type { createApiDocs } from './openapi.ts';
import { rateLimit } from './rate-limit.ts';
import { CeremonyRequestSchema } from './request.ts';

/** What the generate-keys app is built from. */
export interface GenerateKeysDeps extends CeremonyDeps {
  maxBodyBytes: number;
  logger: Logger;
  /** Who may ask for a ceremony; see auth.ts. */
  auth: AuthOptions;
  /** Requests a minute and burst, per token (or event source). */
  rateLimit: { perMinute: number; burst: number };
}

/**
 * Builds generate-keys: `POST /` and `POST /generate-keys` take a ceremony request as JSON or as
 * a `dev.trikey.ceremony.requested` CloudEvent, and answer 202 once every share is published.
 */
export function createGenerateKeysApp(deps: GenerateKeysDeps): Hono<ClientVariables> {
  const app = new Hono<ClientVariables>();
  const { logger } = deps;

  app.get('/health/liveness', (c) => c.body(null, 204));
  app.get('/health/readiness', (c) => c.body(null, 204));

  // Public like the health paths, so registered before any auth; built once, from the schemas,
  // on the first request for them: the JSON Schema converter stays out of every cold start.
  let apiDocs: Promise<ReturnType<typeof createApiDocs>> | undefined;
  const docs = () => (apiDocs ??= import('./openapi.ts').then((m) => m.createApiDocs(deps)));
  app.get('/openapi.json', async (c) => c.json((await docs()).document));
  app.get('/docs', async (c) => c.html((await docs()).page));

  // Size first (a request is never read past the limit), then who asks, then how often.
  const sized = guardBody(deps.maxBodyBytes);
  const authenticated = requireAuth(deps.auth);
  const limited = rateLimit(deps.rateLimit);

  // The request as JSON, or as a ceremony.requested CloudEvent whose data is that JSON.
  const readRequest = (headers: Headers, text: string) => {
    if (isCloudEventRequest(headers)) {
      const event = readCloudEvent(headers, text);
      if (event.type !== EventTypes.ceremonyRequested) {
        throw new HttpProblem(
          400,
          `generate-keys takes events of type ${EventTypes.ceremonyRequested}.`,
          [{ pointer: '/type', detail: `must be ${EventTypes.ceremonyRequested}` }],
        );
      }
      return { event, json: event.data };
    }
    if (mediaTypeEssence(headers.get('content-type')) !== 'application/json') {
      throw new HttpProblem(
        415,
        'Send the ceremony request as application/json, or as a CloudEvent.',
      );
    }
    try {
      return { event: undefined, json: JSON.parse(text) as unknown };
    } catch {
      throw new HttpProblem(400, 'The body is not valid JSON.');
    }
  };

  const handle = async (c: Context) => {
    const started = performance.now();
    const { event, json } = readRequest(c.req.raw.headers, await c.req.text());
    const body = parseOrThrow(CeremonyRequestSchema, json, 422, 'The ceremony request is invalid.');
    const receipt = await runCeremony(planCeremony(body, deps), deps);
    logger.info('ceremony accepted', {
      ceremonyId: receipt.ceremonyId,
      eventId: event?.id,
      eventType: event?.type,
      keyId: receipt.keyId,
      total: receipt.total,
      threshold: receipt.threshold,
      durationMs: Math.round(performance.now() - started),
    });
    // A Knative dispatcher takes a non-empty answer for a reply event, so an event gets none.
    return event ? c.body(null, 202) : c.json(receipt, 202);
  };

  app.post('/', sized, authenticated, limited, handle);
  app.post('/generate-keys', sized, authenticated, limited, handle);
  app.all('/', methodNotAllowed);
  app.all('/generate-keys', methodNotAllowed);

  app.notFound(() =>
    problemResponse(new HttpProblem(404, 'No such path; POST to / or /generate-keys.')),
  );
  app.onError(problemHandler(logger));
  return app;
}
