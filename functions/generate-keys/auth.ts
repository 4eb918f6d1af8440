import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import {
  binaryAttribute,
  HttpProblem,
  isCloudEventRequest,
  mediaTypeEssence,
} from '../../shared/index.ts';

/** The bearer tokens generate-keys accepts, kept only as SHA-256 hashes. */
export interface ApiTokens {
  /** The id of the token presented (a prefix of its hash, for rate limits), or undefined. */
  verify(presented: string): string | undefined;
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/** Reads `sha256:HEX` lines (or raw tokens) into the hashes that verify compares against. */
export function tokenHashes(entries: readonly string[]): Buffer[] {
  return entries.map((entry) => {
    const hashed = /^sha256:([0-9a-f]{64})$/i.exec(entry);
    return hashed ? Buffer.from(hashed[1]!, 'hex') : sha256(entry);
  });
}

/**
 * Builds the token check. The presented token is hashed and compared with every stored hash in
 * constant time, with no early exit, so neither a match nor its position shows in the timing.
 */
export function createApiTokens(hashes: readonly Buffer[]): ApiTokens {
  return {
    verify(presented) {
      const candidate = sha256(presented);
      let found: Buffer | undefined;
      for (const hash of hashes) {
        if (timingSafeEqual(candidate, hash) && !found) found = hash;
      }
      return found?.subarray(0, 6).toString('hex');
    },
  };
}

/** What the auth middleware checks. */
export interface AuthOptions {
  /** undefined when authentication is switched off (TRIKEY_AUTH=off). */
  tokens: ApiTokens | undefined;
  /**
   * CloudEvent sources accepted without a bearer token: the broker delivers events without one.
   * Empty means none, undefined means any (only with authentication off).
   */
  allowedSources: readonly string[] | undefined;
}

/** The variable the auth middleware sets for the rate limit: who is asking. */
export type ClientVariables = { Variables: { client: string } };

/** No authentication and any event source: for tests, and for `npm start` on loopback. */
export const authOff: AuthOptions = Object.freeze({ tokens: undefined, allowedSources: undefined });

/**
 * Requires `Authorization: Bearer TOKEN` (RFC 6750) on every request once tokens are set, and
 * checks a CloudEvent's `source` against the allowed list. Sets `client` to the token id, or to
 * the event source, for the rate limit.
 */
export function requireAuth(options: AuthOptions): MiddlewareHandler<ClientVariables> {
  return async (c, next) => {
    const header = c.req.header('authorization');
    // The scheme is case-insensitive (RFC 9110 section 11.1); the token is not.
    const bearer = /^Bearer +([\x21-\x7e]+)$/i.exec(header ?? '')?.[1];
    const tokenId = bearer && options.tokens ? options.tokens.verify(bearer) : undefined;
    if (tokenId) {
      c.set('client', `token:${tokenId}`);
      return next();
    }
    if (isCloudEventRequest(c.req.raw.headers) && !header) {
      const source = cloudEventSource(c.req.raw.headers, await c.req.raw.clone().text());
      const allowed = options.allowedSources;
      if (source && allowed?.includes(source)) {
        c.set('client', `source:${source}`);
        return next();
      }
      if (source && !allowed && !options.tokens) {
        // Any source may ask, but a source named at will must not earn a bucket of its own.
        c.set('client', 'anonymous');
        return next();
      }
      if (source && allowed) {
        throw new HttpProblem(
          401,
          'The CloudEvent source is not allowed.',
          [
            {
              pointer: '/source',
              detail: 'is not one of the sources allowed to request ceremonies',
            },
          ],
          { 'www-authenticate': 'Bearer' },
        );
      }
    }
    if (!options.tokens) {
      c.set('client', 'anonymous');
      return next();
    }
    const detail = header ? 'The bearer token is not valid.' : 'Send Authorization: Bearer TOKEN.';
    throw new HttpProblem(401, detail, [], { 'www-authenticate': 'Bearer' });
  };
}

// The source attribute, read before the event itself is parsed, from where and as the handler
// will read it: the body in structured mode (a ce-source header there is not the event's), the
// header in binary mode, percent-decoded as the HTTP binding asks.
function cloudEventSource(headers: Headers, body: string): string | undefined {
  if (!mediaTypeEssence(headers.get('content-type')).startsWith('application/cloudevents')) {
    return binaryAttribute(headers, 'source');
  }
  try {
    const source = (JSON.parse(body) as { source?: unknown }).source;
    return typeof source === 'string' ? source : undefined;
  } catch {
    return undefined;
  }
}
