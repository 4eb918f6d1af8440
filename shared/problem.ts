import type { Logger } from './logger.ts';

/** One reason a request was refused: a JSON Pointer to the field (RFC 6901) and what is wrong. */
export interface FieldError {
  pointer: string;
  detail: string;
}

/** An RFC 9457 problem details body, with `errors` naming each bad field. */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

const titles: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  405: 'Method Not Allowed',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

/**
 * The one error type that the functions throw for a refusal the caller should see. Its message
 * and field errors go into the response body, so they must never hold key or share material.
 */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors: FieldError[] = [],
    readonly headers: Record<string, string> = {},
    /** Extension members of the problem body (RFC 9457 section 3.2), such as `ceremonyId`. */
    readonly extensions: Record<string, string | number> = {},
  ) {
    super(message);
    this.name = 'HttpProblem';
  }
}

/** Media type of every error body. */
export const problemMediaType = 'application/problem+json';

/** Builds the problem body for an error: an HttpProblem as it is, anything else as a bare 500. */
export function toProblem(error: unknown): ProblemBody {
  if (error instanceof HttpProblem) {
    const body: ProblemBody = {
      ...error.extensions,
      type: 'about:blank',
      title: titles[error.status] ?? 'Error',
      status: error.status,
      detail: error.message,
    };
    if (error.errors.length > 0) body.errors = error.errors;
    return body;
  }
  return { type: 'about:blank', title: titles[500]!, status: 500, detail: 'Internal error.' };
}

/** Turns an error into a problem+json Response. The only place that does so. */
export function problemResponse(error: unknown): Response {
  const body = toProblem(error);
  const headers = new Headers({ 'content-type': problemMediaType });
  if (error instanceof HttpProblem) {
    for (const [name, value] of Object.entries(error.headers)) headers.set(name, value);
  }
  return new Response(JSON.stringify(body), { status: body.status, headers });
}

/**
 * The error handler of every app: logs a refusal (5xx at warn) or a failure, never its input,
 * and answers with its problem+json.
 */
export function problemHandler(logger: Logger): (error: Error) => Response {
  return (error) => {
    if (error instanceof HttpProblem) {
      const level = error.status >= 500 ? 'warn' : 'info';
      logger[level]('request refused', { status: error.status, detail: error.message });
    } else {
      logger.error('request failed', { error: error.name });
    }
    return problemResponse(error);
  };
}

/** The answer to a method other than POST on a POST-only path. */
export function methodNotAllowed(): Response {
  return problemResponse(
    new HttpProblem(405, 'Only POST is accepted here.', [], { allow: 'POST' }),
  );
}
