import type { Logger, OutgoingEvent, SinkAnswer } from '../../shared/index.ts';

/** Publishes `dev.trikey.ceremony.voided` events in the background until the broker takes them. */
export interface Voider {
  /** Queues a voided event and tries to publish it at once. */
  submit(event: OutgoingEvent): void;
  /** Events not yet published. */
  readonly pending: number;
  /** Waits up to `timeoutMs` for the pending events; resolves with how many are left. */
  drain(timeoutMs: number): Promise<number>;
}

/** Settings of the voider. */
export interface VoiderOptions {
  sink: string;
  emit: (sink: string, event: OutgoingEvent, timeoutMs: number) => Promise<SinkAnswer>;
  publishTimeoutMs: number;
  /** How long to keep trying one event before giving up and logging an error. */
  giveUpAfterMs: number;
  logger: Logger;
  firstDelayMs?: number;
  maxDelayMs?: number;
}

/**
 * Builds the voider. A ceremony refused after some of its shares were accepted must be voided,
 * or those custodians would hold a share of a key nobody can rebuild; the broker that refused
 * the shares is often still down, so the voided event is retried with backoff.
 */
export function createVoider(options: VoiderOptions): Voider {
  const { sink, emit, publishTimeoutMs, giveUpAfterMs, logger } = options;
  const firstDelayMs = options.firstDelayMs ?? 500;
  const maxDelayMs = options.maxDelayMs ?? 10_000;
  const pending = new Set<Promise<void>>();

  const publish = async (event: OutgoingEvent) => {
    const started = Date.now();
    let delayMs = firstDelayMs;
    for (let attempt = 1; ; attempt++) {
      const answer = await emit(sink, event, publishTimeoutMs);
      const fields = { ceremonyId: event.subject, eventId: event.id, eventType: event.type };
      if (answer.ok) {
        logger.info('ceremony voided', { ...fields, attempts: attempt });
        return;
      }
      if (Date.now() - started + delayMs > giveUpAfterMs) {
        logger.error('ceremony could not be voided: its accepted shares stand', {
          ...fields,
          attempts: attempt,
          status: answer.status,
        });
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      delayMs = Math.min(delayMs * 2, maxDelayMs);
    }
  };

  return {
    submit(event) {
      const task = publish(event).finally(() => pending.delete(task));
      pending.add(task);
    },
    get pending() {
      return pending.size;
    },
    async drain(timeoutMs) {
      const deadline = new Promise((resolve) => setTimeout(resolve, timeoutMs).unref());
      await Promise.race([Promise.all(pending), deadline]);
      return pending.size;
    },
  };
}
