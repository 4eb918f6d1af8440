import { serve, type ServerType } from '@hono/node-server';
import { STATUS_CODES } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { HttpProblem, problemMediaType, toProblem } from './problem.ts';
import type { Hono } from 'hono';

/** Where and how long: the settings of a listening function. */
export interface ListenOptions {
  port: number;
  host: string;
  /** Longest time a client may take to send its request, headers and body included. */
  requestTimeoutMs: number;
}

/**
 * Serves an app on a real socket, with timeouts on slow clients: a client that dribbles its
 * headers or body is answered 408 and cut off instead of holding a connection forever.
 */
export async function listen(
  app: { fetch: Hono['fetch'] },
  options: ListenOptions,
): Promise<{ server: ServerType; port: number }> {
  return new Promise((resolve) => {
    const server = serve(
      {
        fetch: app.fetch,
        port: options.port,
        hostname: options.host,
        serverOptions: {
          requestTimeout: options.requestTimeoutMs,
          headersTimeout: Math.min(options.requestTimeoutMs, 10_000),
          keepAliveTimeout: 5_000,
          // Node looks for requests past their time every 30 s unless told otherwise.
          connectionsCheckingInterval: 500,
        },
      },
      (info: AddressInfo) => resolve({ server, port: info.port }),
    );
    server.on('clientError', answerClientError);
  });
}

// Node answers a request it could not read (too slow, headers too large, malformed) with a bare
// status line; with a listener, the answer is a problem like every other refusal.
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (!socket.writable) return void socket.destroy();
  const status =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? 408
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? 431
        : 400;
  const detail =
    status === 408
      ? 'The request was not sent in time.'
      : status === 431
        ? 'The request headers are too large.'
        : 'The request could not be read as HTTP.';
  const body = JSON.stringify(toProblem(new HttpProblem(status, detail)));
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: ${problemMediaType}\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
