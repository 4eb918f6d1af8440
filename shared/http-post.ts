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
}

/** Why a POST got no usable answer. */
export type PostFailure = 'timeout' | 'aborted' | 'network' | 'too-large';

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
 * a timeout, an abort, a network error or a kept body over its limit. A request on a kept-alive
 * socket that the server closed meanwhile is sent once more on a new one, as Node's
 * documentation advises, since nothing of it was read.
 */
export async function post(url: string | URL, options: PostOptions): Promise<PostAnswer> {
  const target = typeof url === 'string' ? new URL(url) : url;
  try {
    return await postOnce(target, options);
  } catch (error) {
    if (!(error instanceof StaleSocketError)) throw error;
    return await postOnce(target, options);
  }
}

class StaleSocketError extends Error {}

function postOnce(url: URL, options: PostOptions): Promise<PostAnswer> {
  const { signal, keepBodyBytes = 0 } = options;
  const module = url.protocol === 'https:' ? https : http;
  const agent = agents[url.protocol as keyof typeof agents];
  if (!agent) return Promise.reject(new PostError('network', `cannot POST to ${url.protocol}`));
  if (signal?.aborted) return Promise.reject(new PostError('aborted', 'stopped before sending'));

  return new Promise<PostAnswer>((resolve, reject) => {
    const request = module.request(url, {
      method: 'POST',
      agent,
      headers: { ...options.headers, 'content-length': String(Buffer.byteLength(options.body)) },
    });
    let failure: PostError | StaleSocketError | undefined;
    const end = (error: PostError | StaleSocketError) => {
      failure ??= error;
      request.destroy();
    };
    const timer = setTimeout(
      () => end(new PostError('timeout', `no answer within ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
    const onAbort = () => end(new PostError('aborted', 'stopped'));
    signal?.addEventListener('abort', onAbort, { once: true });
    const finish = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };

    request.on('error', (error: NodeJS.ErrnoException) => {
      finish();
      if (failure) return reject(failure);
      if (request.reusedSocket && error.code === 'ECONNRESET') {
        return reject(new StaleSocketError());
      }
      reject(new PostError('network', error.code ?? error.message, error.code));
    });
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > keepBodyBytes) {
          if (keepBodyBytes > 0)
            end(new PostError('too-large', `answer over ${keepBodyBytes} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      response.on('error', () => {});
      response.on('end', () => {
        finish();
        if (failure) return reject(failure);
        resolve({
          status: response.statusCode ?? 0,
          headers: headersOf(response.headers),
          body: Buffer.concat(chunks),
        });
      });
      response.on('close', () => {
        if (!response.complete) {
          finish();
          reject(failure ?? new PostError('network', 'the answer was cut off'));
        }
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
