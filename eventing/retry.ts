import { setTimeout as sleep } from 'node:timers/promises';
import { PostError } from '../shared/index.ts';
import { backoffMs, type Delivery } from './triggers.ts';

/** The outcome of one POST: taken, worth another try, or refused for good. */
export interface Attempt {
  outcome: 'delivered' | 'retry' | 'final';
  status: number;
  reason: string;
}

// Knative retries these and every 5xx; any other 3xx or 4xx is final at once.
const retriedStatuses = new Set([404, 408, 409, 429]);

/** The attempt a non-2xx answer of `who` (a subscriber, a sink) makes. */
export function answered(status: number, who: string): Attempt {
  const retried = status >= 500 || retriedStatuses.has(status);
  return { outcome: retried ? 'retry' : 'final', status, reason: `${who} answered ${status}` };
}

/** The attempt a request with no answer makes, after a timeout or a network error: retried. */
export function unanswered(error: unknown, timeoutMs: number): Attempt {
  const timedOut = error instanceof PostError && error.failure === 'timeout';
  const reason = timedOut ? `no answer within ${timeoutMs} ms` : `network error: ${cause(error)}`;
  return { outcome: 'retry', status: 0, reason };
}

/**
 * Makes an attempt, then more per the delivery spec's retry count and backoff while each asks
 * for a retry; a `signal` that aborts ends the waiting and the attempts.
 */
export async function withRetries(
  delivery: Delivery,
  signal: AbortSignal,
  attemptOnce: () => Promise<Attempt>,
): Promise<{ attempt: Attempt; attempts: number }> {
  let attempts = 0;
  for (;;) {
    attempts += 1;
    const attempt = await attemptOnce();
    if (attempt.outcome !== 'retry' || attempts > delivery.retry) return { attempt, attempts };
    await sleep(backoffMs(delivery, attempts), undefined, { signal }).catch(() => {});
    if (signal.aborted) return { attempt, attempts };
  }
}

function cause(error: unknown): string {
  if (error instanceof PostError) return error.code ?? error.message;
  return error instanceof Error ? error.message : String(error);
}
