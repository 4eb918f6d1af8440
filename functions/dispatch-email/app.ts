import { Hono, type Context } from 'hono';
import {
  EventSources,
  EventTypes,
  guardBody,
  HttpProblem,
  isCloudEventRequest,
  methodNotAllowed,
  problemHandler,
  problemResponse,
  readCloudEvent,
  toBinary,
  type Logger,
  type ReceivedEvent,
  type SealedShare,
  type ShareOutcomeData,
  type TransportKey,
} from '../../shared/index.ts';
import { renderShareEmail } from './email.ts';
import type { Ledger, SentShare } from './ledger.ts';
import type { Mailbox, SendEmail, SendResult } from './mailer.ts';
import { renderFailureNotice, renderVoidNotice } from './notices.ts';
import { openShareEvent, openVoidedEvent } from './share.ts';

/** What the dispatch-email app is built from. */
export interface DispatchEmailDeps {
  transportKeys: readonly TransportKey[];
  maxBodyBytes: number;
  logger: Logger;
  send: SendEmail;
  ledger: Ledger;
}

/**
 * Builds dispatch-email. `POST /` takes `dev.trikey.share.issued` (emails the share inside its
 * seal, once per event id, and replies `share.delivered`, or `share.failed` when SES refuses it
 * for good and the admin is told) and `dev.trikey.ceremony.voided` (tells the custodians already
 * emailed that their share is void). `POST /dead-letter` takes a share event the broker gave up
 * on and tells the admin. A failure worth retrying is a 503, which the broker retries.
 */
