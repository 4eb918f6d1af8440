import type { MiddlewareHandler } from 'hono';
import { HttpProblem } from '../../shared/index.ts';
import type { ClientVariables } from './auth.ts';

/** Settings of the rate limit: a bucket of `burst` requests per client, refilled per minute. */
export interface RateLimitOptions {
  perMinute: number;
  burst: number;
  /** Most clients tracked; the least recently seen go first. */
  maxClients?: number;
  now?: () => number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Limits each client (the `client` variable the auth middleware sets) to `perMinute` requests a
 * minute with bursts of `burst`, answering 429 with `Retry-After` beyond. A token bucket: short
 * enough to write here rather than take a middleware that keys clients by address, when Trikey
 * keys them by API token.
 */
export function rateLimit(options: RateLimitOptions): MiddlewareHandler<ClientVariables> {
  const buckets = new Map<string, Bucket>();
  const now = options.now ?? Date.now;
  const perMs = options.perMinute / 60_000;
  const maxClients = options.maxClients ?? 10_000;

  return async (c, next) => {
    const client = c.get('client') ?? 'anonymous';
    const at = now();
    const previous = buckets.get(client) ?? { tokens: options.burst, at };
    const tokens = Math.min(options.burst, previous.tokens + (at - previous.at) * perMs);
    buckets.delete(client);
    if (tokens < 1) {
      buckets.set(client, { tokens, at });
      const seconds = Math.max(1, Math.ceil((1 - tokens) / perMs / 1000));
      throw new HttpProblem(429, `Too many requests; try again in ${seconds} s.`, [], {
        'retry-after': String(seconds),
      });
    }
    buckets.set(client, { tokens: tokens - 1, at });
    while (buckets.size > maxClients) buckets.delete(buckets.keys().next().value!);
    return next();
  };
}
