import http from 'node:http';
import https from 'node:https';

/** What a POST is sent with; `timeoutMs` bounds the whole exchange, answer body included. */
export interface PostOptions {
  headers: Record<string, string>;
  body: string | Buffer;
  timeoutMs: number;
  /** Ends the exchange early, as a shutdown does. */
  signal?: AbortSignal;
  /** Keep the answer's body, up to this many bytes; by default it is read and dropped. */
  keepBodyBytes?: number;
}

/** The answer to a POST: its status, headers and (when asked for) body. */
export interface PostAnswer {
  status: number;
  headers: Headers;
  body: Buffer;
  /** True when the body ran past `keepBodyBytes`: `body` is then empty, the rest was dropped. */
  tooLarge: boolean;
}

/** Why a POST got no answer. */
export type PostFailure = 'timeout' | 'aborted' | 'network';

/** A POST that ended without an answer; `failure` says why and `code` is the socket's error. */
export class PostError extends Error {
  constructor(
    readonly failure: PostFailure,
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'PostError';
  }
}

// One keep-alive pool per scheme for the whole process. Node's fetch costs about ten times the
// CPU of http.request for the same small POST here (about 280 µs against 27), and every
// ceremony makes several, so the hot paths post through these instead.
const agents = {
  'http:': new http.Agent({ keepAlive: true, scheduling: 'lifo' }),
  'https:': new https.Agent({ keepAlive: true, scheduling: 'lifo' }),
};

/**
 * POSTs a body and resolves with the answer, whatever its status; rejects with a PostError for
 * a timeout, an abort or a network error, all within `timeoutMs`.
 *
 * A kept-alive socket may be closed by the server just as a request goes out on it. When such a
 * socket fails before any answer begins, the request is sent once more on a new socket, as
 * Node's documentation advises, within what is left of `timeoutMs`. Note: a server that read
 * the request and then dropped the socket without answering gets it twice; every event posted
 * here carries its id, and each receiver takes a repeated id as the same event.
 */
export async function post(url: string | URL, options: PostOptions): Promise<PostAnswer> {
  const target = typeof url === 'string' ? new URL(url) : url;
  const deadline = performance.now() + options.timeoutMs;
  const attempt = await postOnce(target, options, deadline);
  if (!(attempt instanceof StaleSocket)) return attempt;
  const again = await postOnce(target, options, deadline);
  if (again instanceof StaleSocket) throw again.error;
  return again;
}

// A kept-alive socket that failed before its answer began: worth one more try.
class StaleSocket {
  constructor(readonly error: PostError) {}
}

function postOnce(url: URL, options: PostOptions, deadline: number) {
  const { signal, keepBodyBytes = 0 } = options;
  const module = url.protocol === 'https:' ? https : http;
  const agent = agents[url.protocol as keyof typeof agents];
  if (!agent) return Promise.reject(new PostError('network', `cannot POST to ${url.protocol}`));
  if (signal?.aborted) return Promise.reject(new PostError('aborted', 'stopped before sending'));
  const timeoutMs = Math.max(0, deadline - performance.now());

  return new Promise<PostAnswer | StaleSocket>((resolve, reject) => {
    const request = module.request(url, {
      method: 'POST',
      agent,
      headers: { ...options.headers, 'content-length': String(Buffer.byteLength(options.body)) },
    });
    let answered = false;
    let settled = false;
    const settle = (outcome: PostAnswer | StaleSocket | PostError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (outcome instanceof PostError) reject(outcome);
      else resolve(outcome);
    };
    // Settles first and destroys after, so that no event of the request can decide otherwise.
    const fail = (error: PostError) => {
      settle(error);
      request.destroy();
    };
    const timer = setTimeout(
      () => fail(new PostError('timeout', `no answer within ${options.timeoutMs} ms`)),
      timeoutMs,
    );
    const onAbort = () => fail(new PostError('aborted', 'stopped'));
    signal?.addEventListener('abort', onAbort, { once: true });

    request.on('error', (error: NodeJS.ErrnoException) => {
      const failure = new PostError('network', error.code ?? error.message, error.code);
      const stale = request.reusedSocket && !answered && error.code === 'ECONNRESET';
      settle(stale ? new StaleSocket(failure) : failure);
    });
    // A 101 answer hands the socket over and fires neither `response` nor `error`.
    request.on('upgrade', (_response, socket) => {
      socket.destroy();
      fail(new PostError('network', 'the server switched protocols instead of answering'));
    });
    request.on('response', (response) => {
      answered = true;
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= keepBodyBytes) chunks.push(chunk);
      });
      response.on('error', () => {});
      response.on('end', () => {
        const tooLarge = size > keepBodyBytes && keepBodyBytes > 0;
        let headers: Headers | undefined;
        settle({
          status: response.statusCode ?? 0,
          // Built when read: only the bridge's deliveries look at an answer's headers.
          get headers() {
            return (headers ??= headersOf(response.headers));
          },
          body: tooLarge ? Buffer.alloc(0) : Buffer.concat(chunks),
          tooLarge,
        });
      });
      response.on('close', () => {
        if (!response.complete) fail(new PostError('network', 'the answer was cut off'));
      });
    });
    request.end(options.body);
  });
}

function headersOf(raw: http.IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    for (const each of Array.isArray(value) ? value : [value]) headers.append(name, each);
  }
  return headers;
}
