import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HttpProblem } from './problem.ts';

/**
 * Guards a route's request body: a compressed body is a 415 (it would be read as garbage), and
 * a body over `maxBytes` is a 413, whether or not it announced its length.
 */
export function guardBody(maxBytes: number): MiddlewareHandler {
  const limit = bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new HttpProblem(413, `The body is larger than ${maxBytes} bytes.`);
    },
  });
  return async (c, next) => {
    const encoding = c.req.header('content-encoding')?.trim().toLowerCase();
    if (encoding && encoding !== 'identity') {
      throw new HttpProblem(415, 'Compressed bodies are not accepted; send the body as it is.');
    }
    return limit(c, next);
  };
}
