import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HttpProblem } from './problem.ts';

/**
 * Guards a route's request body: a compressed body is a 415 (it would be read as garbage), and
 * a body over `maxBytes` is a 413, whether or not it announced its length.
 *
 * A body with a Content-Length is judged by the header alone: Node's parser reads exactly that
 * many bytes. Hono's bodyLimit would check the same header, but only after asking for the body
 * stream, which makes @hono/node-server build a whole web Request (about a tenth of a small
 * POST's cost) that reading the body as text no longer needs. Chunked bodies go to bodyLimit,
 * which counts them as they come.
 */
export function guardBody(maxBytes: number): MiddlewareHandler {
  const tooLarge = () => new HttpProblem(413, `The body is larger than ${maxBytes} bytes.`);
  const limit = bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw tooLarge();
    },
  });
  return async (c, next) => {
    const encoding = c.req.header('content-encoding')?.trim().toLowerCase();
    if (encoding && encoding !== 'identity') {
      throw new HttpProblem(415, 'Compressed bodies are not accepted; send the body as it is.');
    }
    const length = c.req.header('content-length');
    if (length !== undefined && c.req.header('transfer-encoding') === undefined) {
      if (Number(length) > maxBytes) throw tooLarge();
      return next();
    }
    return limit(c, next);
  };
}