export function createDispatchEmailApp(deps: DispatchEmailDeps): Hono {
  const app = new Hono();
  const { logger, ledger, send, transportKeys } = deps;

  app.get('/health/liveness', (c) => c.body(null, 204));
  app.get('/health/readiness', (c) => c.body(null, 204));

  const limit = guardBody(deps.maxBodyBytes);

  const receive = async (c: Context): Promise<ReceivedEvent> => {
    const headers = c.req.raw.headers;
    if (!isCloudEventRequest(headers)) {
      throw new HttpProblem(415, 'dispatch-email takes CloudEvents in binary or structured mode.');
    }
    return readCloudEvent(headers, await c.req.text());
  };

  // Sends a notice once per key; a failure worth retrying gives the key back and asks the
  // broker to try again.
  const notify = async (key: string, to: Mailbox, email: ReturnType<typeof renderVoidNotice>) => {
    if (!ledger.claimNotice(key)) return;
    const result = await send(to, email);
    if (result.ok) return;
    logger.warn('notice not sent', { notice: key, reason: result.reason });
    if (result.retryable) {
      ledger.releaseNotice(key);
      throw new HttpProblem(503, 'The email service did not take a notice; try again later.');
    }
  };

  const tellVoided = async (share: SentShare, reason: string) => {
    await notify(`void:${share.eventId}`, share.custodian, renderVoidNotice(share, reason));
  };

  const tellAdmin = async (key: string, share: SealedShare, reason: string) => {
    const email = renderFailureNotice(share, share.admin, reason);
    await notify(key, share.admin, email);
  };

  const reply = (c: Context, event: ReceivedEvent, share: SealedShare, result: SendResult) => {
    const outcome: ShareOutcomeData = {
      ceremonyId: share.ceremonyId,
      keyId: share.keyId,
      shareNumber: share.shareNumber,
    };
    if (result.ok) outcome.messageId = result.messageId;
    else outcome.reason = result.reason;
    const message = toBinary({
      id: `${event.id}-${result.ok ? 'delivered' : 'failed'}`,
      type: result.ok ? EventTypes.shareDelivered : EventTypes.shareFailed,
      source: EventSources.dispatchEmail,
      subject: share.ceremonyId,
      data: outcome,
    });
    return c.body(message.body, 200, message.headers);
  };

  const emailShare = async (c: Context, event: ReceivedEvent, started: number) => {
    const share = openShareEvent(event, transportKeys);
    const fields = { ceremonyId: share.ceremonyId, eventId: event.id, eventType: event.type };

    const voidReason = ledger.voided(share.ceremonyId);
    if (voidReason !== undefined) {
      logger.info('share not sent: its ceremony is void', fields);
      return reply(c, event, share, {
        ok: false,
        retryable: false,
        reason: `the ceremony was voided: ${voidReason}`,
      });
    }
    const earlier = ledger.sent(event.id);
    if (earlier) {
      logger.info('share event delivered again: not emailed twice', fields);
      return reply(c, event, share, { ok: true, messageId: earlier.messageId });
    }

    const result = await ledger.sendOnce(event.id, async () => {
      const sent = await send(share.custodian, renderShareEmail(share));
      if (sent.ok) ledger.recordSent(sentFacts(share, event.id, sent.messageId));
      return sent;
    });
    const durationMs = Math.round(performance.now() - started);
    if (result.ok) {
      logger.info('share emailed', { ...fields, shareNumber: share.shareNumber, durationMs });
      // The void may have come while this share was on its way.
      const reason = ledger.voided(share.ceremonyId);
      const sent = ledger.sent(event.id);
      if (reason !== undefined && sent) await tellVoided(sent, reason);
    } else if (result.retryable) {
      logger.warn('share not sent, will be retried', {
        ...fields,
        reason: result.reason,
        durationMs,
      });
      throw new HttpProblem(503, 'The email service did not take the message; try again later.');
    } else {
      logger.warn('share failed for good', { ...fields, reason: result.reason, durationMs });
      await tellAdmin(`failed:${event.id}`, share, result.reason);
    }
    return reply(c, event, share, result);
  };

  const voidCeremony = async (c: Context, event: ReceivedEvent) => {
    const voided = openVoidedEvent(event, transportKeys);
    ledger.recordVoided(voided.ceremonyId, voided.reason);
    const emailed = ledger.sentOf(voided.ceremonyId);
    logger.info('ceremony voided', {
      ceremonyId: voided.ceremonyId,
      eventId: event.id,
      sharesAlreadyEmailed: emailed.length,
    });
    for (const share of emailed) await tellVoided(share, voided.reason);
    return c.body(null, 204);
  };

  app.post('/', limit, async (c) => {
    const started = performance.now();
    const event = await receive(c);
    if (event.type === EventTypes.shareIssued) return emailShare(c, event, started);
    if (event.type === EventTypes.ceremonyVoided) return voidCeremony(c, event);
    const accepted = `${EventTypes.shareIssued} or ${EventTypes.ceremonyVoided}`;
    throw new HttpProblem(400, `dispatch-email takes events of type ${accepted}.`, [
      { pointer: '/type', detail: `must be ${accepted}` },
    ]);
  });

  // Knative's dead-letter sink: the broker gave up on this event after its last retry.
  app.post('/dead-letter', limit, async (c) => {
    const event = await receive(c);
    if (event.type !== EventTypes.shareIssued) {
      logger.warn('dead letter of another type left in the dead-letter queue', {
        eventId: event.id,
        eventType: event.type,
      });
      return c.body(null, 204);
    }
    const share = openShareEvent(event, transportKeys);
    const fields = { ceremonyId: share.ceremonyId, eventId: event.id, eventType: event.type };
    if (ledger.sent(event.id) || ledger.voided(share.ceremonyId) !== undefined) {
      logger.info('dead letter of a share already emailed or voided: admin not told', fields);
      return c.body(null, 204);
    }
    const attempts = Number(event['trikeyattempts']) || undefined;
    const cause = String(event['trikeydeadletterreason'] ?? event['knativeerrorcode'] ?? 'unknown')
      .replace(/[\u0000-\u001f\u007f]/g, ' ')
      .slice(0, 200);
    const reason = attempts ? `${cause} (after ${attempts} attempts)` : cause;
    logger.warn('share dead-lettered: telling the admin', { ...fields, reason });
    await tellAdmin(`dead:${event.id}`, share, reason);
    return c.body(null, 204);
  });

  app.all('/', methodNotAllowed);
  app.all('/dead-letter', methodNotAllowed);
  app.notFound(() => problemResponse(new HttpProblem(404, 'No such path; POST CloudEvents to /.')));
  app.onError(problemHandler(logger));
  return app;
}

// What the ledger keeps of an emailed share: named fields only, so the token never gets in.
function sentFacts(share: SealedShare, eventId: string, messageId: string): Omit<SentShare, 'at'> {
  const { ceremonyId, keyId, shareNumber, total, custodian, label, locale } = share;
  return { eventId, ceremonyId, keyId, shareNumber, total, custodian, label, locale, messageId };
}
