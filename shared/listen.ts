import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
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
  app: Hono,
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
  });
}
